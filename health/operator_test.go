package health

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func operatorObject(generation int64, annotations map[string]string, conds ...map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "fluxcd.controlplane.io/v1", "kind": "ResourceSet"}}
	u.SetName("apps")
	u.SetNamespace("flux-system")
	u.SetGeneration(generation)
	u.SetAnnotations(annotations)
	if conds != nil {
		list := []any{}
		for _, c := range conds {
			list = append(list, c)
		}
		u.Object["status"] = map[string]any{"conditions": list}
	}
	return u
}

func readyCond(status, reason, msg string, observed int64) map[string]any {
	return map[string]any{"type": "Ready", "status": status, "reason": reason, "message": msg,
		"observedGeneration": observed, "lastTransitionTime": "2026-01-01T00:00:00Z"}
}

func TestEvaluateOperator(t *testing.T) {
	for _, tc := range []struct {
		name      string
		obj       *unstructured.Unstructured
		ready     metav1.ConditionStatus
		suspended bool
		problem   string
	}{
		{"ready", operatorObject(2, nil, readyCond("True", "ReconciliationSucceeded", "Reconciliation finished in 52s", 2)), metav1.ConditionTrue, false, ""},
		{"build failed", operatorObject(2, nil, readyCond("False", "BuildFailed", "template error", 2)), metav1.ConditionFalse, false, "not Ready: BuildFailed: template error"},
		{"not observed", operatorObject(3, nil, readyCond("True", "ReconciliationSucceeded", "ok", 2)), metav1.ConditionTrue, false, "observed generation 2 < 3"},
		{"no status", operatorObject(1, nil), metav1.ConditionUnknown, false, "has no Ready condition yet"},
		{"paused", operatorObject(1, map[string]string{"fluxcd.controlplane.io/reconcile": "disabled"}, readyCond("True", "ReconciliationSucceeded", "ok", 1)), metav1.ConditionTrue, true, "suspended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := EvaluateOperator(tc.obj)
			if h.Ready != tc.ready || h.Suspended != tc.suspended {
				t.Errorf("ready %s suspended %v, want %s %v", h.Ready, h.Suspended, tc.ready, tc.suspended)
			}
			got := strings.Join(h.Problems(), "; ")
			if (tc.problem == "") != (got == "") || !strings.Contains(got, tc.problem) {
				t.Errorf("problems %q, want %q", got, tc.problem)
			}
		})
	}
}
