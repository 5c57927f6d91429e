package plugin

import (
	"strings"
	"testing"
)

// TestPromoteSoakGateCommand: a revision that has not soaked for --min-soak
// is refused with exit 1, naming the object and the time left, in text and
// json; a negative --min-soak is a usage error.
func TestPromoteSoakGateCommand(t *testing.T) {
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
	if r.code != 1 || p.HealthCheck == nil || len(p.HealthCheck.Gates) != 4 || p.HealthCheck.MinSoak != "2h0m" {
		t.Fatalf("json: exit %d %+v", r.code, p.HealthCheck)
	}
	for _, g := range p.HealthCheck.Gates {
		if g.Passed != (g.Name != "soak") || g.Evidence == "" {
			t.Errorf("gate %+v", g)
		}
	}
	if after := checkoutState(t, s.RepoDir); after != before {
		t.Errorf("checkout changed:\n%s\n---\n%s", before, after)
	}
	r = run(t, append([]string{"promote", "staging", "production", "--min-soak", "-1h"}, flags...)...)
	if r.code != 2 || !strings.Contains(r.stderr, "--min-soak -1h0m0s must not be negative") {
		t.Errorf("negative --min-soak: exit %d %s", r.code, r.stderr)
	}
}

// TestPromoteFailOnDangerCommand: --fail-on-danger refuses with exit 1 when
// the preview flags production's failing hub Kustomization, and prints the
// blast radius with -o json.
func TestPromoteFailOnDangerCommand(t *testing.T) {
	s, _, flags := promoteSample(t)
	must(t, s.Fail(ctx(t), "Kustomization", "production-apps", "ReconciliationFailed", "kustomize build failed"))
	before := checkoutState(t, s.RepoDir)
	r := run(t, append([]string{"promote", "staging", "production", "--fail-on-danger", "-o", "json"}, flags...)...)
	p := decodePlan(t, r.stdout)
	if r.code != 1 || p.BlastRadius == nil || p.BlastRadius.Dangers == 0 || p.Result != nil {
		t.Fatalf("exit %d, blast radius %+v\n%s", r.code, p.BlastRadius, r.stderr)
	}
	want := "management: target-not-ready: Kustomization/" + s.Namespace + "/production-apps: not Ready: ReconciliationFailed: kustomize build failed"
	if !strings.Contains(r.stderr, "refusing to promote (--fail-on-danger)") || !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if after := checkoutState(t, s.RepoDir); after != before {
		t.Errorf("checkout changed:\n%s\n---\n%s", before, after)
	}
	// Without the flag the preview shows the flag and the promotion goes on.
	r = run(t, append([]string{"promote", "staging", "production", "--diff", "--dry-run"}, flags...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "Blast radius on production:") || !strings.Contains(r.stdout, "DANGER "+want) {
		t.Errorf("--diff: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
