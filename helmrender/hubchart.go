package helmrender

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ArtifactProxy reads source-controller artifacts of the hub through the
// Kubernetes API server's service proxy
// (/api/v1/namespaces/NS/services/SCHEME:NAME:PORT/proxy/PATH), so charts
// of repositories only the hub can reach still render. It needs `get` on
// the HelmChart and on services/proxy in source-controller's namespace.
type ArtifactProxy struct {
	// Reader reads HelmCharts from the hub.
	Reader client.Reader
	// Kube is the hub's clientset; its core API proxies to the Service
	// named by the artifact URL, whatever backs that Service.
	Kube kubernetes.Interface
}

// HubChart is the HelmChart helm-controller made in the hub for one
// HelmRelease (status.helmChart, else NAMESPACE-NAME in the source's
// namespace), and what the checkout's spec.chart.spec expects of it.
type HubChart struct {
	Proxy           *ArtifactProxy
	Namespace, Name string
	// SourceKind and SourceName are the checkout's spec.chart.spec.sourceRef.
	SourceKind, SourceName string
	// ValuesFiles are the checkout's spec.chart.spec.valuesFiles:
	// source-controller merges them into the artifact, so a HelmChart made
	// with other ones holds another chart.
	ValuesFiles []string
}

// ID is "HelmChart/namespace/name".
func (h HubChart) ID() string { return "HelmChart/" + h.Namespace + "/" + h.Name }

// LoadWithHub loads the chart of a HelmRepository source like Load, but
// reads it from the hub's source-controller when hub's HelmChart already
// holds the version src resolves to:
//
//   - src pins an exact version that the HelmChart's Ready artifact has: the
//     artifact is read through the service proxy (or from the cache, by its
//     digest) before the repository is asked, as helm-controller would use
//     that very artifact; if that fails the repository is asked.
//   - otherwise the repository is asked first (a constraint resolves against
//     its index); when it cannot be reached the HelmChart's artifact is used
//     if it satisfies src: the same exact version, or for a constraint a
//     HelmChart made for that same constraint (what source-controller
//     resolved last).
//
// A failure on both ways is one error naming the repository and the
// HelmChart with both reasons. Other sources load as with Load.
func (f *Fetcher) LoadWithHub(ctx context.Context, src ChartSource, hub HubChart) (*Loaded, error) {
	if src.Kind != SourceHelmRepository || hub.Proxy == nil {
		return f.Load(ctx, src)
	}
	exact := isExactVersion(src.Version)
	var hubErr error
	if exact {
		l, err := f.loadHubChart(ctx, src, hub)
		if err == nil {
			return l, nil
		}
		hubErr = err
	}
	l, err := f.Load(ctx, src)
	if err == nil || exact {
		if err != nil {
			err = fmt.Errorf("%w; nor from the hub: %v", err, hubErr)
		}
		return l, err
	}
	l, hubErr = f.loadHubChart(ctx, src, hub)
	if hubErr != nil {
		return nil, fmt.Errorf("%w; nor from the hub: %v", err, hubErr)
	}
	return l, nil
}

// loadHubChart reads the artifact of hub's HelmChart if it holds the chart
// src resolves to, once per Fetcher and artifact digest.
func (f *Fetcher) loadHubChart(ctx context.Context, src ChartSource, hub HubChart) (*Loaded, error) {
	art, err := hub.artifact(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hub.ID(), err)
	}
	l, err := f.loaded.Do("hub|"+art.Digest, func() (*Loaded, error) { return f.readArtifact(ctx, hub, art) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hub.ID(), err)
	}
	return l, nil
}

// artifact is hub's Ready artifact if the HelmChart was made for src's
// chart and its version is the one src asks for.
func (h HubChart) artifact(ctx context.Context, src ChartSource) (*meta.Artifact, error) {
	hc := &sourcev1.HelmChart{}
	if err := h.Proxy.Reader.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: h.Name}, hc); err != nil {
		return nil, err
	}
	switch {
	case hc.Spec.Chart != src.Chart || hc.Spec.SourceRef.Kind != h.SourceKind || hc.Spec.SourceRef.Name != h.SourceName:
		return nil, fmt.Errorf("made for chart %s of %s/%s, not %s of %s/%s", hc.Spec.Chart, hc.Spec.SourceRef.Kind, hc.Spec.SourceRef.Name,
			src.Chart, h.SourceKind, h.SourceName)
	case !slices.Equal(hc.Spec.ValuesFiles, h.ValuesFiles):
		return nil, fmt.Errorf("made with valuesFiles %v, the checkout has %v", hc.Spec.ValuesFiles, h.ValuesFiles)
	case hc.Status.Artifact == nil:
		return nil, errors.New("has no artifact yet")
	case !apimeta.IsStatusConditionTrue(hc.Status.Conditions, meta.ReadyCondition) || hc.Status.ObservedGeneration != hc.Generation:
		return nil, errors.New("is not Ready at its current generation")
	}
	art := hc.Status.Artifact
	have, err := semver.NewVersion(art.Revision)
	if err != nil {
		return nil, fmt.Errorf("artifact revision %q is not a chart version", art.Revision)
	}
	if isExactVersion(src.Version) {
		want, _ := semver.NewVersion(src.Version)
		if !have.Equal(want) {
			return nil, fmt.Errorf("holds version %s, not %s", art.Revision, src.Version)
		}
		return art, nil
	}
	c, err := semver.NewConstraint(orStar(src.Version))
	if err != nil {
		return nil, err
	}
	if orStar(hc.Spec.Version) != orStar(src.Version) || !c.Check(have) {
		return nil, fmt.Errorf("holds version %s for %q, the checkout asks for %q", art.Revision, orStar(hc.Spec.Version), orStar(src.Version))
	}
	return art, nil
}

// readArtifact reads art from the cache, else through the service proxy
// (not when offline), checks its digest and loads it.
func (f *Fetcher) readArtifact(ctx context.Context, hub HubChart, art *meta.Artifact) (*Loaded, error) {
	algo, want, ok := strings.Cut(art.Digest, ":")
	if !ok || !slices.Contains([]string{"sha256", "sha384", "sha512"}, algo) {
		return nil, fmt.Errorf("artifact digest %q: only sha256, sha384 and sha512 are checked", art.Digest)
	}
	path := filepath.Join(f.cacheDir(), "hub", algo+"-"+want+".tgz")
	data, err := os.ReadFile(path)
	if err != nil || digestOf(algo, data) != want {
		if f.Offline {
			return nil, fmt.Errorf("offline and artifact %s is not cached", art.Digest)
		}
		if data, err = hub.Proxy.get(ctx, art.URL); err != nil {
			return nil, err
		}
		if digestOf(algo, data) != want {
			return nil, fmt.Errorf("artifact read from %s does not match its digest %s", art.URL, art.Digest)
		}
		if err := writeAtomic(path, data); err != nil {
			return nil, err
		}
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", art.URL, err)
	}
	return &Loaded{Chart: ch, Version: ch.Metadata.Version, Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(data))}, nil
}

func digestOf(algo string, data []byte) string {
	var h hash.Hash
	switch algo {
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write(data)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// get reads an artifact URL of source-controller
// (http://NAME.NAMESPACE.svc.cluster.local./PATH) through the API server's
// proxy to that Service.
func (p *ArtifactProxy) get(ctx context.Context, artifactURL string) ([]byte, error) {
	scheme, ns, name, port, path, err := ServiceOf(artifactURL)
	if err != nil {
		return nil, err
	}
	data, err := p.Kube.CoreV1().Services(ns).ProxyGet(scheme, name, port, path, nil).DoRaw(ctx)
	if err != nil {
		var st apierrors.APIStatus
		if errors.As(err, &st) && st.Status().Code == http.StatusForbidden {
			return nil, fmt.Errorf("reading %s through the API server's proxy to Service %s/%s: forbidden (needs get on services/proxy in %s)", path, ns, name, ns)
		}
		return nil, fmt.Errorf("reading %s through the API server's proxy to Service %s/%s: %w", path, ns, name, err)
	}
	return data, nil
}

// ServiceOf splits an in-cluster URL (scheme://NAME.NAMESPACE.svc[.DOMAIN][:PORT]/PATH)
// into the Service it names, its port (the scheme's default when none)
// and the path.
func ServiceOf(rawURL string) (scheme, namespace, name, port, path string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", "", "", "", fmt.Errorf("artifact URL %q: %w", rawURL, err)
	}
	labels := strings.Split(strings.TrimSuffix(u.Hostname(), "."), ".")
	if (u.Scheme != "http" && u.Scheme != "https") || len(labels) < 3 || labels[2] != "svc" {
		return "", "", "", "", "", fmt.Errorf("artifact URL %q does not name a Service (http(s)://NAME.NAMESPACE.svc...)", rawURL)
	}
	port = u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", "", "", "", fmt.Errorf("artifact URL %q: invalid port %q", rawURL, port)
	}
	return u.Scheme, labels[1], labels[0], port, u.Path, nil
}
