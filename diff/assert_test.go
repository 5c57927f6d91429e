package diff_test

import (
	"strings"
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

// wantEqual reports got (what names it) other than want.
func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s %v, want %v", what, got, want)
	}
}
