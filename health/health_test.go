package health

import (
	"reflect"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Hour))
)

func ready(status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: meta.ReadyCondition, Status: status, Reason: reason, Message: msg, LastTransitionTime: t0}
}

// ksObj is a Kustomization apps/infra at generation 2 with the given
// status; edit changes it further.
func ksObj(applied string, conds []metav1.Condition, edit func(*kustomizev1.Kustomization)) fleet.Object {
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "infra", Generation: 2}}
	ks.Status.ObservedGeneration = 2
	ks.Status.LastAppliedRevision = applied
	ks.Status.Conditions = conds
	if edit != nil {
		edit(ks)
	}
	return fleet.Object{Kind: fleet.KindKustomization, Kustomization: ks}
}

// hrObj is a HelmRelease apps/web from a HelmChart (status.helmChart) at
// generation 1 whose latest release is chart version version in status
// st; edit changes it further.
func hrObj(version, st string, conds []metav1.Condition, edit func(*helmv2.HelmRelease)) fleet.Object {
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web", Generation: 1}}
	hr.Status.ObservedGeneration = 1
	hr.Status.HelmChart = "flux-system/apps-web"
	hr.Status.Conditions = conds
	if version != "" {
		hr.Status.History = helmv2.Snapshots{{ChartName: "web", ChartVersion: version, Status: st, LastDeployed: t1}}
	}
	if edit != nil {
		edit(hr)
	}
	return fleet.Object{Kind: fleet.KindHelmRelease, HelmRelease: hr}
}

// TestEvaluate evaluates plain Kustomizations and HelmReleases, one
// situation each, and checks every field of the verdict.
func TestEvaluate(t *testing.T) {
	rev1, rev2 := "main@sha1:1111111", "main@sha1:2222222"
	ok := []metav1.Condition{ready(metav1.ConditionTrue, "ReconciliationSucceeded", "Applied")}
	for _, tc := range []struct {
		name   string
		o      fleet.Object
		source string
		ready  map[string]bool
		want   Health
	}{{
		name:   "Kustomization Ready and current",
		o:      ksObj(rev1, ok, nil),
		source: rev1,
		want: Health{Ready: metav1.ConditionTrue, Reported: true, Reason: "ReconciliationSucceeded", Message: "Applied",
			Revision: rev1, SourceRevision: rev1, ReadySince: &t0},
	}, {
		name: "Kustomization Ready since its revision's first reconciliation",
		o: ksObj(rev1, ok, func(ks *kustomizev1.Kustomization) {
			ks.Status.History = meta.History{{LastReconciledStatus: meta.ReconciliationSucceededReason, FirstReconciled: t1, Metadata: map[string]string{"revision": rev1}}}
		}),
		want: Health{Ready: metav1.ConditionTrue, Reported: true, Reason: "ReconciliationSucceeded", Message: "Applied",
			Revision: rev1, ReadySince: &t1},
	}, {
		name:   "Kustomization behind its source",
		o:      ksObj(rev1, ok, nil),
		source: rev2,
		want: Health{Ready: metav1.ConditionTrue, Reported: true, Reason: "ReconciliationSucceeded", Message: "Applied",
			Revision: rev1, SourceRevision: rev2, Stale: true, ReadySince: &t0,
			RevisionProblems: []string{"applied revision " + rev1 + ", but its source is at " + rev2 + ": not reconciled to the latest revision"}},
	}, {
		name: "Kustomization failing, waiting for a dependency that is not Ready",
		o: ksObj("", []metav1.Condition{ready(metav1.ConditionFalse, "DependencyNotReady", "dependency 'flux-system/sources' is not ready")},
			func(ks *kustomizev1.Kustomization) {
				ks.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "sources", Namespace: "flux-system"}, {Name: "crds"}}
			}),
		ready: map[string]bool{"flux-system/sources": false, "apps/crds": true},
		want: Health{Ready: metav1.ConditionFalse, Reported: true, Reason: "DependencyNotReady", Message: "dependency 'flux-system/sources' is not ready",
			DependsOn: []string{"flux-system/sources", "apps/crds"}, WaitingFor: []string{"flux-system/sources"},
			StateProblems:    []string{"not Ready: DependencyNotReady: dependency 'flux-system/sources' is not ready"},
			RevisionProblems: []string{"has applied no revision yet"}},
	}, {
		name: "Kustomization without a Ready condition, suspended",
		o:    ksObj(rev1, nil, func(ks *kustomizev1.Kustomization) { ks.Spec.Suspend = true }),
		want: Health{Ready: metav1.ConditionUnknown, Suspended: true, Revision: rev1,
			StateProblems: []string{"has no Ready condition yet", "suspended"}},
	}, {
		name: "Kustomization Ready but not reconciled since its last change",
		o:    ksObj(rev1, ok, func(ks *kustomizev1.Kustomization) { ks.Generation = 3 }),
		want: Health{Ready: metav1.ConditionTrue, Reported: true, Reason: "ReconciliationSucceeded", Message: "Applied",
			Revision: rev1, ReadySince: &t0,
			StateProblems: []string{"not reconciled since its last change (observed generation 2 < 3)"}},
	}, {
		name:   "HelmRelease deployed at its HelmChart's version, Ready since the deploy",
		o:      hrObj("1.2.0", "deployed", ok, nil),
		source: "1.2.0",
		want: Health{Ready: metav1.ConditionTrue, Reported: true, Reason: "ReconciliationSucceeded", Message: "Applied",
			Revision: "1.2.0", Deployed: true, SourceRevision: "1.2.0", ReadySince: &t1},
	}, {
		name:   "HelmRelease behind its HelmChart, last attempt another version",
		o:      hrObj("1.2.0", "deployed", ok, func(hr *helmv2.HelmRelease) { hr.Status.LastAttemptedRevision = "1.3.0" }),
		source: "1.3.0",
		want: Health{Ready: metav1.ConditionTrue, Reported: true, Reason: "ReconciliationSucceeded", Message: "Applied",
			Revision: "1.2.0", Deployed: true, SourceRevision: "1.3.0", Stale: true, ReadySince: &t1,
			RevisionProblems: []string{"last attempted chart version 1.3.0, but 1.2.0 is deployed",
				"runs chart version 1.2.0, but its HelmChart/flux-system/apps-web is at 1.3.0"}},
	}, {
		name: "HelmRelease whose latest release failed, drifted, tests failed",
		o: hrObj("1.2.0", "failed", []metav1.Condition{ready(metav1.ConditionFalse, "UpgradeFailed", "timeout"),
			{Type: helmv2.DriftedCondition, Status: metav1.ConditionTrue, Reason: "DriftDetected", Message: "Deployment/apps/web changed"},
			{Type: helmv2.TestSuccessCondition, Status: metav1.ConditionFalse, Reason: "TestFailed", Message: "web-test failed"}}, nil),
		want: Health{Ready: metav1.ConditionFalse, Reported: true, Reason: "UpgradeFailed", Message: "timeout", Revision: "1.2.0",
			StateProblems: []string{"not Ready: UpgradeFailed: timeout"},
			RevisionProblems: []string{"has no deployed release in status.history",
				"Drifted: Deployment/apps/web changed", "tests failed: web-test failed"}},
	}, {
		name: "HelmRelease from an OCIRepository at another digest",
		o: hrObj("6.5.0", "deployed", ok, func(hr *helmv2.HelmRelease) {
			hr.Status.HelmChart = ""
			hr.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: "OCIRepository", Name: "podinfo"}
			hr.Status.History[0].OCIDigest = "sha256:aaa"
		}),
		source: "6.5.1@sha256:bbb",
		want: Health{Ready: metav1.ConditionTrue, Reported: true, Reason: "ReconciliationSucceeded", Message: "Applied",
			Revision: "6.5.0", Deployed: true, SourceRevision: "6.5.1@sha256:bbb", Stale: true, ReadySince: &t1,
			RevisionProblems: []string{"runs sha256:aaa, but its OCIRepository/apps/podinfo is at 6.5.1@sha256:bbb"}},
	}, {
		name: "HelmRelease never installed, Ready condition Unknown",
		o:    hrObj("", "", []metav1.Condition{ready(metav1.ConditionUnknown, "Progressing", "installing")}, nil),
		want: Health{Ready: metav1.ConditionUnknown, Reported: true, Reason: "Progressing", Message: "installing",
			StateProblems:    []string{"not Ready: Progressing: installing"},
			RevisionProblems: []string{"has no deployed release in status.history"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.o, tc.source, tc.ready)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Evaluate:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestReadiness maps the fleet's Kustomizations (not HelmReleases) to
// whether they are Ready.
func TestReadiness(t *testing.T) {
	f := &fleet.Fleet{Clusters: []*fleet.Cluster{{Name: "management", Hub: true, Objects: []fleet.Object{
		ksObj("", []metav1.Condition{ready(metav1.ConditionTrue, "ReconciliationSucceeded", "")}, nil),
		ksObj("", []metav1.Condition{ready(metav1.ConditionFalse, "BuildFailed", "")}, func(ks *kustomizev1.Kustomization) { ks.Name = "apps" }),
		hrObj("1.0.0", "deployed", nil, nil),
	}}}}
	want := map[string]bool{"apps/infra": true, "apps/apps": false}
	if got := Readiness(f); !reflect.DeepEqual(got, want) {
		t.Fatalf("Readiness = %v, want %v", got, want)
	}
}
