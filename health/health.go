package health

import (
	"fmt"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// Health is what Evaluate finds of one Kustomization or HelmRelease.
type Health struct {
	// Ready is the Ready condition's status: True, False, or Unknown (also
	// when there is no Ready condition; then Reported is false).
	Ready    metav1.ConditionStatus
	Reported bool
	// Reason and Message are the Ready condition's.
	Reason, Message string
	// Suspended is spec.suspend.
	Suspended bool
	// Revision is what it applied: a Kustomization's
	// status.lastAppliedRevision, the chart version of a HelmRelease's
	// latest release in status.history (Deployed says whether that release
	// is deployed).
	Revision string
	Deployed bool
	// SourceRevision is the artifact revision of its source (given to
	// Evaluate); Stale is true when Revision lags it.
	SourceRevision string
	Stale          bool
	// DependsOn are the "namespace/name" of spec.dependsOn; WaitingFor
	// those not Ready while the object is not Ready itself.
	DependsOn  []string
	WaitingFor []string
	// ReadySince is when it started running Ready at its revision; nil
	// when it is not Ready.
	ReadySince *metav1.Time
	// StateProblems say why its Ready condition or spec.suspend fail a
	// gate; RevisionProblems why what it runs does (see Problems).
	StateProblems    []string
	RevisionProblems []string
}

// IsReady reports whether the Ready condition is True.
func (h Health) IsReady() bool { return h.Ready == metav1.ConditionTrue }

// Problems are StateProblems then RevisionProblems: empty when the object
// is Ready, current, not suspended and (a HelmRelease) runs a deployed
// release of its source's chart, not drifted, its tests not failed.
func (h Health) Problems() []string {
	return append(append([]string(nil), h.StateProblems...), h.RevisionProblems...)
}

// Evaluate reads the health of o, whose source is at sourceRevision ("" when
// unknown); ready maps "namespace/name" of Kustomizations to whether they
// are Ready (Readiness), for WaitingFor.
func Evaluate(o fleet.Object, sourceRevision string, ready map[string]bool) Health {
	h := Health{Ready: metav1.ConditionUnknown, SourceRevision: sourceRevision}
	conds := o.Conditions()
	cond := apimeta.FindStatusCondition(conds, meta.ReadyCondition)
	if cond != nil {
		h.Ready, h.Reported, h.Reason, h.Message = cond.Status, true, cond.Reason, cond.Message
	}
	m := o.Meta()
	var refs []meta.NamespacedObjectReference
	var observed int64
	switch {
	case o.Kustomization != nil:
		ks := o.Kustomization
		h.Suspended, h.Revision, observed = ks.Spec.Suspend, ks.Status.LastAppliedRevision, ks.Status.ObservedGeneration
		for _, d := range ks.Spec.DependsOn {
			refs = append(refs, meta.NamespacedObjectReference{Namespace: d.Namespace, Name: d.Name})
		}
	case o.HelmRelease != nil:
		hr := o.HelmRelease
		h.Suspended, observed = hr.Spec.Suspend, hr.Status.ObservedGeneration
		if l := hr.Status.History.Latest(); l != nil {
			h.Revision, h.Deployed = l.ChartVersion, l.Status == "deployed"
		}
		for _, d := range hr.Spec.DependsOn {
			refs = append(refs, meta.NamespacedObjectReference{Namespace: d.Namespace, Name: d.Name})
		}
	}
	for _, d := range refs {
		ns := d.Namespace
		if ns == "" {
			ns = m.GetNamespace()
		}
		h.DependsOn = append(h.DependsOn, ns+"/"+d.Name)
	}
	h.Stale = isStale(o, h.Revision, sourceRevision)
	if h.Suspended || !h.IsReady() {
		for _, d := range h.DependsOn {
			if r, known := ready[d]; known && !r {
				h.WaitingFor = append(h.WaitingFor, d)
			}
		}
	}

	h.state(cond, observed, m.GetGeneration())
	if o.Kustomization != nil {
		h.kustomization(o.Kustomization)
	} else if o.HelmRelease != nil {
		h.helmRelease(o)
	}
	return h
}

// kustomization adds a Kustomization's revision problems and ReadySince.
func (h *Health) kustomization(ks *kustomizev1.Kustomization) {
	switch {
	case h.Revision == "":
		h.RevisionProblems = append(h.RevisionProblems, "has applied no revision yet")
	case h.Stale:
		h.RevisionProblems = append(h.RevisionProblems, fmt.Sprintf("applied revision %s, but its source is at %s: not reconciled to the latest revision", h.Revision, h.SourceRevision))
	}
	if h.IsReady() {
		since := kustomizationSince(ks)
		h.ReadySince = &since
	}
}

// kustomizationSince is when a Ready Kustomization started running its
// applied revision: the later of the Ready condition's transition and the
// first reconciliation of that revision in status.history (what
// kustomize-controller ≥ 1.7 records; without it the Ready transition
// alone is used).
func kustomizationSince(ks *kustomizev1.Kustomization) metav1.Time {
	var since metav1.Time
	if c := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition); c != nil {
		since = c.LastTransitionTime
	}
	for _, s := range ks.Status.History {
		if s.LastReconciledStatus == meta.ReconciliationSucceededReason && s.Metadata["revision"] == ks.Status.LastAppliedRevision {
			if s.FirstReconciled.After(since.Time) {
				since = s.FirstReconciled
			}
			break
		}
	}
	return since
}

// helmRelease adds a HelmRelease's revision problems — a deployed release
// at its source's chart version, not Drifted, tests not failed — and
// ReadySince.
func (h *Health) helmRelease(o fleet.Object) {
	hr := o.HelmRelease
	latest := hr.Status.History.Latest()
	if latest == nil || !h.Deployed {
		h.RevisionProblems = append(h.RevisionProblems, "has no deployed release in status.history")
	} else {
		if a := hr.Status.LastAttemptedRevision; a != "" && a != latest.ChartVersion {
			h.RevisionProblems = append(h.RevisionProblems, fmt.Sprintf("last attempted chart version %s, but %s is deployed", a, latest.ChartVersion))
		}
		src := fleet.SourceOf(o)
		switch {
		case h.SourceRevision == "":
		case src.Kind == "HelmChart" && h.SourceRevision != latest.ChartVersion:
			h.RevisionProblems = append(h.RevisionProblems, fmt.Sprintf("runs chart version %s, but its %s is at %s", latest.ChartVersion, src, h.SourceRevision))
		case src.Kind == "OCIRepository" && latest.OCIDigest != "" && strings.Contains(h.SourceRevision, "@") && !strings.HasSuffix(h.SourceRevision, "@"+latest.OCIDigest):
			h.RevisionProblems = append(h.RevisionProblems, fmt.Sprintf("runs %s, but its %s is at %s", latest.OCIDigest, src, h.SourceRevision))
		}
	}
	if c := apimeta.FindStatusCondition(hr.Status.Conditions, helmv2.DriftedCondition); c != nil && c.Status == metav1.ConditionTrue {
		h.RevisionProblems = append(h.RevisionProblems, "Drifted: "+c.Message)
	}
	if c := apimeta.FindStatusCondition(hr.Status.Conditions, helmv2.TestSuccessCondition); c != nil && c.Status == metav1.ConditionFalse {
		h.RevisionProblems = append(h.RevisionProblems, "tests failed: "+c.Message)
	}
	if h.IsReady() && latest != nil {
		since := metav1.Time{}
		if c := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition); c != nil {
			since = c.LastTransitionTime
		}
		if latest.LastDeployed.After(since.Time) {
			since = latest.LastDeployed
		}
		h.ReadySince = &since
	}
}

// Readiness maps "namespace/name" of every Kustomization of the fleet to
// whether it is Ready, for Evaluate's WaitingFor.
func Readiness(f *fleet.Fleet) map[string]bool {
	out := map[string]bool{}
	for _, c := range f.Clusters {
		for _, o := range c.Objects {
			if o.Kustomization != nil {
				out[o.Meta().GetNamespace()+"/"+o.Meta().GetName()] = apimeta.IsStatusConditionTrue(o.Conditions(), meta.ReadyCondition)
			}
		}
	}
	return out
}

// state adds the problems of the Ready condition, the observed generation
// and spec.suspend.
func (h *Health) state(cond *metav1.Condition, observed, generation int64) {
	switch {
	case cond == nil:
		h.StateProblems = append(h.StateProblems, "has no Ready condition yet")
	case !h.IsReady():
		h.StateProblems = append(h.StateProblems, fmt.Sprintf("not Ready: %s: %s", cond.Reason, cond.Message))
	case observed < generation:
		h.StateProblems = append(h.StateProblems, fmt.Sprintf("not reconciled since its last change (observed generation %d < %d)", observed, generation))
	}
	if h.Suspended {
		h.StateProblems = append(h.StateProblems, "suspended")
	}
}
