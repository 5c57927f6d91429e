package plugin

import (
	"encoding/json"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/pipeline"
	"github.com/c5c3/kubectl-c5c3/promote"
)

// promoteGit runs git in dir with a fixed identity for set-up commits and
// returns its trimmed output.
func promoteGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Setup", "GIT_AUTHOR_EMAIL=setup@c5c3.example",
		"GIT_COMMITTER_NAME=Setup", "GIT_COMMITTER_EMAIL=setup@c5c3.example")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// promoteSample loads the sample with hub Kustomizations staging-apps and
// production-apps that applied its commit, and makes its checkout a
// user's: an author in the repository's config and origin/main as
// upstream. The flags point the CLI at the hub and the checkout.
func promoteSample(t *testing.T) (*testfleet.Sample, string, []string) {
	t.Helper()
	s, flags := loadSample(t, testfleet.SampleOptions{})
	expect.NoError(t, s.AddEnvironments(ctx(t)))
	for _, args := range [][]string{{"config", "user.name", "Dana Operator"}, {"config", "user.email", "dana@c5c3.example"}} {
		promoteGit(t, s.RepoDir, args...)
	}
	commit := strings.TrimPrefix(s.Revision, "main@sha1:")
	return s, commit, append(flags, "--repo", s.RepoDir)
}

// checkoutState is what promote must leave as it was; the local branches
// named in newBranches are left out (a successful run adds one).
func checkoutState(t *testing.T, dir string, newBranches ...string) string {
	t.Helper()
	var refs []string
	for _, l := range strings.Split(promoteGit(t, dir, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"), "\n") {
		keep := true
		for _, b := range newBranches {
			if strings.HasPrefix(l, "refs/heads/"+b+" ") {
				keep = false
			}
		}
		if keep {
			refs = append(refs, l)
		}
	}
	return promoteGit(t, dir, "rev-parse", "HEAD") + "\n" + promoteGit(t, dir, "symbolic-ref", "HEAD") + "\n" +
		promoteGit(t, dir, "status", "--porcelain", "--ignored", "--untracked-files=all") + "\n" +
		strings.Join(refs, "\n") + "\n" + promoteGit(t, dir, "worktree", "list", "--porcelain")
}

// decodePlan parses -o json output strictly.
func decodePlan(t *testing.T, out string) *promote.Plan {
	t.Helper()
	var p promote.Plan
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("promote -o json is not a PromotionPlan: %v\n%s", err, out)
	}
	if p.APIVersion != pipeline.APIVersion || p.Kind != promote.PlanKind {
		t.Fatalf("schema header %s/%s", p.APIVersion, p.Kind)
	}
	return &p
}

func TestPromoteDryRunCommand(t *testing.T) {
	t.Parallel()
	s, commit, flags := promoteSample(t)
	before := checkoutState(t, s.RepoDir)
	r := run(t, append([]string{"promote", "staging", "production", "--dry-run"}, flags...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden.Assert(t, "promote-dry-run.txt", strings.ReplaceAll(r.stdout, commit[:7], "COMMIT1"))
	if !strings.Contains(r.stdout, "health gate: healthy: "+s.Namespace+"/staging-apps") || strings.Contains(r.stderr, "error") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}

	r = run(t, append([]string{"promote", "staging", "production", "--dry-run", "-o", "json", "--only", "HelmRelease/*,image/*"}, flags...)...)
	p := decodePlan(t, r.stdout)
	wantExit(t, "promote --dry-run -o json", r, 0)
	if p.From.Revision != "live" {
		t.Errorf("from revision %q, want live", p.From.Revision)
	}
	if p.From.Commit != commit {
		t.Errorf("from commit %q, want %s", p.From.Commit, commit)
	}
	if len(p.Changes) != 2 {
		t.Fatalf("changes %+v, want 2", p.Changes)
	}
	if len(p.Excluded) != 6 {
		t.Errorf("excluded %+v, want 6", p.Excluded)
	}
	if p.HealthCheck == nil || !p.HealthCheck.Healthy {
		t.Errorf("health check %+v, want healthy", p.HealthCheck)
	}
	if p.Result != nil {
		t.Errorf("result %+v of a dry run, want none", p.Result)
	}
	if !p.DryRun {
		t.Errorf("dryRun false, want true")
	}
	if len(p.Files) != 2 {
		t.Errorf("files %q, want 2", p.Files)
	}
	want := promote.Change{Key: "HelmRelease/keystone-memcached/memcached", Current: "7.4.16", New: "7.5.0", File: "clusters/production/keystone-memcached.yaml", Line: 18}
	for _, f := range []struct{ field, got, want string }{
		{"key", p.Changes[0].Key, want.Key}, {"current", p.Changes[0].Current, want.Current}, {"new", p.Changes[0].New, want.New}, {"file", p.Changes[0].File, want.File},
	} {
		if f.got != f.want {
			t.Errorf("first change: %s %q, want %q", f.field, f.got, f.want)
		}
	}
	if p.Changes[0].Line != want.Line {
		t.Errorf("first change: line %d, want %d", p.Changes[0].Line, want.Line)
	}
	if after := checkoutState(t, s.RepoDir); after != before {
		t.Errorf("checkout changed:\n%s\n---\n%s", before, after)
	}
}

func TestPromoteHealthGateCommand(t *testing.T) {
	t.Parallel()
	s, _, flags := promoteSample(t)
	sns := s.SpokeNamespace
	expect.NoError(t, s.Suspend(ctx(t), "Kustomization", "staging-apps"))
	expect.NoError(t, s.Fail(ctx(t), "Kustomization", "staging-apps", "HealthCheckFailed", "timeout waiting for: [Deployment/"+sns("openstack")+"/keystone-api status: 'InProgress']"))
	before := checkoutState(t, s.RepoDir)

	r := run(t, append([]string{"promote", "staging", "production"}, flags...)...)
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"error: staging is not healthy, refusing to promote from it (--skip-health-check overrides):",
		"  Kustomization " + s.Namespace + "/staging-apps: not Ready: HealthCheckFailed: timeout waiting for",
		"  Kustomization " + s.Namespace + "/staging-apps: suspended",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = run(t, append([]string{"promote", "staging", "production", "-o", "json"}, flags...)...)
	wantExit(t, "json on refusal", r, 1)
	if p := decodePlan(t, r.stdout); p.HealthCheck == nil || p.HealthCheck.Healthy {
		t.Fatalf("json on refusal: health check %+v, want unhealthy", p.HealthCheck)
	} else if problems := p.HealthCheck.Kustomizations[0].Problems; len(problems) != 2 {
		t.Fatalf("json on refusal: problems %q of %s, want 2", problems, p.HealthCheck.Kustomizations[0].Name)
	}
	if after := checkoutState(t, s.RepoDir); after != before {
		t.Errorf("checkout changed:\n%s\n---\n%s", before, after)
	}

	r = run(t, append([]string{"promote", "staging", "production", "--skip-health-check", "--dry-run"}, flags...)...)
	wantExit(t, "--skip-health-check", r, 0)
	expect.Contains(t, "--skip-health-check: stdout", r.stdout, "health gate: NOT healthy (--skip-health-check)")
}

// TestPromoteEnvironmentContext: an environment with context: is read
// through that kubeconfig context, not the current one.
func TestPromoteEnvironmentContext(t *testing.T) {
	t.Parallel()
	s, _, flags := promoteSample(t)
	cfg, err := clientcmd.LoadFromFile(s.Fleet.HubKubeconfig)
	expect.NoError(t, err)
	good := cfg.Contexts[cfg.CurrentContext]
	cfg.Contexts["c5c3-staging"] = good.DeepCopy()
	cfg.Clusters["gone"] = cfg.Clusters[good.Cluster].DeepCopy()
	cfg.Clusters["gone"].Server = "https://127.0.0.1:1"
	broken := good.DeepCopy()
	broken.Cluster = "gone"
	cfg.Contexts["gone"] = broken
	cfg.CurrentContext = "gone"
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	expect.NoError(t, clientcmd.WriteToFile(*cfg, kubeconfig))
	for i, f := range flags {
		if f == "--kubeconfig" {
			flags[i+1] = kubeconfig
		}
	}

	r := run(t, append([]string{"promote", "staging", "production", "--dry-run"}, flags...)...)
	wantExit(t, "through the broken current context", r, 2)
	expect.Contains(t, "through the broken current context: stderr", r.stderr, "127.0.0.1:1")
	b, err := os.ReadFile(filepath.Join(s.RepoDir, "c5c3.yaml"))
	expect.NoError(t, err)
	expect.NoError(t, os.WriteFile(filepath.Join(s.RepoDir, "c5c3.yaml"), []byte(strings.Replace(string(b), "  - name: staging\n", "  - name: staging\n    context: c5c3-staging\n", 1)), 0o644))
	promoteGit(t, s.RepoDir, "commit", "--quiet", "-am", "staging has its own hub context")
	promoteGit(t, s.RepoDir, "update-ref", "refs/remotes/origin/main", "HEAD")
	r = run(t, append([]string{"promote", "staging", "production", "--dry-run"}, flags...)...)
	wantExit(t, "through the staging context", r, 0)
	expect.Contains(t, "through the staging context: stdout", r.stdout, "health gate: healthy")
}

func TestPromoteBadInput(t *testing.T) {
	t.Parallel()
	notARepo := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"promote", "staging"}, "promote needs two arguments, FROM and TO"},
		{[]string{"promote", "a", "b", "c"}, "promote needs two arguments"},
		{[]string{"promote", "staging", "staging"}, "cannot promote staging to itself"},
		{[]string{"promote", "staging", "production", "--from-revision", ""}, "--from-revision must be live, HEAD or a commit"},
		{[]string{"promote", "staging", "production", "-o", "yaml"}, "must be one of text|json"},
		{[]string{"promote", "staging", "production", "--git-provider", "bitbucket"}, "must be one of auto|github|gitlab"},
		{[]string{"promote", "staging", "production", "--repo", notARepo}, "is not inside a git checkout: pass --repo DIR"},
	} {
		r := run(t, tc.args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2", tc.args, r.code)
		}
		if !strings.HasPrefix(r.stderr, "error: ") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: stderr %q, want \"error: \" and %q", tc.args, r.stderr, tc.want)
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", tc.args, r.stdout)
		}
	}
	r := run(t, "promote", "--help")
	wantExit(t, "promote --help", r, 0)
	expect.Contains(t, "promote --help", r.stdout, "kubectl c5c3 promote staging production --dry-run", "Exit codes:")
}

func TestPromoteCompletesEnvironments(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	promoteGit(t, repo, "init", "--quiet")
	writeFile(t, repo, "c5c3.yaml", "apiVersion: c5c3.cobaltcore.io/v1alpha1\nkind: Promotion\nenvironments:\n- {name: dev, paths: [dev]}\n- {name: staging, paths: [staging]}\n- {name: production, paths: [production]}\npipeline: [dev, staging, production]\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "promote", "--repo", repo, ""}, "dev\nstaging\nproduction\n:4\n"},
		{[]string{"__complete", "promote", "--repo", repo, "staging", ""}, "production\n:4\n"},
		{[]string{"__complete", "promote", "--repo", repo, "staging", "production", ""}, ":4\n"},
	} {
		r := run(t, tc.args...)
		if r.code != 0 || r.stdout != tc.want {
			t.Errorf("%v: exit %d, got %q, want %q", tc.args[2:], r.code, r.stdout, tc.want)
		}
	}
}
