package diff

import (
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// FieldOwner is a field manager other than the applier (kustomize-controller,
// or helm-controller for rendered objects) that owns, in the live object's
// managedFields, fields the change sets. Flux applies with forced
// ownership: their values are overwritten and the fields taken over.
type FieldOwner struct {
	Manager string `json:"manager"`
	// Operation is Apply or Update, as in managedFields.
	Operation string `json:"operation,omitempty"`
	// Fields are the changed fields it owns, e.g. ".spec.replicas".
	Fields []string `json:"fields"`
}

// otherOwners returns the managers other than self whose fields in the
// live object's managedFields (withFields) differ between live and merged
// (the dry-run result). Status managers are left out.
func otherOwners(withFields, live, merged *unstructured.Unstructured, self string) []FieldOwner {
	if withFields == nil || live == nil || merged == nil {
		return nil
	}
	var changed []string
	changedPaths(live.Object, merged.Object, "", &changed)
	if len(changed) == 0 {
		return nil
	}
	var out []FieldOwner
	for _, mf := range withFields.GetManagedFields() {
		if mf.Manager == self || mf.Subresource != "" || mf.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(mf.FieldsV1.GetRawReader()); err != nil {
			continue
		}
		var owned []string
		set.Iterate(func(p fieldpath.Path) { owned = append(owned, p.String()) })
		fields := map[string]bool{}
		for _, c := range changed {
			for _, o := range owned {
				if pathPrefix(c, o) || pathPrefix(o, c) {
					fields[c] = true
					break
				}
			}
		}
		if len(fields) == 0 {
			continue
		}
		fo := FieldOwner{Manager: mf.Manager, Operation: string(mf.Operation)}
		for f := range fields {
			fo.Fields = append(fo.Fields, f)
		}
		sort.Strings(fo.Fields)
		out = append(out, fo)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Manager < out[j].Manager })
	return out
}

// changedPaths collects the paths (fieldpath notation, ".spec.replicas")
// where a and b differ: maps are descended into, anything else (lists,
// scalars, a field only on one side) is a changed leaf.
func changedPaths(a, b map[string]any, prefix string, out *[]string) {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for k := range keys {
		p := prefix + "." + k
		if p == ".metadata.managedFields" || p == ".metadata.resourceVersion" || p == ".metadata.generation" || p == ".status" {
			continue
		}
		av, bv := a[k], b[k]
		am, aok := av.(map[string]any)
		bm, bok := bv.(map[string]any)
		switch {
		case aok && bok:
			changedPaths(am, bm, p, out)
		case !reflect.DeepEqual(av, bv):
			*out = append(*out, p)
		}
	}
}

// pathPrefix reports whether path p starts with the whole path pre.
func pathPrefix(p, pre string) bool {
	if !strings.HasPrefix(p, pre) {
		return false
	}
	return len(p) == len(pre) || p[len(pre)] == '.' || p[len(pre)] == '['
}
