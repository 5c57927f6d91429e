package plugin

import (
	"encoding/json"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// diffArgs are the flags that point `kubectl c5c3 diff` at a loaded sample.
// The sample's HelmReleases are rendered from the test charts the loader
// serves locally and installed on the spokes.
func diffArgs(s *testfleet.Sample, flags []string, extra ...string) []string {
	args := append([]string{"diff", "--repo", s.RepoDir}, flags...)
	return append(args, extra...)
}

// decodeDiff parses -o json output strictly.
func decodeDiff(t *testing.T, out string) *diff.Result {
	t.Helper()
	var r diff.Result
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("diff -o json is not a FleetDiff: %v\n%s", err, out)
	}
	if r.APIVersion != diff.APIVersion || r.Kind != diff.Kind {
		t.Fatalf("schema header %s/%s", r.APIVersion, r.Kind)
	}
	return &r
}

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	fixture.WriteFiles(t, dir, map[string]string{rel: content})
}

func TestDiffNoDrift(t *testing.T) {
	t.Parallel()
	s, flags := loadSample(t, testfleet.SampleOptions{})
	r := run(t, diffArgs(s, flags, "-o", "json")...)
	res := decodeDiff(t, r.stdout)
	wantExit(t, "diff of a freshly reconciled fleet", r, 0)
	if res.HasChanges() {
		t.Fatalf("freshly reconciled fleet must not drift: summary %+v\n%s", res.Summary, r.stdout)
	}
	if res.HasErrors() {
		t.Fatalf("freshly reconciled fleet: errors\nstderr %s\n%s", r.stderr, r.stdout)
	}
	if len(res.Kustomizations) != 9 {
		t.Errorf("%d Kustomizations, want 9", len(res.Kustomizations))
	}
	if res.Summary.Unchanged < 45 {
		t.Errorf("%d objects unchanged, want every object (at least 45)", res.Summary.Unchanged)
	}
	if !res.Complete {
		t.Errorf("plan not complete, want complete")
	}
	if len(res.Incomplete) != 0 {
		t.Errorf("incomplete %+v, want none", res.Incomplete)
	}
	if len(res.HelmReleases) == 0 {
		t.Errorf("no HelmReleases in the plan, want the sample's")
	}
	r = run(t, diffArgs(s, flags)...)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	// Unchanged HelmReleases get no header line, only their summary row
	// in text, and stay in the markdown table with their counts.
	if strings.Contains(r.stdout, "→ cluster") {
		t.Errorf("text output shows a header line for an unchanged HelmRelease:\n%s", r.stdout)
	}
	md := run(t, diffArgs(s, flags, "-o", "markdown")...)
	wantExit(t, "diff -o markdown of a freshly reconciled fleet", md, 0)
	for _, h := range res.HelmReleases {
		expect.Contains(t, "text summary of unchanged HelmRelease "+h.ID(), r.stdout, "HelmRelease/"+h.ID())
		expect.Contains(t, "markdown row of unchanged HelmRelease "+h.ID(), md.stdout, "| `"+h.ID()+"` | "+h.Cluster+" | ")
	}
	expect.Contains(t, "text output's summary", r.stdout, "HelmRelease/"+s.Namespace+"/")
	golden.Assert(t, "diff-nodrift.txt", r.stdout)

	// A Kustomization from another source is listed as not diffed.
	c := ctx(t)
	hub := f(t).Hub.Client
	other := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant-repo", Namespace: s.Namespace},
		Spec:       sourcev1.GitRepositorySpec{URL: "ssh://git@github.com/c5c3/tenant-config.git", Interval: metav1.Duration{Duration: time.Minute}},
	}
	expect.NoError(t, hub.Create(c, other))
	tenant := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant-apps", Namespace: s.Namespace},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Minute}, Path: "./tenants",
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "tenant-repo"}},
	}
	expect.NoError(t, hub.Create(c, tenant))
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	wantExit(t, "other source", r, 0)
	if len(res.Skipped) != 1 || res.Skipped[0].Name != "tenant-apps" {
		t.Fatalf("other source: skipped %+v, want tenant-apps only", res.Skipped)
	}
	if want := "source GitRepository/" + s.Namespace + "/tenant-repo is not this checkout"; res.Skipped[0].Reason != want {
		t.Fatalf("other source: tenant-apps skipped for %q, want %q", res.Skipped[0].Reason, want)
	}
	// --source picks the other repository explicitly: only tenant-apps, which
	// fails to build from this checkout (no ./tenants here).
	r = run(t, diffArgs(s, flags, "-o", "json", "--source", "GitRepository/"+s.Namespace+"/tenant-repo")...)
	res = decodeDiff(t, r.stdout)
	wantExit(t, "--source", r, 2)
	if len(res.Kustomizations) != 1 {
		t.Fatalf("--source: Kustomizations %+v, want tenant-apps only", res.Kustomizations)
	}
	expect.Contains(t, "--source: tenant-apps error", res.Kustomizations[0].Error, `spec.path "./tenants" not found`)
	r = run(t, diffArgs(s, flags, "--source", "tenant-repo")...)
	wantExit(t, "bad --source", r, 2)
	expect.Contains(t, "bad --source: stderr", r.stderr, "must be GitRepository/NAMESPACE/NAME")
	// A checkout whose origin matches no GitRepository says so, with a hint.
	other2 := t.TempDir()
	fixture.Git(t, other2, "init", "-q")
	fixture.Git(t, other2, "remote", "add", "origin", "git@example.org:someone/else.git")
	r = run(t, append([]string{"diff", "--repo", other2}, flags...)...)
	wantExit(t, "unmatched origin", r, 2)
	expect.Contains(t, "unmatched origin: stderr", r.stderr, "no GitRepository in the hub has the checkout's origin URL git@example.org:someone/else.git", "--source")
}

// TestDiffFromWorkingDirectory: without --repo, the checkout is the git
// top level of the working directory. It changes the process's working
// directory, so it runs before the parallel tests, on the shared sample.
func TestDiffFromWorkingDirectory(t *testing.T) {
	s, flags := sharedSample(t)
	t.Chdir(filepath.Join(s.RepoDir, "apps", "keystone"))
	r := run(t, append([]string{"diff", "-o", "json"}, flags...)...)
	wantExit(t, "diff from inside the checkout", r, 0)
	expect.Equal(t, "diff from inside the checkout: repo", decodeDiff(t, r.stdout).Repo, s.RepoDir)
}

func f(t *testing.T) *testfleet.Fleet { return testfleet.Get(t) }

// TestDiffProgressOnTTY runs the real binary under a pseudo-terminal
// (script(1)) and checks that the progress line is drawn there, with the
// charts rendered, and that it is not when stderr is a pipe.
func TestDiffProgressOnTTY(t *testing.T) {
	t.Parallel()
	s, flags := sharedSample(t)
	bin := buildPlugin(t)
	args := append([]string{bin}, diffArgs(s, flags, "-o", "json")...)
	// script gives the command a terminal on stdin, stdout and stderr.
	cmd := exec.Command("script", "-qec", strings.Join(args, " "), "/dev/null")
	cmd.Env = terminalEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("under a terminal: %v\n%s", err, out)
	}
	expect.Contains(t, "progress on a terminal", string(out), "\r\x1b[Kdiff: ", "control-plane ")
	// The sample's three HelmReleases: their charts are counted too.
	if !strings.Contains(string(out), "charts 3/3") {
		t.Fatalf("no chart count on the progress line:\n%q", out)
	}
	piped := exec.Command(bin, diffArgs(s, flags, "-o", "json")...)
	var stderr strings.Builder
	piped.Stderr = &stderr
	if err := piped.Run(); err != nil {
		t.Fatal(err)
	}
	if stderr.Len() != 0 {
		t.Fatalf("progress written to a pipe: %q", stderr.String())
	}
}

// diffCase is one row of TestDiffCommand: the arguments after `diff
// --repo <checkout>` and the sample's flags ({tmp}: an empty directory),
// the exit code, and what stdout or stderr must hold.
type diffCase struct {
	name     string
	args     []string
	code     int
	golden   string   // stdout's golden file
	noStdout bool     // stdout must be empty
	stderr   []string // stderr starts with the first, holds the others
}

// diffGroup are rows on one sample: the shared, read-only one, or (own)
// one of the group's own that setup edits first.
type diffGroup struct {
	name  string
	own   bool
	setup func(t *testing.T, s *testfleet.Sample)
	rows  []diffCase
}

// TestDiffCommand runs `kubectl c5c3 diff` row after row: the shared
// sample as it was loaded (exit 0, no change), bad arguments (exit 2,
// nothing on stdout), and a fleet with an unreachable spoke, a broken
// build and a drifted Kustomization (exit 2 for the whole fleet and the
// broken cluster, 1 in every format for the drifted Kustomization alone,
// with nothing on stderr when it is not a terminal, 0 for a narrowed run
// that reaches none of them). The scenarios themselves — what
// the engine reports for each edit — are diff's TestRun* tests.
func TestDiffCommand(t *testing.T) {
	t.Parallel()
	for _, g := range []diffGroup{{
		name: "the shared sample",
		rows: []diffCase{
			{name: "no drift", code: 0, golden: "diff-nodrift.txt"},
			{name: "unknown cluster", args: []string{"nowhere-cluster"}, code: 2, noStdout: true, stderr: []string{"error: ", "neither a cluster"}},
			{name: "unknown Kustomization", args: []string{"ns/no-such-ks"}, code: 2, noStdout: true, stderr: []string{"error: ", "neither a cluster"}},
			{name: "bad --source", args: []string{"--source", "tenant-repo"}, code: 2, noStdout: true, stderr: []string{"error: ", "must be GitRepository/NAMESPACE/NAME"}},
			{name: "no checkout", args: []string{"--repo", "{tmp}"}, code: 2, noStdout: true, stderr: []string{"error: ", "not inside a git checkout"}},
			{name: "-o wide", args: []string{"-o", "wide"}, code: 2, noStdout: true, stderr: []string{"error: ", "must be one of text|json|markdown|html"}},
		},
	}, {
		name: "spoke down and a broken build", own: true,
		setup: func(t *testing.T, s *testfleet.Sample) {
			expect.NoError(t, s.BreakKubeconfig(ctx(t), "hypervisor", testfleet.FaultUnreachable))
			fixture.EditFile(t, s.RepoDir, "clusters/control-plane/apps/kustomization.yaml", `newTag: "2025.1-p1"`, `newTag: "2025.1-p3"`)
			writeFile(t, s.RepoDir, "clusters/storage/apps/broken.yaml", "kind: [\n")
			fixture.EditFile(t, s.RepoDir, "clusters/storage/apps/kustomization.yaml", "  - deployment.yaml\n", "  - deployment.yaml\n  - broken.yaml\n")
		},
		rows: []diffCase{
			{name: "whole fleet", args: []string{"-o", "json", "--request-timeout", "10s"}, code: 2, stderr: []string{"error: "}},
			{name: "the unreachable spoke", args: []string{"hypervisor", "--request-timeout", "10s"}, code: 2, stderr: []string{"error: "}},
			{name: "the broken build", args: []string{"storage"}, code: 2, stderr: []string{"error: "}},
			{name: "the drifted Kustomization only", args: []string{"{ns}/control-plane-apps"}, code: 1},
			{name: "the drifted Kustomization -o json", args: []string{"{ns}/control-plane-apps", "-o", "json"}, code: 1},
			{name: "the drifted Kustomization -o markdown", args: []string{"{ns}/control-plane-apps", "-o", "markdown"}, code: 1},
			{name: "the drifted Kustomization -o html", args: []string{"{ns}/control-plane-apps", "-o", "html"}, code: 1},
			{name: "the drifted Kustomization --verify-unchanged", args: []string{"{ns}/control-plane-apps", "--verify-unchanged"}, code: 1},
			{name: "a path no broken build reads", args: []string{"clusters/storage/rook-operator"}, code: 0},
		},
	}} {
		t.Run(g.name, func(t *testing.T) {
			var s *testfleet.Sample
			var flags []string
			if g.own {
				t.Parallel()
				s, flags = loadSample(t, testfleet.SampleOptions{})
				g.setup(t, s)
			} else {
				s, flags = sharedSample(t)
			}
			for _, tc := range g.rows {
				t.Run(tc.name, func(t *testing.T) {
					args := diffArgs(s, flags)
					for _, a := range tc.args {
						a = strings.ReplaceAll(a, "{ns}", s.Namespace)
						if a == "{tmp}" {
							a = t.TempDir()
						}
						args = append(args, a)
					}
					r := run(t, args...)
					wantExit(t, "diff "+strings.Join(tc.args, " "), r, tc.code)
					if strings.Contains(r.stdout+r.stderr, "unreachable-token-must-never-be-printed") {
						t.Errorf("output leaks kubeconfig contents")
					}
					switch {
					case tc.golden != "":
						golden.Assert(t, tc.golden, r.stdout)
					case tc.noStdout && r.stdout != "":
						t.Errorf("stdout %q, want nothing", r.stdout)
					}
					wantStderr(t, r.stderr, tc.stderr)
				})
			}
		})
	}
}
