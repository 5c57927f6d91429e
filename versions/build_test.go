package versions

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

const testConfig = `apiVersion: c5c3.cobaltcore.io/v1alpha1
kind: Promotion
environments:
  - name: staging
    paths: [staging]
  - name: production
    paths: [production]
pipeline: [staging, production]
`

func release(version string) string {
	return `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: memcached
spec:
  chart:
    spec:
      chart: memcached
      version: "` + version + `"
`
}

// repo is a git repository with one commit per step; each step writes
// files (path → content).
func repo(t *testing.T, steps ...map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		c := exec.Command("git", args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	for _, files := range steps {
		for p, content := range files {
			full := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		git("add", "-A")
		git("commit", "-q", "-m", "step")
	}
	return dir
}

var noHub = func(context.Context, *pipeline.Environment) (*fleet.Fleet, error) {
	return nil, errors.New("no hub in this test")
}

// TestPipelineHistory: a production pin that staging pinned in an earlier
// commit is no pipeline skew; one staging never pinned is.
func TestPipelineHistory(t *testing.T) {
	dir := repo(t,
		map[string]string{"c5c3.yaml": testConfig, "staging/hr.yaml": release("7.4.16"), "production/hr.yaml": release("7.3.0")},
		map[string]string{"staging/hr.yaml": release("7.5.0")},
	)
	m, err := Build(context.Background(), Options{RepoDir: dir, Fleet: noHub})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Components) != 1 || len(m.Components[0].Environments) != 2 {
		t.Fatalf("components %+v", m.Components)
	}
	prod := m.Components[0].Environments[1]
	if prod.Environment != "production" || prod.Git != "7.3.0" || !hasSkew(prod.Skew, SkewPipeline) || prod.Previous != "7.5.0" {
		t.Fatalf("production 7.3.0, never in staging: %+v", prod)
	}
	if m.Summary.Errors != 2 || m.Environments[0].Error == "" || m.Summary.Pipeline != 1 {
		t.Fatalf("summary %+v, environments %+v", m.Summary, m.Environments)
	}

	// production moves to 7.4.16, which staging pinned before 7.5.0.
	if err := os.WriteFile(filepath.Join(dir, "production", "hr.yaml"), []byte(release("7.4.16")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "prod"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	m, err = Build(context.Background(), Options{RepoDir: dir, Fleet: noHub})
	if err != nil {
		t.Fatal(err)
	}
	if prod := m.Components[0].Environments[1]; prod.Git != "7.4.16" || len(prod.Skew) != 0 {
		t.Fatalf("production 7.4.16 was in staging's history: %+v", prod)
	}

	// --environment production reads staging for the check but shows only production.
	m, err = Build(context.Background(), Options{RepoDir: dir, Environments: []string{"production"}, Fleet: noHub})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Environments) != 1 || m.Environments[0].Name != "production" || m.Environments[0].Previous != "staging" || len(m.Components[0].Environments) != 1 {
		t.Fatalf("only production: %+v", m)
	}
}

func TestBuildErrors(t *testing.T) {
	bad := repo(t, map[string]string{"c5c3.yaml": strings.Replace(testConfig, "paths: [staging]", "pathz: [staging]", 1)})
	none := repo(t, map[string]string{"README.md": "no config"})
	badPin := repo(t, map[string]string{"c5c3.yaml": testConfig, "staging/x.yaml": "a: [unterminated"})
	for _, tc := range []struct {
		name string
		o    Options
		want []string
	}{
		{"bad c5c3.yaml", Options{RepoDir: bad}, []string{filepath.Join(bad, "c5c3.yaml"), `unknown field "pathz"`}},
		{"no c5c3.yaml", Options{RepoDir: none}, []string{"no c5c3.yaml at HEAD", filepath.Join(none, "c5c3.yaml")}},
		{"unknown environment", Options{RepoDir: badPin, Environments: []string{"qa"}}, []string{`no environment "qa"`, "staging, production"}},
		{"not YAML", Options{RepoDir: badPin}, []string{"staging/x.yaml", "not valid YAML"}},
		{"bad revision", Options{RepoDir: bad, Revision: "nope"}, []string{"--revision", `"nope" is not a commit`}},
		{"no checkout", Options{RepoDir: t.TempDir()}, []string{"git"}},
	} {
		tc.o.Fleet = noHub
		_, err := Build(context.Background(), tc.o)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
}
