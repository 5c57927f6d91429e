package diff

import (
	"reflect"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// compareSides compares the objects one side of a --no-live run has
// (base) with the other's (head), by objectKey: only the head has it is
// created, a YAML that differs is drifted, only the base has it is
// deleted when gone(o) says the apply removes it. obj makes the result
// of an object (its cluster, Kustomization, HelmRelease); unchanged
// objects are only counted. Secret values are masked, changed ones
// marked "*** (before)" / "*** (after)" as ssa's Diff marks them.
func compareSides(base, head []*unstructured.Unstructured, gone func(*unstructured.Unstructured) bool,
	obj func(*unstructured.Unstructured, Action) ObjectResult, counts *Counts) []ObjectResult {
	before := map[string]*unstructured.Unstructured{}
	for _, o := range base {
		before[objectKey(o)] = o
	}
	var out []ObjectResult
	for _, o := range head {
		k := objectKey(o)
		old := before[k]
		delete(before, k)
		// Equal objects give equal YAML: only the others are marshalled
		// (most of a large build is unchanged).
		if old != nil && (reflect.DeepEqual(old.Object, o.Object) || toYAML(old) == toYAML(o)) {
			counts.add(ActionUnchanged)
			continue
		}
		a := ActionCreated
		if old != nil {
			a = ActionDrifted
		}
		or := obj(o, a)
		from, to := maskPair(old, o)
		or.Diff = Unified(toYAML(from), toYAML(to), "base", "head")
		or.observe(old, o)
		out = append(out, or)
	}
	for _, o := range before {
		if gone(o) {
			or := obj(o, ActionDeleted)
			or.Diff = Unified(toYAML(mask(o)), "", "base", "head")
			or.observe(o, nil)
			out = append(out, or)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	for _, o := range out {
		counts.add(o.Action)
	}
	return out
}

// maskPair masks two versions of an object for their diff: a Secret's
// values are Masked, those that differ between the two (or exist in one
// only) marked "*** (before)" and "*** (after)".
func maskPair(before, after *unstructured.Unstructured) (*unstructured.Unstructured, *unstructured.Unstructured) {
	if before == nil || after == nil || after.GetKind() != "Secret" || after.GroupVersionKind().Group != "" {
		return mask(before), mask(after)
	}
	b, a := before.DeepCopy(), after.DeepCopy()
	for _, field := range []string{"data", "stringData"} {
		bm, _, _ := unstructured.NestedMap(b.Object, field)
		am, _, _ := unstructured.NestedMap(a.Object, field)
		for k, v := range bm {
			if av, ok := am[k]; ok && reflect.DeepEqual(av, v) {
				bm[k], am[k] = Masked, Masked
				continue
			}
			bm[k] = Masked + " (before)"
		}
		for k := range am {
			if s, _ := am[k].(string); s != Masked {
				am[k] = Masked + " (after)"
			}
		}
		if bm != nil {
			_ = unstructured.SetNestedMap(b.Object, bm, field)
		}
		if am != nil {
			_ = unstructured.SetNestedMap(a.Object, am, field)
		}
	}
	return b, a
}
