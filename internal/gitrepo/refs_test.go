package gitrepo

import (
	"strings"
	"testing"
)

// TestRemoteBranchesErrorHidesPassword: a push URL with a password is never
// quoted when ls-remote fails.
func TestRemoteBranchesErrorHidesPassword(t *testing.T) {
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	g := &Git{Dir: t.TempDir()}
	_, err := g.RemoteBranches(t.Context(), "https://dana:s3cr3t-t0ken@127.0.0.1:1/c5c3/gitops.git", "promote/*")
	if err == nil {
		t.Fatal("ls-remote of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cr3t-t0ken") || !strings.Contains(err.Error(), "https://dana:***@127.0.0.1:1/c5c3/gitops.git") {
		t.Fatalf("error %q", err)
	}
}

func TestLogTrailersParsesTrailers(t *testing.T) {
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	g := &Git{Dir: dir}
	for _, args := range [][]string{
		{"init", "--quiet"},
		{"-c", "user.name=A", "-c", "user.email=a@x", "commit", "--quiet", "--allow-empty", "-m", "plain"},
		{"-c", "user.name=A", "-c", "user.email=a@x", "commit", "--quiet", "--allow-empty", "-m", "promote(a → b): x\n\nbody: not a trailer here\n\nPromoted-From: a@123\nPromoted-To: b\nVerified: 1 Kustomization, 0 HelmReleases on hub"},
	} {
		if _, err := g.Run(t.Context(), args...); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := g.LogTrailers(t.Context(), "Promoted-To", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("entries %+v", entries)
	}
	e := entries[0]
	if e.Subject != "promote(a → b): x" || e.Author != "A <a@x>" || len(e.Parents) != 1 || len(e.Trailers) != 3 ||
		e.Trailer("promoted-to") != "b" || e.Trailer("Promoted-From") != "a@123" || e.Trailer("Verified") != "1 Kustomization, 0 HelmReleases on hub" || e.Trailer("body") != "" {
		t.Fatalf("entry %+v", e)
	}
}
