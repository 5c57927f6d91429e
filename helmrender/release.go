package helmrender

import (
	"errors"
	"fmt"
	"strings"

	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"helm.sh/helm/v4/pkg/action"
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
	// LastStatus is the status of the release at LastRevision (deployed,
	// failed, pending-upgrade, ...), which helm-controller's release
	// state reads.
	LastStatus string
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
	if l, ok := last.(*helmrelease.Release); ok && l.Version >= c.LastRevision {
		c.LastRevision = l.Version
		if l.Info != nil {
			c.LastStatus = l.Info.Status.String()
		}
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
