package diff

import (
	"reflect"
	"testing"

	"github.com/fluxcd/pkg/ssa/normalize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestNormalizedCopy: the shallow copy of a kind the client-go scheme does
// not know is what ssa/normalize makes of a deep copy, for custom
// resources (status dropped), objects without metadata or with a null
// one, and typed kinds; a CRD is the object with a null
// creationTimestamp (status kept), without the typed round trip; the
// object itself is left as it was.
func TestNormalizedCopy(t *testing.T) {
	for name, obj := range map[string]map[string]any{
		"CRD": {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": "widgets.example.io", "labels": map[string]any{"a": "b"}},
			"spec":     map[string]any{"group": "example.io", "versions": []any{map[string]any{"name": "v1"}}},
			"status":   map[string]any{"acceptedNames": map[string]any{"kind": ""}}},
		"custom resource": {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": map[string]any{"name": "w", "creationTimestamp": "2026-01-01T00:00:00Z"},
			"spec": map[string]any{"size": int64(3)}, "status": map[string]any{"ready": true}},
		"no metadata":   {"apiVersion": "example.io/v1", "kind": "Widget", "spec": map[string]any{}},
		"null metadata": {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": nil},
		"typed": {"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "s"},
			"spec": map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}, "status": map[string]any{}},
	} {
		t.Run(name, func(t *testing.T) {
			orig := runtime.DeepCopyJSON(obj)
			want := (&unstructured.Unstructured{Object: obj}).DeepCopy()
			if name == "CRD" {
				want.Object["metadata"].(map[string]any)["creationTimestamp"] = nil
			} else if err := normalize.Unstructured(want); err != nil {
				t.Fatal(err)
			}
			got, err := normalizedCopy(&unstructured.Unstructured{Object: obj})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Object, want.Object) {
				t.Errorf("normalizedCopy\n  %v\nnormalize.Unstructured\n  %v", got.Object, want.Object)
			}
			if !reflect.DeepEqual(obj, orig) {
				t.Errorf("the object changed: %v, was %v", obj, orig)
			}
		})
	}
}
