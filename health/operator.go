package health

import (
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// OperatorReconcileAnnotation set to "disabled" pauses the Flux Operator's
// reconciliation of its objects (its "suspended").
const OperatorReconcileAnnotation = "fluxcd.controlplane.io/reconcile"

// EvaluateOperator reads the health of an object the Flux Operator
// reconciles (ResourceSet, ResourceSetInputProvider), given as unstructured
// data: its Ready condition, whether the operator has seen its last change
// (the Ready condition's observedGeneration) and whether its reconciliation
// is paused. It has no revision: RevisionProblems stay empty.
func EvaluateOperator(obj *unstructured.Unstructured) Health {
	h := Health{Ready: metav1.ConditionUnknown}
	var conds []metav1.Condition
	if raw, ok, _ := unstructured.NestedSlice(obj.Object, "status", "conditions"); ok {
		for _, c := range raw {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			var cond metav1.Condition
			if runtime.DefaultUnstructuredConverter.FromUnstructured(m, &cond) == nil {
				conds = append(conds, cond)
			}
		}
	}
	cond := apimeta.FindStatusCondition(conds, meta.ReadyCondition)
	observed := obj.GetGeneration()
	if cond != nil {
		h.Ready, h.Reported, h.Reason, h.Message = cond.Status, true, cond.Reason, cond.Message
		observed = cond.ObservedGeneration
	}
	h.Suspended = obj.GetAnnotations()[OperatorReconcileAnnotation] == "disabled"
	h.state(cond, observed, obj.GetGeneration())
	if h.IsReady() {
		since := cond.LastTransitionTime
		h.ReadySince = &since
	}
	return h
}
