package plugin

import (
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// versionsSample loads the sample and reconciles its staging and
// production environments, each into its own hub namespace (standing for
// its own hub), and names their root Kustomizations in the checkout's
// c5c3.yaml (committed): the shared test hub holds other tests'
// environments too. The flags point the CLI at the hub (all namespaces)
// and the checkout.
func versionsSample(t testing.TB) (s *testfleet.Sample, envs map[string]*testfleet.Environment, flags []string) {
	t.Helper()
	s, _ = loadSample(t, testfleet.SampleOptions{})
	envs, err := s.ApplyPipeline(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	f := testfleet.Get(t)
	flags = []string{"--kubeconfig", f.HubKubeconfig, "--flux-namespace", s.Namespace, "--color", "never", "--repo", s.RepoDir}
	return s, envs, flags
}

// commitFile writes a file of the checkout and commits it.
func commitFile(t testing.TB, dir, file, content, msg string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(file)), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	promoteGit(t, dir, "add", file)
	promoteGit(t, dir, "commit", "-q", "-m", msg)
}

// versionsCase is one row of TestVersionsCommand: `kubectl c5c3 versions
// --repo <checkout> args...` on a checkout of its own holding files (each
// committed in turn), its exit code, and what stdout and stderr hold.
type versionsCase struct {
	name     string
	files    [][2]string // path, content
	args     []string
	code     int
	noStdout bool
	stdout   []string         // pieces of stdout
	stdoutRe []*regexp.Regexp // lines of stdout
	stderr   []string         // pieces of stderr ({dir}: the checkout)
	complete []string         // for __complete: the completions
}

// TestVersionsCommand runs `kubectl c5c3 versions` row after row on
// checkouts without a fleet: a broken c5c3.yaml is exit 2 naming the file,
// before any hub is contacted; so is a hub that cannot be read, after the
// matrix with git's values (in every output format); --environment
// completes the names in the checkout's c5c3.yaml. The fleet's scenarios
// (TestVersionsSkew, TestVersionsSpokeDown, TestVersionsResourceSets) are
// versions', beside its table tests on fakes.
func TestVersionsCommand(t *testing.T) {
	t.Parallel()
	root, err := testfleet.ModuleRoot()
	expect.NoError(t, err)
	sample, err := os.ReadFile(filepath.Join(root, "testdata", "gitops", "c5c3.yaml"))
	expect.NoError(t, err)
	good := [2]string{"c5c3.yaml", string(sample)}
	for _, tc := range []versionsCase{{
		name:     "bad c5c3.yaml",
		files:    [][2]string{{"c5c3.yaml", "apiVersion: c5c3.cobaltcore.io/v1alpha1\nkind: Promotion\nenvironments:\n  - name: Staging\n    paths: [x]\n"}},
		args:     []string{"--kubeconfig", "/does/not/exist"},
		code:     2,
		noStdout: true,
		stderr:   []string{"{dir}/c5c3.yaml", "environments[0] (Staging).name"},
	}, {
		name:     "bad -o",
		files:    [][2]string{good},
		args:     []string{"-o", "wide"},
		code:     2,
		noStdout: true,
		stderr:   []string{"must be one of table|json|yaml|markdown"},
	}, {
		name:     "hub not readable",
		files:    [][2]string{good, {"clusters/staging/sources.yaml", "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata: {name: manifests}\nspec: {ref: {tag: v1.0.0}}\n"}},
		args:     []string{"--kubeconfig", "/does/not/exist", "--color", "never"},
		code:     2,
		stdout:   []string{"environment staging: loading the hub's kubeconfig"},
		stdoutRe: []*regexp.Regexp{regexp.MustCompile(`OCIRepository/manifests/tag +staging +- +v1\.0\.0 +\? +\? +hub not read`)},
		stderr:   []string{"error: could not read the hub of staging, production"},
	}, {
		name:   "hub not readable, -o json",
		files:  [][2]string{good},
		args:   []string{"--kubeconfig", "/does/not/exist", "-o", "json"},
		code:   2,
		stdout: []string{`"kind": "VersionMatrix"`},
		stderr: []string{"error: could not read the hub of staging, production"},
	}, {
		name:   "hub not readable, -o yaml",
		files:  [][2]string{good},
		args:   []string{"--kubeconfig", "/does/not/exist", "-o", "yaml"},
		code:   2,
		stdout: []string{"kind: VersionMatrix"},
		stderr: []string{"error: could not read the hub of staging, production"},
	}, {
		name:   "hub not readable, -o markdown",
		files:  [][2]string{good},
		args:   []string{"--kubeconfig", "/does/not/exist", "-o", "markdown", "--environment", "staging,production"},
		code:   2,
		stdout: []string{"| component | environment | cluster | git | applied | running | skew |"},
		stderr: []string{"error: could not read the hub of staging, production"},
	}, {
		name:     "--environment completes",
		files:    [][2]string{good},
		args:     []string{"__complete", "--environment", ""},
		complete: []string{"staging", "production"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			promoteGit(t, dir, "init", "-q", "-b", "main")
			for _, f := range tc.files {
				expect.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(f[0])), 0o755))
				commitFile(t, dir, f[0], f[1], "add "+f[0])
			}
			args := append([]string{"versions", "--repo", dir}, tc.args...)
			if tc.complete != nil {
				args = append([]string{"__complete", "versions", "--repo", dir}, tc.args[1:]...)
			}
			r := run(t, args...)
			wantExit(t, "versions "+strings.Join(tc.args, " "), r, tc.code)
			if tc.complete != nil {
				if got := completions(t, r.stdout); !reflect.DeepEqual(got, tc.complete) {
					t.Errorf("completions %q, want %q", got, tc.complete)
				}
				return
			}
			if tc.noStdout && r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			expect.Contains(t, "stdout", r.stdout, tc.stdout...)
			for _, re := range tc.stdoutRe {
				if !re.MatchString(r.stdout) {
					t.Errorf("stdout has no line %s:\n%s", re, r.stdout)
				}
			}
			for _, want := range tc.stderr {
				expect.Contains(t, "stderr", r.stderr, strings.ReplaceAll(want, "{dir}", dir))
			}
		})
	}
}

// TestVersionsExitCodes runs `kubectl c5c3 versions` on the test fleet for
// the exit codes after a readable hub: the sample as applied has pipeline
// skew (production pins values staging never had), exit 1; a c5c3.yaml of
// staging alone has none, exit 0. The matrices themselves are versions'
// scenarios (versions/fleet_test.go).
func TestVersionsExitCodes(t *testing.T) {
	t.Parallel()
	s, envs, flags := versionsSample(t)
	r := run(t, append([]string{"versions"}, flags...)...)
	wantExit(t, "versions on the sample as applied (pipeline skew)", r, 1)
	wantStderr(t, r.stderr, nil)
	expect.Contains(t, "versions on the sample as applied", r.stdout, "staging", "production")

	commitFile(t, s.RepoDir, "c5c3.yaml", `apiVersion: c5c3.cobaltcore.io/v1alpha1
kind: Promotion
environments:
  - name: staging
    paths: [clusters/staging, apps/*/staging]
    kustomizations: [`+envs["staging"].Namespace+`/staging-apps]
pipeline: [staging]
`, "c5c3.yaml: staging alone")
	r = run(t, append([]string{"versions"}, flags...)...)
	wantExit(t, "versions on staging alone (no skew)", r, 0)
	wantStderr(t, r.stderr, nil)
	expect.Contains(t, "versions on staging alone", r.stdout, "staging")
}
