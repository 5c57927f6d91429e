package gitrepo

import "testing"

func TestNormalizeURL(t *testing.T) {
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
		if got := NormalizeURL(in); got != want {
			t.Errorf("NormalizeURL(%q) = %q, want %q", in, got, want)
		}
	}
	if NormalizeURL("https://gitlab.com/c5c3/c5c3-gitops.git") == want {
		t.Error("different hosts must differ")
	}
}

func TestParseRemote(t *testing.T) {
	for raw, want := range map[string]Remote{
		"https://github.com/c5c3/c5c3-gitops.git":              {"github.com", "c5c3/c5c3-gitops"},
		"git@github.com:C5C3/c5c3-gitops.git":                  {"github.com", "C5C3/c5c3-gitops"},
		"ssh://git@gitlab.example.com:2222/a/b/c.git":          {"gitlab.example.com", "a/b/c"},
		"https://ghe.example.com:8443/org/repo":                {"ghe.example.com:8443", "org/repo"},
		"https://user:token@gitlab.com/group/sub/project.git/": {"gitlab.com", "group/sub/project"},
	} {
		got, err := ParseRemote(raw)
		if err != nil || got != want {
			t.Errorf("ParseRemote(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
	for _, bad := range []string{"", "/local/path", "https://github.com/onlyowner"} {
		if _, err := ParseRemote(bad); err == nil {
			t.Errorf("ParseRemote(%q) did not fail", bad)
		}
	}
}
