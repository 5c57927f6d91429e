package expect

import (
	"errors"
	"testing"
)

// recorder is a testing.TB that records what the assertions report.
type recorder struct {
	testing.TB
	errors, fatals int
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.errors++ }
func (r *recorder) Fatal(...any)          { r.fatals++ }
func (r *recorder) Fatalf(string, ...any) { r.fatals++ }

func TestAssertions(t *testing.T) {
	for _, tc := range []struct {
		name           string
		check          func(testing.TB)
		errors, fatals int
	}{
		{"no error", func(tb testing.TB) { NoError(tb, nil) }, 0, 0},
		{"an error", func(tb testing.TB) { NoError(tb, errors.New("boom")) }, 0, 1},
		{"equal", func(tb testing.TB) { Equal(tb, "n", 1, 1) }, 0, 0},
		{"not equal", func(tb testing.TB) { Equal(tb, "n", 1, 2) }, 1, 0},
		{"contains all", func(tb testing.TB) { Contains(tb, "out", "a b c", "a", "c") }, 0, 0},
		{"lacks two", func(tb testing.TB) { Contains(tb, "out", "a b c", "x", "b", "y") }, 2, 1},
	} {
		r := &recorder{}
		tc.check(r)
		if r.errors != tc.errors || r.fatals != tc.fatals {
			t.Errorf("%s: %d errors and %d fatals, want %d and %d", tc.name, r.errors, r.fatals, tc.errors, tc.fatals)
		}
	}
}
