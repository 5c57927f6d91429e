package gitrepo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Worktree is a temporary, detached git worktree of a repository: edits
// happen there, never in the user's checkout.
type Worktree struct {
	// Dir is the worktree's top directory.
	Dir string
	// Git runs commands in Dir.
	Git *Git

	repo *Git
	tmp  string
}

// AddWorktree checks commit out, detached, into a new temporary directory.
// Remove deletes it again.
func (g *Git) AddWorktree(ctx context.Context, commit string) (*Worktree, error) {
	tmp, err := os.MkdirTemp("", "kubectl-c5c3-worktree-")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(tmp, "worktree")
	if _, err := g.Run(ctx, "worktree", "add", "--detach", "--quiet", dir, commit); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("creating a temporary worktree: %w", err)
	}
	return &Worktree{Dir: dir, Git: &Git{Dir: dir}, repo: g, tmp: tmp}, nil
}

// TempDir is a private directory beside the worktree (for a commit
// message file, say), removed with it.
func (w *Worktree) TempDir() string { return w.tmp }

// Remove deletes the worktree and its temporary directory. It runs without
// a context so that it also cleans up after a cancelled (interrupted) run.
func (w *Worktree) Remove() {
	ctx := context.Background()
	if _, err := w.repo.Run(ctx, "worktree", "remove", "--force", w.Dir); err != nil {
		_ = os.RemoveAll(w.Dir)
		_, _ = w.repo.Run(ctx, "worktree", "prune")
	}
	_ = os.RemoveAll(w.tmp)
}

// CommitFiles stages files (paths relative to the worktree) and commits
// them with the message in msgFile, verbatim, without hooks; signoff adds
// a Signed-off-by trailer. It returns the new commit.
func (w *Worktree) CommitFiles(ctx context.Context, msgFile string, files []string, signoff bool) (string, error) {
	if _, err := w.Git.Run(ctx, append([]string{"add", "--"}, files...)...); err != nil {
		return "", err
	}
	args := []string{"commit", "--quiet", "--no-verify", "--cleanup=verbatim", "-F", msgFile}
	if signoff {
		args = append(args, "--signoff")
	}
	if _, err := w.Git.Run(ctx, args...); err != nil {
		return "", fmt.Errorf("committing: %w", err)
	}
	return w.Git.Commit(ctx, "HEAD")
}

// SetBranch points a local branch at commit, creating it or (force)
// moving it, without tracking.
func (g *Git) SetBranch(ctx context.Context, branch, commit string, force bool) error {
	args := []string{"branch", "--no-track"}
	if force {
		args = append(args, "--force")
	}
	_, err := g.Run(ctx, append(args, branch, commit)...)
	return err
}

// DeleteBranch deletes a local branch.
func (g *Git) DeleteBranch(ctx context.Context, branch string) error {
	_, err := g.Run(ctx, "branch", "-D", branch)
	return err
}

// PushBranch pushes a local branch to the branch of the same name on
// remote; force replaces it there.
func (g *Git) PushBranch(ctx context.Context, remote, branch string, force bool) error {
	refspec := "refs/heads/" + branch + ":refs/heads/" + branch
	if force {
		refspec = "+" + refspec
	}
	_, err := g.Run(ctx, "push", "--quiet", remote, refspec)
	return err
}
