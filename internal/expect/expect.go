// Package expect holds the assertions the fleet tests of several packages
// share: one message per check, naming what is wrong and the value wanted.
package expect

import (
	"strings"
	"testing"
)

// NoError stops the test on err.
func NoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Equal reports got (what names it) other than want.
func Equal[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s %v, want %v", what, got, want)
	}
}

// Contains reports each of subs that out (what names it) lacks, and stops
// the test if any is missing.
func Contains(t testing.TB, what, out string, subs ...string) {
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
