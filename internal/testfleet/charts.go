package testfleet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/registry"
	"helm.sh/helm/v4/pkg/repo/v1/repotest"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Chart is one test chart from testdata/charts, packaged at test time.
type Chart struct {
	Name    string
	Version string
	// Archive is the packaged .tgz (in the HTTP repository's docroot).
	Archive string
	// OCIRef is where it was pushed in the OCI registry, without the tag:
	// "<host:port>/charts/<name>".
	OCIRef string
	// OCIDigest is the manifest digest of the pushed chart.
	OCIDigest string
}

// ChartServers serves the test charts over helm's own test servers on
// 127.0.0.1: an HTTP chart repository with an index.yaml
// (repotest.Server) and an in-process OCI registry from
// distribution/distribution (repotest.OCIServer, basic auth).
type ChartServers struct {
	// HTTP is the chart repository; HTTP.URL() is its base URL.
	HTTP *repotest.Server
	// OCI is the registry; OCIHost is its "localhost:<port>".
	OCI      *repotest.OCIServer
	OCIHost  string
	Username string
	Password string
	// Charts by "name-version".
	Charts map[string]*Chart
}

// ChartsDir is testdata/charts in the module root.
func ChartsDir() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "testdata", "charts"), nil
}

// StartChartServers packages every chart directory of testdata/charts,
// publishes the archives in an HTTP repository (with index.yaml) and
// pushes them to an OCI registry. Both stop when the test ends.
func StartChartServers(t *testing.T) *ChartServers {
	t.Helper()
	dir, err := ChartsDir()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := &ChartServers{HTTP: repotest.NewTempServer(t), Charts: map[string]*Chart{}}
	t.Cleanup(s.HTTP.Stop)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		ch, err := loader.LoadDir(filepath.Join(dir, n))
		if err != nil {
			t.Fatalf("loading chart testdata/charts/%s: %v", n, err)
		}
		archive, err := chartutil.Save(ch, s.HTTP.Root())
		if err != nil {
			t.Fatalf("packaging chart testdata/charts/%s: %v", n, err)
		}
		c := &Chart{Name: ch.Metadata.Name, Version: ch.Metadata.Version, Archive: archive}
		s.Charts[c.Name+"-"+c.Version] = c
	}
	if err := s.HTTP.CreateIndex(); err != nil {
		t.Fatal(err)
	}

	oci, err := repotest.NewOCIServer(t, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := cheapenPassword(oci); err != nil {
		t.Fatal(err)
	}
	// The registry logs every request through logrus; keep test output
	// readable.
	logrus.SetOutput(io.Discard)
	served := make(chan error, 1)
	go func() { served <- oci.ListenAndServe() }()
	s.OCI, s.OCIHost, s.Username, s.Password = oci, oci.RegistryURL, oci.TestUsername, oci.TestPassword
	rc, err := registry.NewClient(registry.ClientOptBasicAuth(s.Username, s.Password), registry.ClientOptPlainHTTP(),
		registry.ClientOptCredentialsFile(filepath.Join(t.TempDir(), "config.json")))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Charts {
		data, err := os.ReadFile(c.Archive)
		if err != nil {
			t.Fatal(err)
		}
		c.OCIRef = fmt.Sprintf("%s/charts/%s", s.OCIHost, c.Name)
		res, err := pushWithRetry(rc, data, c.OCIRef+":"+c.Version, served)
		if err != nil {
			t.Fatalf("pushing %s-%s to the test registry: %v", c.Name, c.Version, err)
		}
		c.OCIDigest = res.Manifest.Digest
	}
	return s
}

// cheapenPassword hashes the registry's password again at bcrypt.MinCost.
// repotest writes its htpasswd file with bcrypt.DefaultCost, and the
// registry checks the password of every request against it: ~70 ms of CPU
// per request, a third of the plugin package's test CPU. The registry
// reads the file on its first request (and again whenever it changes), so
// it sees only this one; the user and password stay repotest's.
func cheapenPassword(oci *repotest.OCIServer) error {
	path := filepath.Join(oci.Dir, "authtest.htpasswd")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("the test registry's htpasswd file: %w", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(oci.TestPassword), bcrypt.MinCost)
	if err != nil {
		return err
	}
	return os.WriteFile(path, fmt.Appendf(nil, "%s:%s\n", oci.TestUsername, hash), 0o644)
}

// pushWithRetry pushes a chart, retrying while the registry, started in
// the background, is not listening yet.
func pushWithRetry(rc *registry.Client, data []byte, ref string, served <-chan error) (*registry.PushResult, error) {
	// repotest picks the registry's port by listening and closing, and
	// ListenAndServe runs in the background: on a loaded machine the first
	// pushes can come before it listens. Retry until it answers, but stop at
	// once when it could not serve at all (its port was taken meanwhile).
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := rc.Push(data, ref)
		if err == nil {
			return res, nil
		}
		select {
		case serveErr := <-served:
			return nil, fmt.Errorf("the test registry stopped serving: %v (last push: %w)", serveErr, err)
		default:
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PublishChartArtifact serves chart c's archive as the artifact of the
// OCIRepository key in the hub and writes the status source-controller
// writes after pulling it: revision "<tag>@<manifest digest>", the
// archive's sha256 digest (which helm-controller verifies), Ready.
func (f *Fleet) PublishChartArtifact(ctx context.Context, srv *ArtifactServer, key client.ObjectKey, c *Chart) error {
	data, err := os.ReadFile(c.Archive)
	if err != nil {
		return err
	}
	repo := &sourcev1.OCIRepository{}
	if err := f.Hub.Client.Get(ctx, key, repo); err != nil {
		return err
	}
	revision := c.Version + "@" + c.OCIDigest
	path := fmt.Sprintf("ocirepository/%s/%s/%s.tgz", key.Namespace, key.Name, strings.TrimPrefix(c.OCIDigest, "sha256:"))
	size := int64(len(data))
	repo.Status.Artifact = &meta.Artifact{
		Path: path, URL: srv.Put(path, data), Revision: revision,
		Digest:         fmt.Sprintf("sha256:%x", sha256.Sum256(data)),
		LastUpdateTime: metav1.NewTime(time.Now().Truncate(time.Second)), Size: &size,
	}
	repo.Status.ObservedGeneration = repo.Generation
	msg := "stored artifact for digest '" + revision + "'"
	apimeta.SetStatusCondition(&repo.Status.Conditions, metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue,
		Reason: meta.SucceededReason, Message: msg, ObservedGeneration: repo.Generation})
	apimeta.SetStatusCondition(&repo.Status.Conditions, metav1.Condition{Type: sourcev1.ArtifactInStorageCondition, Status: metav1.ConditionTrue,
		Reason: meta.SucceededReason, Message: msg, ObservedGeneration: repo.Generation})
	return f.Hub.Client.Status().Update(ctx, repo)
}
