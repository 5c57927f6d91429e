package helmrender

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
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
// The release's Secrets are listed once and only the revisions it needs
// are decoded (base64, gzip, JSON: each carries the whole chart): the
// deployed one, the last one when it is another, and a rollback's target.
func CurrentRelease(secrets corev1client.SecretInterface, name string) (*Current, error) {
	list, err := secrets.List(context.Background(), metav1.ListOptions{
		LabelSelector: labels.Set{"owner": "helm", "name": name}.AsSelector().String()})
	if err != nil {
		return nil, fmt.Errorf("reading release %s from Helm storage: %w", name, err)
	}
	var h history
	for i := range list.Items {
		s := &list.Items[i]
		v, err := strconv.Atoi(s.Labels["version"])
		if err != nil {
			// No version label to sort by: decode it to read its own.
			rel, err := decodeRelease(s.Data["release"])
			if err != nil {
				continue // as Helm's storage query skips it
			}
			h = append(h, &stored{version: rel.Version, status: s.Labels["status"], rel: rel, done: true})
			continue
		}
		h = append(h, &stored{version: v, status: s.Labels["status"], data: s.Data["release"]})
	}
	return currentRelease(h, name)
}

// stored is one revision in Helm storage, decoded on first use.
type stored struct {
	version int
	// status is the storage record's status label, which Helm's query
	// for the deployed release selects by.
	status string
	data   []byte
	done   bool
	rel    *helmrelease.Release
	err    error
}

func (s *stored) release() (*helmrelease.Release, error) {
	if !s.done {
		s.rel, s.err = decodeRelease(s.data)
		s.done, s.data = true, nil
	}
	return s.rel, s.err
}

// history is a release's revisions in storage.
type history []*stored

// latest is the highest revision that decodes and matches keep, as Helm's
// storage (Deployed, Last) picks it; nil when there is none.
func (h history) latest(keep func(*stored) bool) (*helmrelease.Release, error) {
	byVersion := slices.Clone(h)
	slices.SortStableFunc(byVersion, func(a, b *stored) int { return b.version - a.version })
	for _, s := range byVersion {
		if !keep(s) {
			continue
		}
		if rel, err := s.release(); err == nil {
			return rel, nil
		}
	}
	return nil, nil
}

// get is revision v, nil when it is not in storage or does not decode.
func (h history) get(v int) *helmrelease.Release {
	for _, s := range h {
		if s.version == v {
			rel, _ := s.release()
			return rel
		}
	}
	return nil
}

// decodeRelease decodes a storage record as Helm's storage drivers do:
// base64, gzip when it carries gzip's magic bytes, JSON.
func decodeRelease(data []byte) (*helmrelease.Release, error) {
	b := make([]byte, base64.StdEncoding.DecodedLen(len(data)))
	n, err := base64.StdEncoding.Decode(b, data)
	if err != nil {
		return nil, err
	}
	b = b[:n]
	if len(b) > 3 && bytes.Equal(b[:3], []byte{0x1f, 0x8b, 0x08}) {
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		defer r.Close()
		if b, err = io.ReadAll(r); err != nil {
			return nil, err
		}
	}
	var rel helmrelease.Release
	if err := json.Unmarshal(b, &rel); err != nil {
		return nil, err
	}
	return &rel, nil
}

func currentRelease(h history, name string) (*Current, error) {
	rel, _ := h.latest(func(s *stored) bool { return s.status == rcommon.StatusDeployed.String() })
	if rel == nil {
		return nil, nil
	}
	objs, err := ssautil.ReadObjects(strings.NewReader(rel.Manifest))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of release %s v%d: %w", name, rel.Version, err)
	}
	c := &Current{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, LastRevision: rel.Version, ApplyMethod: rel.ApplyMethod, Objects: objs, release: rel}
	c.ManifestRevision = manifestRevision(h, rel)
	if l, _ := h.latest(func(*stored) bool { return true }); l != nil && l.Version >= c.LastRevision {
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
