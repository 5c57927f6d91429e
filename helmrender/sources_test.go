package helmrender_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

func gitSource(g *testfleet.ChartGit, ref gitrepo.Ref) helmrender.ChartSource {
	return helmrender.ChartSource{Kind: helmrender.SourceGitRepository, URL: g.URL, GitRef: &ref,
		Username: g.Username, Password: g.Password, Chart: "./charts/webapp"}
}

// TestFetchGitRepository clones a GitRepository served by gittestserver
// over HTTP with basic auth at each kind of spec.ref, as source-controller
// resolves them; caches each commit's tree so a pinned commit needs no
// server; reads a branch offline at the commit it last resolved to; and
// keeps credentials out of errors.
func TestFetchGitRepository(t *testing.T) {
	g := testfleet.StartChartGit(t)
	cache := t.TempDir()
	ctx := context.Background()
	f := &helmrender.Fetcher{CacheDir: cache}
	for _, tc := range []struct {
		ref          gitrepo.Ref
		version, rev string
	}{
		{gitrepo.Ref{Branch: "main"}, "0.2.0", g.Head},
		{gitrepo.Ref{Tag: "v0.1.0"}, "0.1.0", g.Tagged}, // annotated: peeled to its commit
		{gitrepo.Ref{SemVer: ">=0.1 <0.2"}, "0.1.0", g.Tagged},
		{gitrepo.Ref{Name: "refs/heads/main"}, "0.2.0", g.Head},
		{gitrepo.Ref{Name: "refs/tags/v0.1.0"}, "0.1.0", g.Tagged},
		{gitrepo.Ref{Branch: "main", Commit: g.Tagged}, "0.1.0", g.Tagged},
		// spec.ref.commit wins over the tag, as in source-controller.
		{gitrepo.Ref{Tag: "v0.1.0", Commit: g.Head}, "0.2.0", g.Head},
	} {
		l, err := f.Load(ctx, gitSource(g, tc.ref))
		if err != nil {
			t.Fatalf("%s: %v", tc.ref, err)
		}
		if l.Version != tc.version || l.Revision != tc.rev || l.Chart.Metadata.Name != "webapp" {
			t.Errorf("%s: chart %s %s at %s, want %s at %s", tc.ref, l.Chart.Metadata.Name, l.Version, l.Revision, tc.version, tc.rev)
		}
		if tc.version == "0.1.0" && !hasTemplate(l, "templates/pdb.yaml") {
			t.Errorf("%s: webapp 0.1.0 without its pdb.yaml", tc.ref)
		}
	}

	// reconcileStrategy Revision: the commit as version metadata, as
	// source-controller builds the chart (same Fetcher, its own entry).
	rv := gitSource(g, gitrepo.Ref{Tag: "v0.1.0"})
	rv.RevisionVersion = true
	if l, err := f.Load(ctx, rv); err != nil || l.Version != "0.1.0+"+g.Tagged[:12] || l.Chart.Metadata.Version != l.Version {
		t.Errorf("reconcileStrategy Revision: %v %+v", err, l)
	}

	// A bearer token instead of basic auth.
	tok := gitSource(g, gitrepo.Ref{Tag: "v0.1.0"})
	tok.Username, tok.Password, tok.BearerToken = "", "", g.BearerToken
	if l, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).Load(ctx, tok); err != nil || l.Revision != g.Tagged {
		t.Errorf("bearer token: %v %+v", err, l)
	}

	// Errors name the repository and ref, never the credentials.
	for _, tc := range []struct {
		src  helmrender.ChartSource
		want string
	}{
		{func() helmrender.ChartSource { s := gitSource(g, gitrepo.Ref{}); return s }(), "refs/heads/master"},
		{func() helmrender.ChartSource { s := gitSource(g, gitrepo.Ref{Tag: "v9"}); return s }(), "refs/tags/v9"},
		{func() helmrender.ChartSource { s := gitSource(g, gitrepo.Ref{SemVer: ">=9"}); return s }(), `no tag of ` + g.URL + ` matches semver ">=9"`},
		{func() helmrender.ChartSource { s := gitSource(g, gitrepo.Ref{Commit: "abc"}); return s }(), "not a full SHA-1"},
		{func() helmrender.ChartSource {
			s := gitSource(g, gitrepo.Ref{Branch: "main"})
			s.Chart = "charts/none"
			return s
		}(), "no chart directory charts/none"},
		{func() helmrender.ChartSource {
			s := gitSource(g, gitrepo.Ref{Branch: "main"})
			s.Chart = "../../etc"
			return s
		}(), "leaves the source"},
		{func() helmrender.ChartSource {
			s := gitSource(g, gitrepo.Ref{Branch: "main"})
			s.Password = "wrong-s3cr3t"
			return s
		}(), g.URL},
		{func() helmrender.ChartSource {
			s := gitSource(g, gitrepo.Ref{Branch: "main"})
			s.BearerToken = "t0ken"
			return s
		}(), "basic auth and bearer token cannot be set at the same time"},
		{func() helmrender.ChartSource {
			s := gitSource(g, gitrepo.Ref{})
			s.URL = "ssh://git@127.0.0.1/charts.git"
			return s
		}(), "only http:// and https://"},
	} {
		_, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).Load(ctx, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %q", tc.src.ID(), err, tc.want)
			continue
		}
		for _, secret := range []string{g.Password, "wrong-s3cr3t", g.BearerToken, "t0ken"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error prints a credential: %v", tc.src.ID(), err)
			}
		}
	}

	// The server is gone: a pinned commit comes from the cache, and so
	// does, offline, the commit branch main last resolved to.
	g.Server.StopHTTP()
	if l, err := (&helmrender.Fetcher{CacheDir: cache}).Load(ctx, gitSource(g, gitrepo.Ref{Commit: g.Tagged})); err != nil || l.Version != "0.1.0" {
		t.Errorf("pinned commit from the cache: %v %+v", err, l)
	}
	off := &helmrender.Fetcher{CacheDir: cache, Offline: true}
	if l, err := off.Load(ctx, gitSource(g, gitrepo.Ref{Branch: "main"})); err != nil || l.Revision != g.Head {
		t.Errorf("offline branch main: %v %+v", err, l)
	}
	if _, err := off.Load(ctx, gitSource(g, gitrepo.Ref{Branch: "other"})); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Errorf("offline, a ref never resolved: %v", err)
	}
	if _, err := (&helmrender.Fetcher{CacheDir: cache}).Load(ctx, gitSource(g, gitrepo.Ref{Branch: "main"})); err == nil {
		t.Error("online with the server gone, branch main still resolved")
	}
}

func hasTemplate(l *helmrender.Loaded, name string) bool {
	for _, tpl := range l.Chart.Templates {
		if tpl.Name == name {
			return true
		}
	}
	return false
}

func bucketSource(b *testfleet.ChartBucket, prefix string) helmrender.ChartSource {
	return helmrender.ChartSource{Kind: helmrender.SourceBucket, Chart: "charts/webapp", Bucket: &helmrender.BucketSource{
		Endpoint: b.Endpoint, BucketName: b.Name, Prefix: prefix, Insecure: true, AccessKey: b.AccessKey, SecretKey: b.SecretKey}}
}

// listingRevision lists the bucket with its own client and digests the
// sorted "key etag" lines, as source-controller's Bucket revision is
// defined, leaving out keys for which skip is true.
func listingRevision(t *testing.T, b *testfleet.ChartBucket, prefix string, skip func(string) bool) string {
	t.Helper()
	var lines []string
	for o := range b.Client.ListObjects(context.Background(), b.Name, minio.ListObjectsOptions{Recursive: true, Prefix: prefix}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if !skip(o.Key) {
			lines = append(lines, o.Key+" "+o.ETag+"\n")
		}
	}
	sort.Strings(lines)
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(strings.Join(lines, ""))))
}

func objectGets(b *testfleet.ChartBucket) int {
	n := 0
	for _, r := range b.Log() {
		if strings.HasPrefix(r, "GET /"+b.Name+"/charts/webapp/") {
			n++
		}
	}
	return n
}

// TestFetchBucket downloads a chart path of an S3 bucket (gofakes3 on
// 127.0.0.1) with the Secret's access key, at source-controller's
// revision of the listing; a second run of the same revision downloads
// nothing, a changed object is a new revision, .sourceignore is honoured,
// offline reads the last revision, and unsupported providers or a missing
// bucket are clear errors.
func TestFetchBucket(t *testing.T) {
	b := testfleet.StartChartBucket(t)
	cache := t.TempDir()
	ctx := context.Background()
	l, err := (&helmrender.Fetcher{CacheDir: cache}).Load(ctx, bucketSource(b, "charts/"))
	if err != nil {
		t.Fatal(err)
	}
	all := func(string) bool { return false }
	if l.Version != "0.1.0" || l.Chart.Metadata.Name != "webapp" || !hasTemplate(l, "templates/pdb.yaml") {
		t.Errorf("loaded %s %s", l.Chart.Metadata.Name, l.Version)
	}
	if want := listingRevision(t, b, "charts/", all); l.Revision != want {
		t.Errorf("revision %s, want %s", l.Revision, want)
	}
	if keys := b.AccessKeys(); len(keys) == 0 || keys[len(keys)-1] != b.AccessKey {
		t.Errorf("requests not signed with the Secret's access key: %v", keys)
	}
	rv := bucketSource(b, "charts/")
	rv.RevisionVersion = true
	if l, err := (&helmrender.Fetcher{CacheDir: cache}).Load(ctx, rv); err != nil || l.Version != "0.1.0+"+strings.TrimPrefix(l.Revision, "sha256:")[:12] {
		t.Errorf("reconcileStrategy Revision: %v %+v", err, l)
	}
	gets := objectGets(b)
	if gets < 7 {
		t.Fatalf("%d object downloads for a chart of 8 files", gets)
	}

	// Same revision: listed again, nothing downloaded.
	if _, err := (&helmrender.Fetcher{CacheDir: cache}).Load(ctx, bucketSource(b, "charts/")); err != nil {
		t.Fatal(err)
	}
	if n := objectGets(b); n != gets {
		t.Errorf("a cached revision downloaded %d objects again", n-gets)
	}

	// A changed object and a .sourceignore: a new revision without the
	// ignored template.
	b.Put(t, "charts/webapp/values.yaml", "greeting: from-the-bucket\nreplicas: 1\n")
	b.Put(t, ".sourceignore", "# no PodDisruptionBudget\ncharts/webapp/templates/pdb.yaml\n")
	l2, err := (&helmrender.Fetcher{CacheDir: cache}).Load(ctx, bucketSource(b, "charts/"))
	if err != nil {
		t.Fatal(err)
	}
	pdb := func(k string) bool { return k == "charts/webapp/templates/pdb.yaml" }
	if want := listingRevision(t, b, "charts/", pdb); l2.Revision != want || l2.Revision == l.Revision {
		t.Errorf("revision after the change %s, want %s (before %s)", l2.Revision, want, l.Revision)
	}
	if hasTemplate(l2, "templates/pdb.yaml") || l2.Chart.Values["greeting"] != "from-the-bucket" {
		t.Errorf("changed bucket: pdb %v, greeting %v", hasTemplate(l2, "templates/pdb.yaml"), l2.Chart.Values["greeting"])
	}
	if _, err := os.Stat(filepath.Join(cache, "bucket")); err != nil {
		t.Errorf("no bucket cache: %v", err)
	}

	// Errors: provider, bucket, credentials never printed.
	for _, tc := range []struct {
		mutate func(*helmrender.BucketSource)
		want   string
	}{
		{func(s *helmrender.BucketSource) { s.Provider = "gcp" }, `bucket provider "gcp" is not supported (generic and aws are)`},
		{func(s *helmrender.BucketSource) { s.Provider = "azure" }, `bucket provider "azure" is not supported`},
		{func(s *helmrender.BucketSource) { s.BucketName = "nope" }, `bucket "nope" not found at ` + b.Endpoint},
	} {
		src := bucketSource(b, "charts/")
		tc.mutate(src.Bucket)
		_, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).Load(ctx, src)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), b.SecretKey) {
			t.Errorf("%s: error %v, want %q", src.ID(), err, tc.want)
		}
	}
	other := bucketSource(b, "charts/")
	other.Chart = "charts/none"
	if _, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).Load(ctx, other); err == nil || !strings.Contains(err.Error(), "no chart directory charts/none") {
		t.Errorf("missing chart path: %v", err)
	}

	// Offline: the last revision listed, from the cache, no request.
	before := len(b.Log())
	off, err := (&helmrender.Fetcher{CacheDir: cache, Offline: true}).Load(ctx, bucketSource(b, "charts/"))
	if err != nil || off.Revision != l2.Revision {
		t.Errorf("offline: %v %+v", err, off)
	}
	if n := len(b.Log()); n != before {
		t.Errorf("offline made %d requests", n-before)
	}
	if _, err := (&helmrender.Fetcher{CacheDir: cache, Offline: true}).Load(ctx, bucketSource(b, "other/")); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Errorf("offline, a bucket never listed: %v", err)
	}
}
