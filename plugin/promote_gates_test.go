package plugin

import (
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"
)

// TestPromoteSoakGateCommand: a revision that has not soaked for --min-soak
// is refused with exit 1, naming the object and the time left, in text and
// json; a negative --min-soak is a usage error.
func TestPromoteSoakGateCommand(t *testing.T) {
	t.Parallel()
	s, _, flags := promoteSample(t)
	before := checkoutState(t, s.RepoDir)
	r := run(t, append([]string{"promote", "staging", "production", "--min-soak", "2h"}, flags...)...)
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"error: staging is not healthy, refusing to promote from it (--skip-health-check overrides):",
		"not soaked: Kustomization " + s.Namespace + "/staging-apps has run Ready at its revision for ",
		"; --min-soak is 2h0m: ", " left",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = run(t, append([]string{"promote", "staging", "production", "--min-soak", "2h", "-o", "json"}, flags...)...)
	p := decodePlan(t, r.stdout)
	wantExit(t, "json", r, 1)
	if p.HealthCheck == nil {
		t.Fatalf("json: no health check, want 4 gates and a minimum soak of 2h")
	}
	expect.Equal(t, "json: gates", len(p.HealthCheck.Gates), 4)
	expect.Equal(t, "json: minimum soak", p.HealthCheck.MinSoak, "2h0m")
	for _, g := range p.HealthCheck.Gates {
		if g.Passed != (g.Name != "soak") || g.Evidence == "" {
			t.Errorf("gate %+v", g)
		}
	}
	if after := checkoutState(t, s.RepoDir); after != before {
		t.Errorf("checkout changed:\n%s\n---\n%s", before, after)
	}
	r = run(t, append([]string{"promote", "staging", "production", "--min-soak", "-1h"}, flags...)...)
	wantExit(t, "negative --min-soak", r, 2)
	expect.Contains(t, "negative --min-soak: stderr", r.stderr, "--min-soak -1h0m0s must not be negative")
}

// TestPromoteFailOnDangerCommand: --fail-on-danger refuses with exit 1 when
// the preview flags production's failing hub Kustomization, and prints the
// blast radius with -o json.
func TestPromoteFailOnDangerCommand(t *testing.T) {
	t.Parallel()
	s, _, flags := promoteSample(t)
	expect.NoError(t, s.Fail(ctx(t), "Kustomization", "production-apps", "ReconciliationFailed", "kustomize build failed"))
	before := checkoutState(t, s.RepoDir)
	r := run(t, append([]string{"promote", "staging", "production", "--fail-on-danger", "-o", "json"}, flags...)...)
	p := decodePlan(t, r.stdout)
	wantExit(t, "--fail-on-danger", r, 1)
	if p.BlastRadius == nil {
		t.Fatalf("no blast radius, want dangers")
	}
	if p.BlastRadius.Dangers == 0 {
		t.Errorf("blast radius %+v, want dangers", p.BlastRadius)
	}
	if p.Result != nil {
		t.Errorf("result %+v, want none (nothing promoted)", p.Result)
	}
	want := "management: target-not-ready: Kustomization/" + s.Namespace + "/production-apps: not Ready: ReconciliationFailed: kustomize build failed"
	expect.Contains(t, "--fail-on-danger: stderr", r.stderr, "refusing to promote (--fail-on-danger)", want)
	if after := checkoutState(t, s.RepoDir); after != before {
		t.Errorf("checkout changed:\n%s\n---\n%s", before, after)
	}
	// Without the flag the preview shows the flag and the promotion goes on.
	r = run(t, append([]string{"promote", "staging", "production", "--diff", "--dry-run"}, flags...)...)
	wantExit(t, "--diff", r, 0)
	expect.Contains(t, "--diff", r.stdout, "Blast radius on production:", "DANGER "+want)
}
