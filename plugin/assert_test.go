package plugin

import (
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/helmrender"
)

// One assertion, one message: these check one thing each and say which
// thing was wrong and what was wanted.

// wantExit stops the test unless r exited with code; the message shows
// what ran and its output.
func wantExit(t *testing.T, what string, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d\nstderr %q\nstdout:\n%s", what, r.code, code, r.stderr, r.stdout)
	}
}

// wantContains reports each of subs that out (what names it) lacks, and
// stops the test if any is missing.
func wantContains(t *testing.T, what, out string, subs ...string) {
	t.Helper()
	missing := false
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("%s lacks %q", what, s)
			missing = true
		}
	}
	if missing {
		t.Fatalf("%s:\n%s", what, out)
	}
}

// wantPrediction reports a prediction p (of what) other than plan for
// reason.
func wantPrediction(t *testing.T, what string, p *helmrender.Prediction, plan helmrender.Plan, reason string) {
	t.Helper()
	if p == nil {
		t.Errorf("%s: no prediction, want %s (%s)", what, plan, reason)
		return
	}
	if p.Plan != plan {
		t.Errorf("%s: prediction %q, want %q", what, p.Plan, plan)
	}
	if p.Reason != reason {
		t.Errorf("%s: prediction reason %q, want %q", what, p.Reason, reason)
	}
}

// wantEqual reports got (what names it) other than want.
func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s %v, want %v", what, got, want)
	}
}

// wantStderr checks a command table row's stderr: nothing when want is
// empty, else it starts with want[0] and holds every later piece.
func wantStderr(t *testing.T, stderr string, want []string) {
	t.Helper()
	if len(want) == 0 {
		if stderr != "" {
			t.Errorf("stderr %q, want nothing", stderr)
		}
		return
	}
	if !strings.HasPrefix(stderr, want[0]) {
		t.Errorf("stderr %q, want it to start with %q", stderr, want[0])
	}
	wantContains(t, "stderr", stderr, want[1:]...)
}
