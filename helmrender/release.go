package helmrender

import (
	"errors"
	"fmt"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Current is the deployed release of a HelmRelease on its target, read
// from Helm's storage (Secrets sh.helm.release.v1.*, decoded here and
// never printed).
type Current struct {
	Name         string
	Namespace    string
	Revision     int
	ChartName    string
	ChartVersion string
	// LastRevision is the highest revision in storage, whatever its status
	// (a failed upgrade leaves one above Revision): helm-controller's next
	// upgrade makes LastRevision+1.
	LastRevision int
	// ManifestRevision is the revision whose render the deployed manifest
	// is: Revision, but for a release a rollback made the revision rolled
	// back to, whose manifest Helm's rollback copied.
	ManifestRevision int
	// ApplyMethod is "ssa" when it was applied with server-side apply.
	ApplyMethod string
	// Objects are the release's manifest objects (no hooks).
	Objects []*unstructured.Unstructured
	// release is the decoded storage record an upgrade render starts from.
	release *helmrelease.Release
}

// CurrentRelease reads the latest deployed release name from the storage
// Secrets (of the storage namespace) on the target; nil when there is none.
func CurrentRelease(secrets corev1client.SecretInterface, name string) (*Current, error) {
	return currentRelease(storage.Init(driver.NewSecrets(secrets)), name)
}

func currentRelease(st *storage.Storage, name string) (*Current, error) {
	r, err := st.Deployed(name)
	if err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) || strings.Contains(err.Error(), "has no deployed releases") {
			return nil, nil
		}
		return nil, fmt.Errorf("reading release %s from Helm storage: %w", name, err)
	}
	rel, ok := r.(*helmrelease.Release)
	if !ok {
		return nil, fmt.Errorf("release %s: only the chart API v2 is supported", name)
	}
	objs, err := ssautil.ReadObjects(strings.NewReader(rel.Manifest))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of release %s v%d: %w", name, rel.Version, err)
	}
	c := &Current{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, LastRevision: rel.Version, ApplyMethod: rel.ApplyMethod, Objects: objs, release: rel}
	c.ManifestRevision = manifestRevision(st, rel)
	last, err := st.Last(name)
	if err != nil {
		return nil, fmt.Errorf("reading the history of release %s from Helm storage: %w", name, err)
	}
	if l, ok := last.(*helmrelease.Release); ok && l.Version > c.LastRevision {
		c.LastRevision = l.Version
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		c.ChartName, c.ChartVersion = rel.Chart.Metadata.Name, rel.Chart.Metadata.Version
	}
	return c, nil
}

// TargetCapabilities reads a cluster's server version and API versions as
// Helm does (action.GetVersionSet).
func TargetCapabilities(dc discovery.DiscoveryInterface) (Capabilities, error) {
	v, err := dc.ServerVersion()
	if err != nil {
		return Capabilities{}, err
	}
	vs, err := action.GetVersionSet(dc)
	if err != nil {
		return Capabilities{}, fmt.Errorf("reading API versions: %w", err)
	}
	return Capabilities{KubeVersion: v.GitVersion, APIVersions: vs}, nil
}

// Plan is what helm-controller would do with a HelmRelease.
type Plan string

// The plans.
const (
	PlanInstall Plan = "install"
	PlanUpgrade Plan = "upgrade"
	// PlanCorrectDrift: no upgrade, but drift detection is enabled and
	// would correct drifted objects.
	PlanCorrectDrift Plan = "correct-drift"
	PlanNone         Plan = "none"
)

// Prediction says whether helm-controller would install, upgrade, only
// correct drift, or do nothing, and with which apply method.
type Prediction struct {
	Plan Plan `json:"plan"`
	// Reason explains the plan (chart version or values changed, ...).
	Reason string `json:"reason,omitempty"`
	// FromVersion is the chart version of status.history[0].
	FromVersion string `json:"fromVersion,omitempty"`
	ToVersion   string `json:"toVersion"`
	// ServerSideApply is whether the action would use server-side apply.
	ServerSideApply bool `json:"serverSideApply"`
}

// Predict compares the render's chart version and values digest with the
// latest snapshot in hr.status.history (as helm-controller's release
// state does) and, for the apply method, the current release in storage:
// install without a deployed release, upgrade of a deployed release the
// history does not record.
func Predict(hr *helmv2.HelmRelease, chartVersion string, values common.Values, cur *Current) Prediction {
	p := Prediction{ToVersion: chartVersion}
	latest := hr.Status.History.Latest()
	if cur == nil {
		p.Plan, p.Reason = PlanInstall, "no release in the HelmRelease's history"
		if latest != nil {
			p.Reason = "no deployed release in Helm storage on the target"
		}
		p.ServerSideApply = true
		if s := hr.GetInstall().ServerSideApply; s != nil {
			p.ServerSideApply = *s
		}
		return p
	}
	switch hr.GetUpgrade().ServerSideApply {
	case helmv2.ServerSideApplyEnabled:
		p.ServerSideApply = true
	case helmv2.ServerSideApplyDisabled:
		p.ServerSideApply = false
	default:
		p.ServerSideApply = cur.ApplyMethod == "ssa"
	}
	if latest == nil {
		// helm-controller takes a release it has no history of over with
		// an upgrade (internal/reconcile: ReleaseStatusUnmanaged).
		p.Plan, p.Reason = PlanUpgrade, "release in Helm storage not in the HelmRelease's history"
		return p
	}
	p.FromVersion = latest.ChartVersion
	switch {
	case latest.Version != cur.LastRevision:
		// helm-controller verifies the last release in storage against
		// the history (internal/action VerifyReleaseObject): one it did not
		// make, such as a rollback by hand, is taken over with an upgrade.
		p.Plan, p.Reason = PlanUpgrade, fmt.Sprintf("release v%d in Helm storage is not the history's v%d", cur.LastRevision, latest.Version)
	case latest.ChartVersion != chartVersion:
		p.Plan, p.Reason = PlanUpgrade, fmt.Sprintf("chart version %s → %s", latest.ChartVersion, chartVersion)
	case latest.ConfigDigest != ValuesDigest(values):
		p.Plan, p.Reason = PlanUpgrade, "values changed"
	case hr.GetDriftDetection().Mode == helmv2.DriftDetectionEnabled:
		p.Plan, p.Reason = PlanCorrectDrift, "chart and values unchanged; drift detection enabled"
	default:
		p.Plan, p.Reason = PlanNone, "chart and values unchanged"
	}
	return p
}
