package fleet

import (
	"os"
	"path/filepath"
	"testing"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// TestArtifactPath checks ArtifactPath against securejoin.SecureJoin (what
// kustomize-controller calls) on a directory tree without symlinks, like a
// source artifact.
func TestArtifactPath(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "apps", "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"":                  ".",
		".":                 ".",
		"./":                ".",
		"/":                 ".",
		"..":                ".",
		"./apps":            "apps",
		"apps":              "apps",
		"/apps":             "apps",
		".//apps//":         "apps",
		"../apps":           "apps",
		"../../apps/.":      "apps",
		"apps/../apps/web/": "apps/web",
		"./apps/./web":      "apps/web",
		"apps/web/../../..": ".",
	} {
		got := ArtifactPath(in)
		if got != want {
			t.Errorf("ArtifactPath(%q) = %q, want %q", in, got, want)
		}
		joined, err := securejoin.SecureJoin(root, in)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Join(root, filepath.FromSlash(got)) != joined {
			t.Errorf("ArtifactPath(%q) = %q, securejoin gives %s", in, got, joined)
		}
	}
}
