package diff

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestOtherOwners(t *testing.T) {
	obj := func(replicas int64, image string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "api", "namespace": "openstack", "resourceVersion": "7"},
			"spec": map[string]any{"replicas": replicas, "template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"name": "api", "image": image}}}}},
		}}
	}
	live, merged := obj(5, "api:1"), obj(2, "api:2")
	merged.SetResourceVersion("8")
	withFields := live.DeepCopy()
	withFields.SetManagedFields([]metav1.ManagedFieldsEntry{
		{Manager: "kustomize-controller", Operation: metav1.ManagedFieldsOperationApply,
			FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"api\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`)},
		{Manager: "hpa-controller", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{}}}`)},
		{Manager: "status-writer", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{}}}`)},
		{Manager: "labeller", Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:team":{}}}}`)},
	})
	got := otherOwners(withFields, live, merged, "kustomize-controller")
	want := []FieldOwner{{Manager: "hpa-controller", Operation: "Update", Fields: []string{".spec.replicas"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got := otherOwners(withFields, live, live.DeepCopy(), "kustomize-controller"); got != nil {
		t.Errorf("no change, yet %+v", got)
	}
	for _, tc := range []struct {
		p, pre string
		want   bool
	}{{".spec.replicas", ".spec", true}, {".spec.replicasX", ".spec.replicas", false}, {`.spec.containers[name="a"].image`, ".spec.containers", true}, {".spec", ".spec", true}} {
		if got := pathPrefix(tc.p, tc.pre); got != tc.want {
			t.Errorf("pathPrefix(%q, %q) = %v", tc.p, tc.pre, got)
		}
	}
}
