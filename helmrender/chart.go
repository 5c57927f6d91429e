package helmrender

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/internal/keyed"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// SourceKind is where a chart comes from.
type SourceKind string

// The chart sources helmrender resolves.
const (
	// SourceHelmRepository is a HelmRepository: HTTP(S) with index.yaml, or
	// OCI with Type "oci".
	SourceHelmRepository SourceKind = "HelmRepository"
	// SourceOCIRepository is an OCIRepository of a HelmRelease chartRef.
	SourceOCIRepository SourceKind = "OCIRepository"
	// SourceDir is a chart directory (a GitRepository chart path, read from
	// the checkout).
	SourceDir SourceKind = "Dir"
)

// ChartSource says where to find one chart. Credentials come from the
// source's secretRef in the hub and are never printed.
type ChartSource struct {
	Kind SourceKind
	// URL of the HelmRepository (http(s):// or oci://) or OCIRepository
	// (oci://host/path, the chart's own repository).
	URL string
	// OCI is true for a HelmRepository of type oci.
	OCI bool
	// Insecure allows plain HTTP to an OCI registry (spec.insecure).
	Insecure           bool
	Username, Password string
	// PassCredentials sends Username and Password also to chart URLs of
	// another host than URL (a HelmRepository's spec.passCredentials).
	PassCredentials bool
	// TLS is the TLS configuration from the source's certSecretRef (CA
	// trust, client certificate); nil is the system roots. See
	// WithSecrets.
	TLS *tls.Config
	// AuthHint names the Secrets the credentials and TLS come from (never
	// their data), for access errors.
	AuthHint string
	// tlsID is a hash of the TLS material WithSecrets read, so sources
	// with the same TLS Secret share a chart load and a client.
	tlsID string
	// Chart is the chart name (HelmRepository) or, for SourceDir, the
	// chart directory.
	Chart string
	// Root, for a SourceDir that is a chart path of a GitRepository (the
	// checkout), is the root of the source tree: the chart is read from
	// the artifact source-controller makes of it (loadArtifactChart).
	// Empty reads the directory as it is.
	Root string
	// Ignore is the spec.ignore of a GitRepository source (nil: unset).
	Ignore *string
	// Version is a semver constraint ("*", ">=1.2 <2", "1.2.3"; empty is
	// "*") for HelmRepository and OCIRepository semver refs, or the tag of
	// an OCIRepository ref.
	Version string
	// Digest pins an OCIRepository ref (spec.ref.digest).
	Digest string
	// GitRef is the spec.ref of a SourceGitRepository (URL is its
	// spec.url, Chart the chart path in it); BearerToken its Secret's
	// bearerToken.
	GitRef      *gitrepo.Ref
	BearerToken string
	// Bucket is the Bucket of a SourceBucket (Chart the chart path in it).
	Bucket *BucketSource
	// Object names the source object ("GitRepository/ns/name") in errors
	// of GitRepository and Bucket charts.
	Object string
	// RevisionVersion is reconcileStrategy Revision of a GitRepository or
	// Bucket chart: the version gets the source revision as metadata.
	RevisionVersion bool
}

// ID names the source in errors and cache keys; it has no credentials.
func (s ChartSource) ID() string {
	switch s.Kind {
	case SourceDir:
		return s.Chart
	case SourceOCIRepository:
		return s.URL
	case SourceGitRepository:
		ref := gitrepo.Ref{}
		if s.GitRef != nil {
			ref = *s.GitRef
		}
		return s.object() + strings.TrimSuffix(s.URL, "/") + "@" + ref.String() + "//" + s.Chart + s.strategy()
	case SourceBucket:
		if s.Bucket != nil {
			return s.object() + s.Bucket.id() + "//" + s.Chart + s.strategy()
		}
	}
	return strings.TrimSuffix(s.URL, "/") + "/" + s.Chart
}

// ignoreKey tells an unset spec.ignore from each set one in cache keys.
func ignoreKey(ignore *string) string {
	if ignore == nil {
		return "-"
	}
	return "+" + *ignore
}

// Loaded is a resolved, loaded chart.
type Loaded struct {
	Chart *chart.Chart
	// Version is the resolved chart version.
	Version string
	// Digest is the sha256 of the archive (or the OCI manifest digest);
	// empty for chart directories.
	Digest string
	// Revision is the source revision of a chart path of a GitRepository
	// (the commit) or Bucket ("sha256:..." of its listing).
	Revision string
}

// Fetcher resolves charts, keeps downloaded archives in CacheDir, and
// loads each chart once per Fetcher however many HelmReleases use it.
type Fetcher struct {
	// CacheDir holds downloaded charts and repository indexes; default
	// DefaultCacheDir().
	CacheDir string
	// Offline uses only the cache and chart directories.
	Offline bool
	// HTTP is the client for HTTP repositories; default http.DefaultClient.
	HTTP *http.Client

	loaded     keyed.Once[string, *Loaded]
	mu         sync.Mutex
	tlsClients map[string]*http.Client
}

// DefaultCacheDir is ~/.cache/kubectl-c5c3/charts (XDG_CACHE_HOME honoured).
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "kubectl-c5c3", "charts")
}

// Load resolves and loads the chart of src, once per Fetcher and source.
func (f *Fetcher) Load(ctx context.Context, src ChartSource) (*Loaded, error) {
	key := fmt.Sprintf("%s|%s|%s|%s|%v|%s", src.Kind, src.ID(), src.Version, src.Digest, src.OCI, ignoreKey(src.Ignore)) + src.accessKey()
	return f.loaded.Do(key, func() (*Loaded, error) {
		l, err := f.load(ctx, src)
		if err = accessHint(err, src); err != nil {
			return l, fmt.Errorf("chart %s@%s: %w", src.ID(), orStar(src.Version), err)
		}
		return l, nil
	})
}

func orStar(v string) string {
	if v == "" {
		return "*"
	}
	return v
}

func (f *Fetcher) cacheDir() string {
	if f.CacheDir != "" {
		return f.CacheDir
	}
	return DefaultCacheDir()
}

func (f *Fetcher) load(ctx context.Context, src ChartSource) (*Loaded, error) {
	switch {
	case src.Kind == SourceDir && src.Root != "":
		ch, err := loadArtifactChart(src.Root, src.Chart, src.Ignore)
		if err != nil {
			return nil, err
		}
		return &Loaded{Chart: ch, Version: ch.Metadata.Version}, nil
	case src.Kind == SourceDir:
		ch, err := loader.LoadDir(src.Chart)
		if err != nil {
			return nil, err
		}
		return &Loaded{Chart: ch, Version: ch.Metadata.Version}, nil
	case src.Kind == SourceOCIRepository:
		l, err := f.loadOCI(ctx, strings.TrimPrefix(src.URL, "oci://"), src)
		if err != nil {
			return nil, err
		}
		return withDigestVersion(l)
	case src.Kind == SourceHelmRepository && (src.OCI || strings.HasPrefix(src.URL, "oci://")):
		return f.loadOCI(ctx, strings.TrimSuffix(strings.TrimPrefix(src.URL, "oci://"), "/")+"/"+src.Chart, src)
	case src.Kind == SourceHelmRepository:
		return f.loadHTTP(ctx, src)
	case src.Kind == SourceGitRepository:
		return f.loadGit(ctx, src)
	case src.Kind == SourceBucket:
		return f.loadBucket(ctx, src)
	}
	return nil, fmt.Errorf("unsupported chart source kind %q", src.Kind)
}

// keyOf is a file-name-safe key of s.
func keyOf(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s)))[:16] }

func (f *Fetcher) loadHTTP(ctx context.Context, src ChartSource) (*Loaded, error) {
	base := strings.TrimSuffix(src.URL, "/")
	dir := filepath.Join(f.cacheDir(), "http", keyOf(base))
	indexPath := filepath.Join(dir, "index.yaml")
	var index []byte
	var err error
	if f.Offline {
		if index, err = os.ReadFile(indexPath); err != nil {
			return nil, fmt.Errorf("offline and no cached index of %s: %w", base, err)
		}
	} else {
		if index, err = f.get(ctx, base+"/index.yaml", src); err != nil {
			return nil, fmt.Errorf("reading the repository index: %w", err)
		}
		if err := writeAtomic(indexPath, index); err != nil {
			return nil, err
		}
	}
	idx := repo.NewIndexFile()
	if err := yaml.Unmarshal(index, idx); err != nil {
		return nil, fmt.Errorf("parsing index.yaml of %s: %w", base, err)
	}
	idx.SortEntries()
	cv, err := idx.Get(src.Chart, src.Version)
	if err != nil {
		return nil, fmt.Errorf("no version of %s matches %q in %s: %w", src.Chart, orStar(src.Version), base, err)
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("index entry %s-%s has no URL", cv.Name, cv.Version)
	}
	archive := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.tgz", cv.Name, cv.Version, keyOf(cv.Digest+cv.URLs[0])))
	data, err := os.ReadFile(archive)
	if err != nil {
		if f.Offline {
			return nil, fmt.Errorf("offline and %s-%s is not cached", cv.Name, cv.Version)
		}
		u, err := resolveURL(base, cv.URLs[0])
		if err != nil {
			return nil, err
		}
		if data, err = f.get(ctx, u, src); err != nil {
			return nil, fmt.Errorf("downloading %s-%s: %w", cv.Name, cv.Version, err)
		}
		if cv.Digest != "" && fmt.Sprintf("%x", sha256.Sum256(data)) != cv.Digest {
			return nil, fmt.Errorf("%s-%s: archive digest does not match the index", cv.Name, cv.Version)
		}
		if err := writeAtomic(archive, data); err != nil {
			return nil, err
		}
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return &Loaded{Chart: ch, Version: ch.Metadata.Version, Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(data))}, nil
}

func resolveURL(base, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	if u.IsAbs() {
		return ref, nil
	}
	b, err := url.Parse(base + "/")
	if err != nil {
		return "", err
	}
	return b.ResolveReference(u).String(), nil
}

func (f *Fetcher) get(ctx context.Context, u string, src ChartSource) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if sendCredentials(src, u) {
		req.SetBasicAuth(src.Username, src.Password)
	}
	c, err := f.httpClient(src)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{URL: u, Code: resp.StatusCode, Status: resp.Status}
	}
	return io.ReadAll(resp.Body)
}

func (f *Fetcher) loadOCI(ctx context.Context, ref string, src ChartSource) (*Loaded, error) {
	dir := filepath.Join(f.cacheDir(), "oci", keyOf(ref))
	version := src.Version
	if src.Digest == "" && !f.Offline {
		rc, err := f.registryClient(ctx, src)
		if err != nil {
			return nil, err
		}
		if _, err := semver.NewConstraint(orStar(version)); err == nil && !isExactVersion(version) {
			tags, err := rc.Tags(ref)
			if err != nil {
				return nil, fmt.Errorf("listing tags of %s: %w", ref, err)
			}
			if version, err = bestTag(tags, orStar(version)); err != nil {
				return nil, fmt.Errorf("%s: %w", ref, err)
			}
		}
		pull := ref + ":" + version
		res, err := rc.Pull(pull)
		if err != nil {
			return nil, fmt.Errorf("pulling %s: %w", pull, err)
		}
		if err := writeAtomic(filepath.Join(dir, res.Manifest.Digest+".tgz"), res.Chart.Data); err != nil {
			return nil, err
		}
		if err := writeAtomic(filepath.Join(dir, "tag-"+version), []byte(res.Manifest.Digest)); err != nil {
			return nil, err
		}
		return loadOCIArchive(res.Chart.Data, res.Manifest.Digest)
	}
	dgst := src.Digest
	if dgst == "" {
		b, err := os.ReadFile(filepath.Join(dir, "tag-"+version))
		if err != nil {
			return nil, fmt.Errorf("offline and %s:%s is not cached", ref, version)
		}
		dgst = string(b)
	}
	data, err := os.ReadFile(filepath.Join(dir, dgst+".tgz"))
	if err != nil {
		if f.Offline {
			return nil, fmt.Errorf("offline and %s@%s is not cached", ref, dgst)
		}
		rc, err := f.registryClient(ctx, src)
		if err != nil {
			return nil, err
		}
		res, err := rc.Pull(ref + "@" + dgst)
		if err != nil {
			return nil, fmt.Errorf("pulling %s@%s: %w", ref, dgst, err)
		}
		data = res.Chart.Data
		if err := writeAtomic(filepath.Join(dir, dgst+".tgz"), data); err != nil {
			return nil, err
		}
	}
	return loadOCIArchive(data, dgst)
}

// withDigestVersion appends the first 12 hex digits of the artifact digest
// to the chart version as semver metadata ("0.1.0+0123456789ab"), as
// helm-controller does for charts from an OCIRepository (so that a moved
// tag is an upgrade).
func withDigestVersion(l *Loaded) (*Loaded, error) {
	_, hex, ok := strings.Cut(l.Digest, ":")
	if !ok || len(hex) < 12 {
		return nil, fmt.Errorf("invalid artifact digest %q", l.Digest)
	}
	return withVersionMetadata(l, hex[:12])
}

// withVersionMetadata returns l with meta as the chart version's semver
// metadata ("0.1.0+<meta>"); the loaded chart itself is not changed.
func withVersionMetadata(l *Loaded, meta string) (*Loaded, error) {
	v, err := semver.NewVersion(l.Chart.Metadata.Version)
	if err != nil {
		return nil, fmt.Errorf("invalid chart version %s", l.Chart.Metadata.Version)
	}
	mv, err := v.SetMetadata(meta)
	if err != nil {
		return nil, err
	}
	md := *l.Chart.Metadata
	md.Version = mv.String()
	ch := *l.Chart
	ch.Metadata = &md
	out := *l
	out.Chart, out.Version = &ch, md.Version
	return &out, nil
}

func loadOCIArchive(data []byte, dgst string) (*Loaded, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return &Loaded{Chart: ch, Version: ch.Metadata.Version, Digest: dgst}, nil
}

func isExactVersion(v string) bool {
	_, err := semver.StrictNewVersion(strings.TrimPrefix(v, "v"))
	return err == nil
}

// bestTag is the highest semver tag that satisfies constraint.
func bestTag(tags []string, constraint string) (string, error) {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", err
	}
	var best *semver.Version
	var bestTag string
	for _, t := range tags {
		v, err := semver.NewVersion(t)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestTag = v, t
		}
	}
	if best == nil {
		return "", fmt.Errorf("no tag matches %q", constraint)
	}
	return bestTag, nil
}

func (f *Fetcher) registryClient(ctx context.Context, src ChartSource) (*registry.Client, error) {
	opts := []registry.ClientOption{registry.ClientOptWriter(io.Discard),
		// Credentials only from the source's Secret, never from the
		// user's docker config.
		registry.ClientOptCredentialsFile(filepath.Join(f.cacheDir(), "no-credentials.json"))}
	if src.Username != "" || src.Password != "" {
		opts = append(opts, registry.ClientOptBasicAuth(src.Username, src.Password))
	}
	if src.Insecure {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	// Helm's registry client makes its requests without a context (Tags,
	// Pull): its transport ends them when ctx is done, so that a registry
	// that never answers cannot keep a cancelled command (Ctrl-C) waiting.
	c := &http.Client{Transport: registry.NewTransport(false)}
	if f.HTTP != nil || src.TLS != nil {
		var err error
		if c, err = f.httpClient(src); err != nil {
			return nil, err
		}
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	interruptible := *c
	interruptible.Transport = kube.Interruptible(ctx)(rt)
	opts = append(opts, registry.ClientOptHTTPClient(&interruptible))
	return registry.NewClient(opts...)
}

// writeAtomic writes data to path through a temporary name of this process.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
