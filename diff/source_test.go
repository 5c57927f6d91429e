package diff

import "testing"

func TestNormalizeGitURL(t *testing.T) {
	want := "github.com/c5c3/c5c3-gitops"
	for _, in := range []string{
		"https://github.com/c5c3/c5c3-gitops.git",
		"https://github.com/c5c3/c5c3-gitops",
		"https://user:token@github.com/C5C3/c5c3-gitops.git/",
		"ssh://git@github.com/c5c3/c5c3-gitops.git",
		"ssh://git@github.com:22/c5c3/c5c3-gitops",
		"git@github.com:c5c3/c5c3-gitops.git",
		"github.com:c5c3/c5c3-gitops",
	} {
		if got := NormalizeGitURL(in); got != want {
			t.Errorf("NormalizeGitURL(%q) = %q, want %q", in, got, want)
		}
	}
	if NormalizeGitURL("https://gitlab.com/c5c3/c5c3-gitops.git") == want {
		t.Error("different hosts must differ")
	}
}
