package helmrender

import (
	"encoding/json"
	"fmt"

	"github.com/c5c3/kubectl-c5c3/internal/helmname"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/chartutil"
	"github.com/opencontainers/go-digest"
	"helm.sh/helm/v4/pkg/chart/common"
	rcommon "helm.sh/helm/v4/pkg/release/common"
)

// Plan is what helm-controller would do with a HelmRelease.
type Plan string

// The plans.
const (
	PlanInstall Plan = "install"
	PlanUpgrade Plan = "upgrade"
	// PlanCorrectDrift: no upgrade, but drift detection is enabled and
	// would correct drifted objects.
	PlanCorrectDrift Plan = "correct-drift"
	// PlanTest: no upgrade, but spec.test is enabled and the deployed
	// release has not been tested: helm-controller runs its tests.
	PlanTest Plan = "test"
	// PlanRemediate: the last release failed and helm-controller
	// remediates it (spec.upgrade/install.remediation.strategy: rollback
	// or uninstall) instead of upgrading.
	PlanRemediate Plan = "remediate"
	PlanNone      Plan = "none"
)

// Prediction says whether helm-controller would install, upgrade, only
// correct drift, or do nothing, and with which apply method.
type Prediction struct {
	Plan Plan `json:"plan"`
	// Reason explains the plan (chart version or values changed, ...).
	Reason string `json:"reason,omitempty"`
	// FromVersion is the chart version of status.history[0] when a
	// release is deployed.
	FromVersion string `json:"fromVersion,omitempty"`
	ToVersion   string `json:"toVersion"`
	// ServerSideApply is whether the action would use server-side apply.
	ServerSideApply bool `json:"serverSideApply"`
	// InSync: the deployed release is the one helm-controller made with
	// this chart version, values and post-renderers (neither pending,
	// failed nor taken over); what stands is its stored manifest.
	InSync bool `json:"-"`
}

// Predict decides as helm-controller v1.6's release reconciler does
// (internal/reconcile: DetermineReleaseState, then AtomicRelease's
// actionForState) from hr — its spec from the checkout, its status and
// generation as they will be after the push (a changed spec is a new
// generation) — the render's chart version and values, and cur, the
// deployed release in Helm storage on the target (nil: none).
//
// With a deployed release: a pending last release is unlocked and acted
// on; with no history helm-controller takes the release over (upgrade);
// a last release other than status.history[0] (name, namespace or
// revision) is not the one it made, so it upgrades; a failed one is
// upgraded or remediated; a deployed one is upgraded when the chart
// version or the values digest differ from it and status.history[0], or —
// for a new generation only — when the digest of spec.postRenderers or
// spec.commonMetadata differs from the one observed. Otherwise a force
// request upgrades, an untested release with spec.test is tested, and
// drift detection enabled corrects drift. Exhausted remediation retries
// stop it (plan none, saying so).
func Predict(hr *helmv2.HelmRelease, chartVersion string, values common.Values, cur *Current) Prediction {
	p := Prediction{ToVersion: chartVersion}
	latest := hr.Status.History.Latest()
	// The controller's reconcileRelease, before the release state: a
	// changed release target is uninstalled and installed anew, and the
	// failure counts are reset when the generation, chart version or
	// values differ from the last attempt (action.MustResetFailures).
	if target := releaseTargetChanged(hr); target != "" {
		p.Plan, p.Reason, p.ServerSideApply = PlanInstall, target+" changed: helm-controller uninstalls the release and installs it anew", true
		if s := hr.GetInstall().ServerSideApply; s != nil {
			p.ServerSideApply = *s
		}
		return p
	}
	hr = hr.DeepCopy()
	if mustResetFailures(hr, chartVersion, values) {
		hr.Status.ClearFailures()
	}
	if cur == nil {
		p.ServerSideApply = true
		if s := hr.GetInstall().ServerSideApply; s != nil {
			p.ServerSideApply = *s
		}
		p.Plan, p.Reason = PlanInstall, "no release in the HelmRelease's history"
		if latest != nil {
			p.Reason = "no deployed release in Helm storage on the target"
		}
		if hr.GetInstall().GetRemediation().RetriesExhausted(hr) && !forceRequested(hr) {
			p.Plan, p.Reason = PlanNone, "install retries exhausted (spec.install.remediation.retries): helm-controller stops"
		}
		return p
	}
	if latest != nil {
		p.FromVersion = latest.ChartVersion
	}
	switch hr.GetUpgrade().ServerSideApply {
	case helmv2.ServerSideApplyEnabled:
		p.ServerSideApply = true
	case helmv2.ServerSideApplyDisabled:
		p.ServerSideApply = false
	default:
		p.ServerSideApply = cur.ApplyMethod == "ssa"
	}
	status := rcommon.Status(cur.LastStatus)
	if cur.LastStatus == "" {
		status = rcommon.StatusDeployed
	}
	switch {
	case status.IsPending():
		return upgrade(p, fmt.Sprintf("release locked with status '%s': helm-controller unlocks it, then upgrades", status))
	case latest == nil:
		// ReleaseStatusUnmanaged.
		return upgrade(p, "release in Helm storage not in the HelmRelease's history")
	case latest.APIVersion == helmv2.CurrentSnapshotAPIVersion &&
		(latest.Name != cur.Name || latest.Namespace != cur.Namespace || latest.Version != cur.LastRevision):
		// VerifyReleaseObject: the last release is not the one recorded.
		return upgrade(p, fmt.Sprintf("release %s/%s.v%d in Helm storage not made for the HelmRelease (history has %s)",
			cur.Namespace, cur.Name, cur.LastRevision, latest.FullReleaseName()))
	case status == rcommon.StatusFailed:
		return failed(hr, p)
	}
	// Deployed: VerifyRelease, then the post-render digests.
	outOfSync := ""
	switch {
	case cur.ChartVersion != chartVersion:
		outOfSync = fmt.Sprintf("chart version %s → %s", cur.ChartVersion, chartVersion)
	case !chartutil.VerifyValues(digest.Digest(latest.ConfigDigest), values):
		outOfSync = "values changed"
	case hr.Status.ObservedGeneration != hr.Generation && PostRenderersDigest(hr) != hr.Status.ObservedPostRenderersDigest:
		outOfSync = "postrenderers digest has changed"
	case hr.Status.ObservedGeneration != hr.Generation && CommonMetadataDigest(hr) != hr.Status.ObservedCommonMetadataDigest:
		outOfSync = "common metadata digest has changed"
	}
	if outOfSync != "" {
		if hr.GetUpgrade().GetRemediation().RetriesExhausted(hr) && !forceRequested(hr) {
			p.Plan, p.Reason = PlanNone, outOfSync+", but upgrade retries are exhausted (spec.upgrade.remediation.retries): helm-controller stops"
			return p
		}
		return upgrade(p, outOfSync)
	}
	p.InSync = true
	switch {
	case forceRequested(hr):
		return upgrade(p, "chart and values unchanged; force requested ("+meta.ForceRequestAnnotation+")")
	case hr.GetTest().Enable && !latest.HasBeenTested():
		p.Plan, p.Reason = PlanTest, "chart and values unchanged; release not tested yet (spec.test.enable)"
	case hr.GetDriftDetection().Mode == helmv2.DriftDetectionEnabled:
		p.Plan, p.Reason = PlanCorrectDrift, "chart and values unchanged; drift detection enabled"
	default:
		p.Plan, p.Reason = PlanNone, "chart and values unchanged"
	}
	return p
}

func upgrade(p Prediction, reason string) Prediction {
	p.Plan, p.Reason = PlanUpgrade, reason
	return p
}

// failed is actionForState's ReleaseStatusFailed: a retry strategy, no
// active remediation, no failure counted since the last change or a force
// request upgrade; otherwise the remediation strategy runs, unless its
// retries are exhausted.
func failed(hr *helmv2.HelmRelease, p Prediction) Prediction {
	const why = "the last release failed"
	rem := hr.GetActiveRemediation()
	switch {
	case hr.GetActiveRetry(false) != nil:
		return upgrade(p, why+": helm-controller retries the upgrade")
	case rem == nil:
		return upgrade(p, why+", no active remediation: helm-controller upgrades")
	case rem.GetFailureCount(hr) <= 0:
		return upgrade(p, why+", conditions changed since: helm-controller upgrades")
	case forceRequested(hr):
		return upgrade(p, why+"; force requested ("+meta.ForceRequestAnnotation+")")
	case rem.RetriesExhausted(hr) && !rem.MustRemediateLastFailure():
		p.Plan, p.Reason = PlanNone, why+" and remediation retries are exhausted: helm-controller stops"
		return p
	}
	p.Plan, p.Reason = PlanRemediate, fmt.Sprintf("%s: helm-controller remediates it (%s)", why, rem.GetStrategy())
	return p
}

// forceRequested is meta.ShouldHandleForceRequest without recording the
// request as handled.
func forceRequested(hr *helmv2.HelmRelease) bool {
	return meta.ShouldHandleForceRequest(hr.DeepCopy())
}

// PostRenderersDigest is the digest helm-controller records as
// status.observedPostRenderersDigest (internal/postrender Digest): empty
// without spec.postRenderers.
func PostRenderersDigest(hr *helmv2.HelmRelease) string {
	if hr.Spec.PostRenderers == nil {
		return ""
	}
	return jsonDigest(hr.Spec.PostRenderers)
}

// CommonMetadataDigest is the digest helm-controller records as
// status.observedCommonMetadataDigest (internal/postrender
// CommonMetadataDigest): empty without spec.commonMetadata.
func CommonMetadataDigest(hr *helmv2.HelmRelease) string {
	if hr.Spec.CommonMetadata == nil {
		return ""
	}
	return jsonDigest(hr.Spec.CommonMetadata)
}

func jsonDigest(v any) string {
	d := digest.Canonical.Digester()
	if err := json.NewEncoder(d.Hash()).Encode(v); err != nil {
		return ""
	}
	return d.Digest().String()
}

// releaseTargetChanged is action.ReleaseTargetChanged without the chart
// name: "storage namespace", "release namespace", "release name" or "".
func releaseTargetChanged(hr *helmv2.HelmRelease) string {
	latest := hr.Status.History.Latest()
	switch {
	case hr.Status.StorageNamespace == "" || latest == nil:
		return ""
	case hr.GetStorageNamespace() != hr.Status.StorageNamespace:
		return "storage namespace"
	case hr.GetReleaseNamespace() != latest.Namespace:
		return "release namespace"
	case helmname.ReleaseName(hr) != latest.Name:
		return "release name"
	}
	return ""
}

// mustResetFailures is action.MustResetFailures, without its fallback to
// the deprecated status.lastAttemptedValuesChecksum.
func mustResetFailures(hr *helmv2.HelmRelease, chartVersion string, values common.Values) bool {
	reset := helmv2.ShouldHandleResetRequest(hr)
	switch {
	case hr.Status.LastAttemptedGeneration != hr.Generation:
		return true
	case hr.Status.GetLastAttemptedRevision() != chartVersion:
		return true
	case hr.Status.LastAttemptedConfigDigest != "":
		if !chartutil.VerifyValues(digest.Digest(hr.Status.LastAttemptedConfigDigest), values) {
			return true
		}
	}
	return reset
}
