package fleet

// Namespace is the hub namespace discovery was limited to ("" for all):
// what else is read of the hub (ResourceSets) keeps to it.
func (f *Fleet) Namespace() string { return f.opts.Namespace }

// FluxNamespace is where the Flux controllers run: whose service accounts
// stand in for theirs (workload identity without serviceAccountName).
func (f *Fleet) FluxNamespace() string {
	if f.opts.FluxNamespace == "" {
		return DefaultFluxNamespace
	}
	return f.opts.FluxNamespace
}
