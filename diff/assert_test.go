package diff_test

import (
	"testing"

	"github.com/c5c3/kubectl-c5c3/diff"
)

// One assertion, one message: these check one thing each and say which
// thing was wrong and what was wanted.

// wantOutcome stops the test unless res is what `kubectl c5c3 diff` exits
// with code for (plugin's TestDiffCommand checks that mapping): 2 an
// error in the result, 1 changes and no error, 0 neither.
func wantOutcome(t *testing.T, what string, res *diff.Result, code int) {
	t.Helper()
	got := 0
	switch {
	case res.HasErrors():
		got = 2
	case res.HasChanges():
		got = 1
	}
	if got != code {
		t.Fatalf("%s: errors %t, changes %t (exit %d), want exit %d\n%s", what, res.HasErrors(), res.HasChanges(), got, code, asJSON(t, res))
	}
}
