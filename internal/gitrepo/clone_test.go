package gitrepo

import (
	"context"
	"strings"
	"testing"
)

// TestRefString: the ref is described as source-controller picks it, the
// commit first and the default branch master last.
func TestRefString(t *testing.T) {
	for _, tc := range []struct {
		ref  Ref
		want string
	}{
		{Ref{}, "branch master"},
		{Ref{Branch: "main"}, "branch main"},
		{Ref{Branch: "main", SemVer: ">=1"}, "semver >=1"},
		{Ref{SemVer: ">=1", Tag: "v1"}, "tag v1"},
		{Ref{Tag: "v1", Name: "refs/pull/1/head"}, "name refs/pull/1/head"},
		{Ref{Name: "refs/heads/x", Commit: "abc"}, "commit abc"},
		{Ref{Branch: "main", Commit: "abc"}, "commit abc of branch main"},
	} {
		if got := tc.ref.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.ref, got, tc.want)
		}
	}
}

// TestRemoteURLChecks: ssh remotes and passwords in URLs are refused
// before any request, without quoting the password.
func TestRemoteURLChecks(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"git@github.com:c5c3/charts.git", "only http:// and https://"},
		{"ssh://git@github.com/c5c3/charts", "only http:// and https://"},
		{"https://user:hunter2@github.com/c5c3/charts", "must not contain credentials"},
	} {
		_, _, err := ResolveRemote(context.Background(), tc.url, Ref{Branch: "main"}, Auth{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v, want %q", withoutPassword(tc.url), err, tc.want)
		}
		if err := ExportCommit(context.Background(), tc.url, Ref{}, "", strings.Repeat("a", 40), Auth{}, t.TempDir()); err == nil ||
			!strings.Contains(err.Error(), tc.want) {
			t.Errorf("export %s: %v", withoutPassword(tc.url), err)
		}
	}
	if _, err := (Auth{Password: "p", BearerToken: "t"}).method(); err == nil {
		t.Error("basic auth and a bearer token together were accepted")
	}
}
