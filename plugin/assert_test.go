package plugin

import (
	"github.com/c5c3/kubectl-c5c3/internal/expect"
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
	expect.Contains(t, "stderr", stderr, want[1:]...)
}
