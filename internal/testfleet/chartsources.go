package testfleet

import (
	"context"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fluxcd/pkg/gittestserver"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ChartGit is a git repository holding the webapp test chart at
// charts/webapp, served over HTTP with basic auth by
// fluxcd/pkg/gittestserver on 127.0.0.1.
type ChartGit struct {
	// URL is the repository's http:// URL, without credentials.
	URL                string
	Username, Password string
	// BearerToken is accepted in place of the basic auth.
	BearerToken string
	// Tagged is the commit of the annotated tag v0.1.0 (webapp 0.1.0);
	// Head the commit of branch main (webapp 0.2.0).
	Tagged, Head string
	Server       *gittestserver.GitServer
}

// StartChartGit commits testdata/charts/webapp-0.1.0 as charts/webapp
// (tagged v0.1.0), then webapp-0.2.0 on top (branch main), and serves the
// repository until the test ends.
func StartChartGit(t *testing.T) *ChartGit {
	t.Helper()
	charts, err := ChartsDir()
	if err != nil {
		t.Fatal(err)
	}
	log.SetOutput(io.Discard) // gittestserver logs every request
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	srv, err := gittestserver.NewTempGitServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(srv.Root()) })
	work := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		c := exec.Command("git", append([]string{"-c", "user.name=c5c3 test", "-c", "user.email=test@c5c3.example", "-c", "core.hooksPath=" + os.DevNull}, args...)...)
		c.Dir = work
		c.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1")
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	commitChart := func(version string) string {
		t.Helper()
		dst := filepath.Join(work, "charts", "webapp")
		if err := os.RemoveAll(dst); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(dst, os.DirFS(filepath.Join(charts, "webapp-"+version))); err != nil {
			t.Fatal(err)
		}
		git("add", "-A")
		git("commit", "--quiet", "-m", "webapp "+version)
		return git("rev-parse", "HEAD")
	}
	git("init", "--quiet", "--initial-branch=main")
	g := &ChartGit{Username: "git-user", Password: "git-s3cr3t-do-not-print", BearerToken: "git-t0ken-do-not-print", Server: srv}
	g.Tagged = commitChart("0.1.0")
	git("tag", "-a", "-m", "webapp 0.1.0", "v0.1.0")
	g.Head = commitChart("0.2.0")
	bare := filepath.Join(srv.Root(), "charts.git")
	git("init", "--quiet", "--bare", "--initial-branch=main", bare)
	git("push", "--quiet", bare, "main:main", "refs/tags/v0.1.0")
	srv.Auth(g.Username, g.Password)
	// A host that also takes a bearer token (as GitHub and Gitea do) for
	// the user: the token stands for its basic auth.
	srv.AddHTTPMiddlewares(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "Bearer "+g.BearerToken {
				r.SetBasicAuth(g.Username, g.Password)
			}
			next.ServeHTTP(w, r)
		})
	})
	if err := srv.StartHTTP(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.StopHTTP)
	g.URL = srv.HTTPAddress() + "/charts.git"
	return g
}

// ChartBucket is an S3 bucket holding the webapp test chart (0.1.0)
// under charts/webapp, served by gofakes3 on 127.0.0.1 and reached with
// minio-go, as source-controller reaches S3.
type ChartBucket struct {
	// Endpoint is "127.0.0.1:<port>" (plain HTTP: spec.insecure).
	Endpoint             string
	Name                 string
	AccessKey, SecretKey string
	// Client writes to the bucket.
	Client *minio.Client
	// Log lists the requests the server answered, "METHOD /path".
	Log func() []string
	// AccessKeys are the access keys of the signed requests seen.
	AccessKeys func() []string
}

// StartChartBucket uploads testdata/charts/webapp-0.1.0 as
// charts/webapp/... into a bucket "charts" (with an object outside the
// prefix) and serves it until the test ends.
func StartChartBucket(t *testing.T) *ChartBucket {
	t.Helper()
	b := &ChartBucket{Name: "charts", AccessKey: "bucket-access", SecretKey: "bucket-s3cr3t-do-not-print"}
	faker := gofakes3.New(s3mem.New())
	var mu sync.Mutex
	var requests, keys []string
	h := faker.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.Path)
		if a := r.Header.Get("Authorization"); a != "" {
			if _, cred, ok := strings.Cut(a, "Credential="); ok {
				k, _, _ := strings.Cut(cred, "/")
				keys = append(keys, k)
			}
		}
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	b.Log = func() []string { mu.Lock(); defer mu.Unlock(); return append([]string{}, requests...) }
	b.AccessKeys = func() []string { mu.Lock(); defer mu.Unlock(); return append([]string{}, keys...) }
	c, err := minio.New(b.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(b.AccessKey, b.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	b.Client = c
	ctx := context.Background()
	if err := c.MakeBucket(ctx, b.Name, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	charts, err := ChartsDir()
	if err != nil {
		t.Fatal(err)
	}
	b.PutDir(t, filepath.Join(charts, "webapp-0.1.0"), "charts/webapp")
	b.Put(t, "README.md", "not part of any chart\n")
	return b
}

// PutDir uploads the files of dir under the key prefix.
func (b *ChartBucket) PutDir(t *testing.T, dir, prefix string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		_, err = b.Client.FPutObject(context.Background(), b.Name, prefix+"/"+filepath.ToSlash(rel), p, minio.PutObjectOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Put uploads one object.
func (b *ChartBucket) Put(t *testing.T, key, content string) {
	t.Helper()
	if _, err := b.Client.PutObject(context.Background(), b.Name, key, strings.NewReader(content), int64(len(content)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}
