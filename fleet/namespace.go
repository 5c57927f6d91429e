package fleet

// Namespace is the hub namespace discovery was limited to ("" for all):
// what else is read of the hub (ResourceSets) keeps to it.
func (f *Fleet) Namespace() string { return f.opts.Namespace }
