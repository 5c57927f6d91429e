// Package golden compares test output with files under testdata/golden and
// rewrites them with `go test ./... -update` (or `make update-golden`).
// Output is normalised first — test namespaces, the sample's namespaces a
// test renamed, git revisions, ports, timestamps — so that -update always
// produces stable files.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

var normalisers = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`fleet-t\d{4}`), "fleet-tNNNN"},
	// testfleet.SampleNamespaces and SampleClusterObjects renamed by
	// SampleOptions.OwnNamespaces (openstack-t0042) back to the sample's
	// own names.
	{regexp.MustCompile(`\b(openstack|memcached|nova-compute|rook-ceph|c5c3-system|c5c3-tenants|c5c3-operator)-t\d{4}\b`), "$1"},
	{regexp.MustCompile(`[^\s"]*/gitops-fleet-tNNNN-\d+`), "<repo>"},
	{regexp.MustCompile(`sha1:[0-9a-f]{40}`), "sha1:0000000000000000000000000000000000000000"},
	{regexp.MustCompile(`sha1:[0-9a-f]{7}\b`), "sha1:0000000"},
	{regexp.MustCompile(`127\.0\.0\.1:\d{2,5}`), "127.0.0.1:PORT"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`), "2026-01-01T00:00:00Z"},
}

// Normalize replaces the parts of s that change from run to run.
func Normalize(s string) string {
	for _, n := range normalisers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return s
}

// Assert compares the normalised got with testdata/golden/<name> relative to
// the test's package, or rewrites the file under -update.
func Assert(t testing.TB, name, got string) {
	t.Helper()
	got = Normalize(got)
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s: %v (run `make update-golden` to create it)", path, err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run `make update-golden` if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
