package helmrender_test

import (
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/apis/meta"
	"helm.sh/helm/v4/pkg/chart/common"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/c5c3/kubectl-c5c3/helmrender"
)

// TestPredict checks Predict against helm-controller v1.6's rules
// (internal/reconcile state.go DetermineReleaseState and
// atomic_release.go actionForState, internal/controller's release target
// and failure-count reset) with real HelmRelease objects and releases
// that Helm's own install action recorded in storage.
func TestPredict(t *testing.T) {
	ch := loadDir(t, "webapp-0.1.0")
	vals := common.Values{"replicas": 2}
	d := helmrender.ValuesDigest(vals)

	// Storage with the release installed (revision 1, deployed) and, for
	// some cases, a revision 2 on top in another status.
	deployed := func(top rcommon.Status) *helmrender.Current {
		st := storage.Init(driver.NewMemory())
		install(t, st, "apps-x", ch, vals)
		if top != "" {
			r, err := st.Get("apps-x", 1)
			if err != nil {
				t.Fatal(err)
			}
			next := *r.(*helmrelease.Release)
			info := *next.Info
			info.Status = top
			next.Info, next.Version = &info, 2
			if err := st.Create(&next); err != nil {
				t.Fatal(err)
			}
		}
		return current(t, st, "apps-x")
	}
	installed, failedTop, pendingTop := deployed(""), deployed(rcommon.StatusFailed), deployed(rcommon.StatusPendingUpgrade)

	// managed is the HelmRelease as helm-controller leaves it after making
	// revision rev: history, observed generation 1, last attempt recorded.
	managed := func(rev int, mutate func(*helmv2.HelmRelease)) *helmv2.HelmRelease {
		return hr("x", func(h *helmv2.HelmRelease) {
			h.Generation = 1
			h.Status = helmv2.HelmReleaseStatus{
				ObservedGeneration: 1, LastAttemptedGeneration: 1, LastAttemptedRevision: "0.1.0", LastAttemptedConfigDigest: d,
				StorageNamespace: "flux-system",
				History: helmv2.Snapshots{{APIVersion: helmv2.CurrentSnapshotAPIVersion, Name: "apps-x", Namespace: "apps", Version: rev,
					Status: "deployed", ChartName: "webapp", ChartVersion: "0.1.0", ConfigDigest: d}},
			}
			if mutate != nil {
				mutate(h)
			}
		})
	}
	newGeneration := func(h *helmv2.HelmRelease) { h.Generation = 2 }
	patches := []helmv2.PostRenderer{{Kustomize: &helmv2.Kustomize{Images: []kustomize.Image{{Name: "webapp", NewTag: "2"}}}}}
	retries := func(n int, strategy helmv2.RemediationStrategy) *helmv2.Upgrade {
		return &helmv2.Upgrade{Remediation: &helmv2.UpgradeRemediation{Retries: n, Strategy: &strategy}}
	}

	for _, tc := range []struct {
		name    string
		h       *helmv2.HelmRelease
		cur     *helmrender.Current
		version string
		want    helmrender.Plan
	}{
		{"absent: install", hr("x", nil), nil, "0.1.0", helmrender.PlanInstall},
		{"absent, install retries exhausted", hr("x", func(h *helmv2.HelmRelease) {
			h.Status.LastAttemptedReleaseAction, h.Status.InstallFailures = helmv2.ReleaseActionInstall, 1
			h.Status.LastAttemptedRevision, h.Status.LastAttemptedConfigDigest = "0.1.0", d
		}), nil, "0.1.0", helmrender.PlanNone},
		{"unmanaged (no history): take over", hr("x", nil), installed, "0.1.0", helmrender.PlanUpgrade},
		{"in sync", managed(1, nil), installed, "0.1.0", helmrender.PlanNone},
		{"in sync, drift detection enabled", managed(1, func(h *helmv2.HelmRelease) {
			h.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled}
		}), installed, "0.1.0", helmrender.PlanCorrectDrift},
		{"in sync, drift detection warn", managed(1, func(h *helmv2.HelmRelease) {
			h.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionWarn}
		}), installed, "0.1.0", helmrender.PlanNone},
		{"chart version differs from the release", managed(1, nil), installed, "0.2.0", helmrender.PlanUpgrade},
		{"values digest differs from history", managed(1, func(h *helmv2.HelmRelease) {
			h.Status.History[0].ConfigDigest = helmrender.ValuesDigest(common.Values{"replicas": 3})
		}), installed, "0.1.0", helmrender.PlanUpgrade},
		{"postRenderers added, new generation", managed(1, func(h *helmv2.HelmRelease) {
			h.Spec.PostRenderers = patches
			newGeneration(h)
		}), installed, "0.1.0", helmrender.PlanUpgrade},
		{"postRenderers not observed, same generation", managed(1, func(h *helmv2.HelmRelease) {
			h.Spec.PostRenderers = patches
		}), installed, "0.1.0", helmrender.PlanNone},
		{"postRenderers observed, new generation", managed(1, func(h *helmv2.HelmRelease) {
			h.Spec.PostRenderers = patches
			h.Status.ObservedPostRenderersDigest = helmrender.PostRenderersDigest(h)
			newGeneration(h)
		}), installed, "0.1.0", helmrender.PlanNone},
		{"commonMetadata added, new generation", managed(1, func(h *helmv2.HelmRelease) {
			h.Spec.CommonMetadata = &helmv2.CommonMetadata{Labels: map[string]string{"team": "a"}}
			newGeneration(h)
		}), installed, "0.1.0", helmrender.PlanUpgrade},
		{"new generation, nothing else changed", managed(1, newGeneration), installed, "0.1.0", helmrender.PlanNone},
		{"history names another revision", managed(3, nil), installed, "0.1.0", helmrender.PlanUpgrade},
		{"legacy snapshot of another revision: not verified", managed(3, func(h *helmv2.HelmRelease) {
			h.Status.History[0].APIVersion = ""
		}), installed, "0.1.0", helmrender.PlanNone},
		{"locked (pending-upgrade)", managed(2, nil), pendingTop, "0.1.0", helmrender.PlanUpgrade},
		{"failed, no active remediation", managed(2, nil), failedTop, "0.1.0", helmrender.PlanUpgrade},
		{"failed, rollback remediation with retries left", managed(2, func(h *helmv2.HelmRelease) {
			h.Spec.Upgrade = retries(3, helmv2.RollbackRemediationStrategy)
			h.Status.LastAttemptedReleaseAction, h.Status.UpgradeFailures = helmv2.ReleaseActionUpgrade, 1
		}), failedTop, "0.1.0", helmrender.PlanRemediate},
		{"failed, retries exhausted, last failure remediated (retries > 0)", managed(2, func(h *helmv2.HelmRelease) {
			h.Spec.Upgrade = retries(1, helmv2.UninstallRemediationStrategy)
			h.Status.LastAttemptedReleaseAction, h.Status.UpgradeFailures = helmv2.ReleaseActionUpgrade, 2
		}), failedTop, "0.1.0", helmrender.PlanRemediate},
		{"failed, retries exhausted, remediateLastFailure false", managed(2, func(h *helmv2.HelmRelease) {
			h.Spec.Upgrade = retries(1, helmv2.RollbackRemediationStrategy)
			h.Spec.Upgrade.Remediation.RemediateLastFailure = new(bool)
			h.Status.LastAttemptedReleaseAction, h.Status.UpgradeFailures = helmv2.ReleaseActionUpgrade, 2
		}), failedTop, "0.1.0", helmrender.PlanNone},
		{"failed, failures reset by a new chart version", managed(2, func(h *helmv2.HelmRelease) {
			h.Spec.Upgrade = retries(1, helmv2.RollbackRemediationStrategy)
			h.Status.LastAttemptedReleaseAction, h.Status.UpgradeFailures = helmv2.ReleaseActionUpgrade, 2
		}), failedTop, "0.2.0", helmrender.PlanUpgrade},
		{"failed, retry strategy", managed(2, func(h *helmv2.HelmRelease) {
			h.Spec.Upgrade = &helmv2.Upgrade{Strategy: &helmv2.UpgradeStrategy{Name: string(helmv2.ActionStrategyRetryOnFailure)}}
			h.Status.LastAttemptedReleaseAction, h.Status.UpgradeFailures = helmv2.ReleaseActionUpgrade, 1
		}), failedTop, "0.1.0", helmrender.PlanUpgrade},
		{"out of sync, upgrade retries exhausted, same attempt", managed(1, func(h *helmv2.HelmRelease) {
			h.Status.History[0].ConfigDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
			h.Status.UpgradeFailures = 1
		}), installed, "0.1.0", helmrender.PlanNone},
		{"in sync, force requested", managed(1, func(h *helmv2.HelmRelease) {
			h.Annotations = map[string]string{meta.ReconcileRequestAnnotation: "t1", meta.ForceRequestAnnotation: "t1"}
		}), installed, "0.1.0", helmrender.PlanUpgrade},
		{"in sync, force already handled", managed(1, func(h *helmv2.HelmRelease) {
			h.Annotations = map[string]string{meta.ReconcileRequestAnnotation: "t1", meta.ForceRequestAnnotation: "t1"}
			h.Status.LastHandledForceAt = "t1"
		}), installed, "0.1.0", helmrender.PlanNone},
		{"in sync, tests enabled, untested", managed(1, func(h *helmv2.HelmRelease) {
			h.Spec.Test = &helmv2.Test{Enable: true}
		}), installed, "0.1.0", helmrender.PlanTest},
		{"in sync, tests enabled, tested", managed(1, func(h *helmv2.HelmRelease) {
			h.Spec.Test = &helmv2.Test{Enable: true}
			h.Status.History[0].TestHooks = &map[string]*helmv2.TestHookStatus{}
		}), installed, "0.1.0", helmrender.PlanNone},
		{"release namespace changed: reinstall", managed(1, func(h *helmv2.HelmRelease) {
			h.Spec.ReleaseName = "apps-x"
			h.Spec.TargetNamespace = "other"
		}), installed, "0.1.0", helmrender.PlanInstall},
		{"storage namespace changed: reinstall", managed(1, func(h *helmv2.HelmRelease) {
			h.Spec.StorageNamespace = "other"
		}), installed, "0.1.0", helmrender.PlanInstall},
	} {
		force := tc.h.Status.LastHandledForceAt
		p := helmrender.Predict(tc.h, tc.version, vals, tc.cur)
		if p.Plan != tc.want {
			t.Errorf("%s: plan %s (%s), want %s", tc.name, p.Plan, p.Reason, tc.want)
		}
		if p.Reason == "" {
			t.Errorf("%s: no reason", tc.name)
		}
		if tc.h.Status.LastHandledForceAt != force {
			t.Errorf("%s: Predict recorded the force request as handled", tc.name)
		}
	}
}

// TestPredictServerSideApply: installs use server-side apply unless
// install.serverSideApply is false; upgrades follow upgrade.serverSideApply,
// by default the deployed release's apply method.
func TestPredictServerSideApply(t *testing.T) {
	ch := loadDir(t, "webapp-0.1.0")
	st := storage.Init(driver.NewMemory())
	cur := install(t, st, "apps-x", ch, nil)
	off := false
	for _, tc := range []struct {
		name string
		h    *helmv2.HelmRelease
		cur  *helmrender.Current
		want bool
	}{
		{"install", hr("x", nil), nil, true},
		{"install, disabled", hr("x", func(h *helmv2.HelmRelease) { h.Spec.Install = &helmv2.Install{ServerSideApply: &off} }), nil, false},
		{"upgrade, as deployed (" + cur.ApplyMethod + ")", hr("x", nil), cur, cur.ApplyMethod == "ssa"},
		{"upgrade, enabled", hr("x", func(h *helmv2.HelmRelease) {
			h.Spec.Upgrade = &helmv2.Upgrade{ServerSideApply: helmv2.ServerSideApplyEnabled}
		}), cur, true},
		{"upgrade, disabled", hr("x", func(h *helmv2.HelmRelease) {
			h.Spec.Upgrade = &helmv2.Upgrade{ServerSideApply: helmv2.ServerSideApplyDisabled}
		}), cur, false},
	} {
		if p := helmrender.Predict(tc.h, "0.1.0", nil, tc.cur); p.ServerSideApply != tc.want {
			t.Errorf("%s: server-side apply %v, want %v", tc.name, p.ServerSideApply, tc.want)
		}
	}
}
