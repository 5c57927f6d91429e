package gitrepo

import (
	"fmt"
	"path/filepath"

	"github.com/go-git/go-git/v5"
)

// TopLevel returns the top directory of the git checkout (or linked
// worktree) holding dir.
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

// RemoteURL returns the (first) URL of a remote of the checkout holding
// dir, or "" when the checkout has no such remote.
func RemoteURL(dir, remote string) (string, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return "", fmt.Errorf("%s is not a git checkout: %w", dir, err)
	}
	r, err := repo.Remote(remote)
	if err != nil {
		return "", nil
	}
	if urls := r.Config().URLs; len(urls) > 0 {
		return urls[0], nil
	}
	return "", nil
}
