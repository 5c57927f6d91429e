package helmrender_test

import (
	"context"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/gittestserver"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// artifactTree is a source tree holding the chart charts/app and files a
// source-controller artifact leaves out in some configurations: CI
// configuration and an archive in the chart directory (default
// exclusions), a template that does not parse and a values file
// (.sourceignore or spec.ignore), and a .helmignore'd file.
var artifactTree = map[string]string{
	"charts/app/Chart.yaml":                "apiVersion: v2\nname: app\nversion: 1.0.0\n",
	"charts/app/values.yaml":               "greeting: hello\n",
	"charts/app/.helmignore":               "notes.txt\n",
	"charts/app/notes.txt":                 "kept out by .helmignore\n",
	"charts/app/templates/configmap.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  files: {{ keys (.Files.Glob \"**\") | sortAlpha | join \",\" | quote }}\n",
	"charts/app/templates/broken.yaml":     "{{ if }}\n",
	"charts/app/.github/workflows/ci.yaml": "on: push\n",
	"charts/app/charts/vendored.tar.gz":    "not a gzip archive\n",
	"charts/app/ci/extra-values.yaml":      "greeting: ci\n",
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// chartFiles lists a loaded chart's templates and files, name and data.
func chartFiles(c *chart.Chart) map[string]string {
	out := map[string]string{}
	for _, f := range c.Templates {
		out[f.Name] = string(f.Data)
	}
	for _, f := range c.Files {
		out[f.Name] = string(f.Data)
	}
	out["Chart.yaml"] = "apiVersion: v2\nname: " + c.Metadata.Name + "\nversion: " + c.Metadata.Version + "\n"
	out["values.yaml"] = "greeting: " + c.Values["greeting"].(string) + "\n"
	return out
}

// TestChartPathSeesArtifact loads the chart path of a GitRepository —
// cloned, and the checkout — from the artifact source-controller makes:
// the default exclusions when there is no .sourceignore and no
// spec.ignore; a .sourceignore at the root or spec.ignore instead of
// them. The expected chart is written by hand with exactly the artifact's
// files and loaded with Helm's own LoadDir; the raw tree does not load.
func TestChartPathSeesArtifact(t *testing.T) {
	if _, err := loader.LoadDir(writeChart(t, artifactTree, "")); err == nil {
		t.Fatal("the raw chart directory loads: the fixture proves nothing")
	}
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name       string
		sourceIgn  string
		specIgnore *string
		// excluded from the chart directory by the artifact rules
		excluded []string
	}{
		{name: "default exclusions", excluded: []string{".github/workflows/ci.yaml", "charts/vendored.tar.gz", "templates/broken.yaml"}},
		{name: ".sourceignore turns the defaults off", sourceIgn: "/charts/app/templates/broken.yaml\n/charts/app/charts/\n",
			excluded: []string{"templates/broken.yaml", "charts/vendored.tar.gz"}},
		{name: "spec.ignore turns the defaults off", specIgnore: str("broken.yaml\n*.tar.gz\nci/\n"), // no slash inside: any level
			excluded: []string{"templates/broken.yaml", "charts/vendored.tar.gz", "ci/extra-values.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := map[string]string{}
			for p, d := range artifactTree {
				tree[p] = d
			}
			if tc.name == "default exclusions" {
				// the template that breaks the rendering is CI's: under .github
				delete(tree, "charts/app/templates/broken.yaml")
				tree["charts/app/.github/templates/broken.yaml"] = "{{ if }}\n"
			}
			if tc.sourceIgn != "" {
				tree[".sourceignore"] = tc.sourceIgn
			}
			wantFiles := map[string]string{}
			for p, d := range tree {
				if n, ok := strings.CutPrefix(p, "charts/app/"); ok && n != "notes.txt" && !slices.Contains(tc.excluded, n) &&
					!(tc.name == "default exclusions" && strings.HasPrefix(n, ".github/")) {
					wantFiles[n] = d
				}
			}
			want, err := loader.LoadDir(writeChart(t, wantFiles, "app"))
			if err != nil {
				t.Fatal(err)
			}

			checkout := t.TempDir()
			writeTree(t, checkout, tree)
			ctx := context.Background()
			got, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).Load(ctx, helmrender.ChartSource{Kind: helmrender.SourceDir,
				Chart: filepath.Join(checkout, "charts", "app"), Root: checkout, Ignore: tc.specIgnore})
			if err != nil {
				t.Fatalf("checkout: %v", err)
			}
			if g, w := chartFiles(got.Chart), chartFiles(want); !equalMaps(g, w) {
				t.Errorf("checkout: chart files\n%v\nwant\n%v", keysOf(g), keysOf(w))
			}

			url := serveGit(t, tree)
			got, err = (&helmrender.Fetcher{CacheDir: t.TempDir()}).Load(ctx, helmrender.ChartSource{Kind: helmrender.SourceGitRepository,
				URL: url, GitRef: &gitrepo.Ref{Branch: "main"}, Chart: "./charts/app", Ignore: tc.specIgnore})
			if err != nil {
				t.Fatalf("git: %v", err)
			}
			if g, w := chartFiles(got.Chart), chartFiles(want); !equalMaps(g, w) {
				t.Errorf("git: chart files\n%v\nwant\n%v", keysOf(g), keysOf(w))
			}
		})
	}

	// A chart directory the artifact leaves out is not in the source.
	checkout := t.TempDir()
	writeTree(t, checkout, artifactTree)
	_, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).Load(context.Background(), helmrender.ChartSource{Kind: helmrender.SourceDir,
		Chart: filepath.Join(checkout, "charts", "app"), Root: checkout, Ignore: str("/charts/\n")})
	if err == nil || !strings.Contains(err.Error(), "no chart directory charts/app in the source artifact") {
		t.Errorf("chart directory excluded by spec.ignore: %v", err)
	}
}

// writeChart writes files (chart-relative, or tree-relative with sub "")
// and returns the chart directory.
func writeChart(t *testing.T, files map[string]string, sub string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, files)
	if sub == "" {
		return filepath.Join(dir, "charts", "app")
	}
	return dir
}

// serveGit commits tree on branch main of a repository served over HTTP
// by gittestserver and returns its URL.
func serveGit(t *testing.T, tree map[string]string) string {
	t.Helper()
	srv, err := gittestserver.NewTempGitServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(srv.Root()) })
	log.SetOutput(io.Discard) // gittestserver logs every request
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	work := t.TempDir()
	writeTree(t, work, tree)
	bare := filepath.Join(srv.Root(), "app.git")
	for _, args := range [][]string{{"init", "--quiet", "--initial-branch=main"}, {"add", "-A"},
		{"commit", "--quiet", "-m", "app"}, {"init", "--quiet", "--bare", "--initial-branch=main", bare}, {"push", "--quiet", bare, "main:main"}} {
		c := exec.Command("git", append([]string{"-c", "user.name=c5c3 test", "-c", "user.email=test@c5c3.example", "-c", "core.hooksPath=" + os.DevNull}, args...)...)
		c.Dir = work
		c.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	if err := srv.StartHTTP(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.StopHTTP)
	return srv.HTTPAddress() + "/app.git"
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
