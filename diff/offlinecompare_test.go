package diff

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func secret(data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "s", "namespace": "ns"}, "data": data}}
}

// TestCompareSidesMasksSecrets: a Secret whose value changes is drifted,
// the changed key marked before/after, the unchanged one plain masked,
// no value in the diff; an object only the base has is deleted only when
// gone says so.
func TestCompareSidesMasksSecrets(t *testing.T) {
	base := []*unstructured.Unstructured{secret(map[string]any{"a": "c2FtZQ==", "b": "b2xkLXZhbHVl"})}
	head := []*unstructured.Unstructured{secret(map[string]any{"a": "c2FtZQ==", "b": "bmV3LXZhbHVl"})}
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "ns"}}}
	base = append(base, cm)
	for _, gone := range []bool{true, false} {
		var counts Counts
		out := compareSides(base, head, func(*unstructured.Unstructured) bool { return gone },
			func(o *unstructured.Unstructured, a Action) ObjectResult {
				return ObjectResult{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(), Action: a}
			}, &counts)
		want := 1
		if gone {
			want = 2
		}
		if len(out) != want || out[len(out)-1].ID() != "Secret/ns/s" || out[len(out)-1].Action != ActionDrifted {
			t.Fatalf("gone %v: %+v", gone, out)
		}
		d := out[len(out)-1].Diff
		for _, s := range []string{"-  b: '*** (before)'", "+  b: '*** (after)'", "   a: '***'"} {
			if !strings.Contains(d, s) {
				t.Errorf("diff lacks %q:\n%s", s, d)
			}
		}
		if strings.Contains(d, "c2FtZQ") || strings.Contains(d, "bmV3") || strings.Contains(d, "b2xk") {
			t.Errorf("a value in the diff:\n%s", d)
		}
		if gone && (out[0].Action != ActionDeleted || counts.Deleted != 1) {
			t.Errorf("ConfigMap only at the base: %+v %+v", out[0], counts)
		}
	}
}
