package gitrepo

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReadCommitTakesOfferedContentOnlyWhenItIsTheBlob: content offered by
// have is used only when its blob hash is the tree entry's; otherwise the
// blob is read, so a changed working tree never leaks into the base.
func TestReadCommitTakesOfferedContentOnlyWhenItIsTheBlob(t *testing.T) {
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	g := &Git{Dir: dir}
	if _, err := g.Run(t.Context(), "init", "--quiet"); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"same.yaml": "a: 1\n", "changed.yaml": "b: 1\n", "empty.yaml": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.Run(t.Context(), "add", "."); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Run(t.Context(), "-c", "user.name=A", "-c", "user.email=a@x", "commit", "--quiet", "-m", "base"); err != nil {
		t.Fatal(err)
	}
	offered := map[string]string{"same.yaml": "a: 1\n", "changed.yaml": "b: 2\n", "empty.yaml": ""}
	asked := map[string]bool{}
	c, err := ReadCommit(dir, "HEAD", func(p string) []byte {
		asked[p] = true
		if v, ok := offered[p]; ok {
			return []byte(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range c.Files {
		got[f.Path] = string(f.Data)
	}
	want := map[string]string{"same.yaml": "a: 1\n", "changed.yaml": "b: 1\n", "empty.yaml": ""}
	if len(got) != len(want) || len(asked) != len(want) {
		t.Fatalf("files %q, asked %v", got, asked)
	}
	for p, v := range want {
		if got[p] != v {
			t.Fatalf("%s: %q, want %q (all: %q)", p, got[p], v, got)
		}
	}
	plain, err := ReadCommit(dir, "HEAD", nil)
	if err != nil || len(plain.Files) != 3 || plain.Hash != c.Hash {
		t.Fatalf("without have: %+v %v", plain, err)
	}
}
