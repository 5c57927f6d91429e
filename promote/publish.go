package promote

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// commit commits the edit in the worktree, points the branch at it and
// pushes and opens the pull request as asked. If anything fails after the
// branch was made, the branch is put back as it was; a failed or
// interrupted push is settled first (settlePush).
func (r *run) commit(ctx context.Context) error {
	msg := r.message()
	msgFile := filepath.Join(r.wt.TempDir(), "COMMIT_MSG")
	if err := os.WriteFile(msgFile, []byte(msg), 0o600); err != nil {
		return err
	}
	files := make([]string, 0, len(r.newFiles))
	for f := range r.newFiles {
		files = append(files, f)
	}
	sort.Strings(files)
	commit, err := r.wt.CommitFiles(ctx, msgFile, files, r.o.Signoff)
	if err != nil {
		return err
	}
	full, err := r.wt.Git.Run(ctx, "log", "-1", "--format=%B", commit)
	if err != nil {
		return err
	}
	out := &Outcome{Branch: r.branch, Commit: commit, Message: strings.TrimRight(full, "\n") + "\n", Replaced: r.oldBranch}
	r.plan.Result = out

	if err := r.git.SetBranch(ctx, r.branch, commit, r.oldBranch != ""); err != nil {
		r.plan.Result = nil
		return fmt.Errorf("creating branch %s (%s): %w", r.branch, r.settleBranch(commit), err)
	}
	r.logf("committed %s on branch %s", short(commit), r.branch)
	if !r.o.Push {
		return nil
	}
	r.logf("pushing %s to %s", r.branch, pipeline.PushRemote)
	if err := r.git.PushBranch(ctx, pipeline.PushRemote, r.branch, r.o.Force); err != nil {
		if next, err := r.settlePush(ctx, out, err); !next {
			return err
		}
	}
	out.Pushed, out.Remote = true, pipeline.PushRemote
	if !r.o.OpenPR {
		return nil
	}
	body, err := r.requestBody()
	if err != nil {
		return fmt.Errorf("branch %s is pushed to %s, but writing the pull request body failed: %w", r.branch, pipeline.PushRemote, err)
	}
	pr, err := forge.OpenPullRequest(ctx, r.o.PullRequest, r.remote, r.branch, baseBranch(ctx, r.git, r.plan.To.Base),
		strings.SplitN(msg, "\n", 2)[0], body)
	if err != nil {
		return fmt.Errorf("branch %s is pushed to %s, but %w", r.branch, pipeline.PushRemote, err)
	}
	out.PullRequest = pr
	st := evidenceStatus(r.plan)
	if err := forge.SetCommitStatus(ctx, r.o.PullRequest, r.remote, commit, st); err != nil {
		return fmt.Errorf("branch %s is pushed and %s is open, but %w", r.branch, pr.URL, err)
	}
	out.Status = &st
	return nil
}

// restoreBranch puts the branch back as it was before the run and says so.
func (r *run) restoreBranch() string {
	ctx := context.Background()
	if r.oldBranch == "" {
		if err := r.git.DeleteBranch(ctx, r.branch); err != nil {
			return fmt.Sprintf("and removing the local branch %s again failed too (%v)", r.branch, err)
		}
		return fmt.Sprintf("so the local branch %s was removed again; your checkout is as before", r.branch)
	}
	if err := r.git.SetBranch(ctx, r.branch, r.oldBranch, true); err != nil {
		return fmt.Sprintf("and resetting the local branch %s to %s failed too (%v)", r.branch, short(r.oldBranch), err)
	}
	return fmt.Sprintf("so the local branch %s was reset to %s; your checkout is as before", r.branch, short(r.oldBranch))
}

// baseBranch turns the base revision into the branch name a pull request
// targets: origin/main → main, refs/heads/main → main.
func baseBranch(ctx context.Context, g *gitrepo.Git, base string) string {
	b := strings.TrimPrefix(base, "refs/heads/")
	b = strings.TrimPrefix(b, "refs/remotes/")
	remotes, _ := g.Remotes(ctx)
	for _, rm := range remotes {
		if strings.HasPrefix(b, rm+"/") {
			return strings.TrimPrefix(b, rm+"/")
		}
	}
	return b
}
