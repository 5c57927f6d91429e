package diff

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
)

// OriginURL returns the URL of the checkout's "origin" remote.
func OriginURL(repoDir string) (string, error) {
	repo, err := git.PlainOpenWithOptions(repoDir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return "", fmt.Errorf("%s is not a git checkout: %w", repoDir, err)
	}
	remote, err := repo.Remote("origin")
	if err != nil {
		return "", fmt.Errorf("checkout %s has no \"origin\" remote: pass --source GitRepository/NAMESPACE/NAME", repoDir)
	}
	urls := remote.Config().URLs
	if len(urls) == 0 {
		return "", fmt.Errorf("checkout %s: remote \"origin\" has no URL", repoDir)
	}
	return urls[0], nil
}

// TopLevel returns the top directory of the git checkout holding dir.
func TopLevel(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := git.PlainOpen(d); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside a git checkout: pass --repo DIR", abs)
		}
	}
}

// NormalizeGitURL reduces the ssh and https spellings of a repository URL
// to "host/path" without ".git", lower-cased, so that
// git@github.com:C5C3/gitops.git, ssh://git@github.com/c5c3/gitops and
// https://github.com/c5c3/gitops.git all compare equal.
func NormalizeGitURL(raw string) string {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		// scp-like: [user@]host:path
		if at := strings.Index(s, "@"); at >= 0 && at < strings.Index(s, ":") {
			s = s[at+1:]
		}
		s = "ssh://" + strings.Replace(s, ":", "/", 1)
	}
	u, err := url.Parse(s)
	if err != nil {
		return strings.ToLower(strings.TrimSuffix(raw, ".git"))
	}
	host := u.Hostname()
	p := strings.Trim(u.Path, "/")
	p = strings.TrimSuffix(p, ".git")
	return strings.ToLower(host + "/" + p)
}
