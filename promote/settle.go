package promote

import (
	"context"
	"fmt"
	"time"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// signalGrace is how long settlePush waits for the command's own notice
// of a signal that already ended git.
const signalGrace = 2 * time.Second

// settleTimeout bounds asking origin whether an interrupted push landed;
// it runs after the command's own context was cancelled.
const settleTimeout = 30 * time.Second

// settlePush decides what a failed or interrupted push did, by asking
// origin (git ls-remote of the push URL) where the branch is now:
//
//   - origin has the branch at our commit: the push landed. The outcome
//     says pushed, with a note; the local branch stays. When the run was
//     interrupted it stops there (next=false), and with --open-pr that is
//     an error naming what is left to do. Otherwise it carries on.
//   - origin does not have it: the local branch is put back as it was.
//   - origin cannot be asked: the local branch is put back too, and the
//     error says how to check origin by hand.
func (r *run) settlePush(ctx context.Context, out *Outcome, pushErr error) (next bool, err error) {
	if ctx.Err() == nil && gitrepo.Signaled(pushErr) {
		// Ctrl-C ended git; the same signal is on its way to this process
		// (signal.NotifyContext), and must not read as a plain failure.
		select {
		case <-ctx.Done():
		case <-time.After(signalGrace):
		}
	}
	how := "failed"
	if ctx.Err() != nil {
		how = "was interrupted"
	}
	landed, askErr := r.pushLanded(out.Commit)
	switch {
	case askErr == nil && landed:
		out.Pushed, out.Remote = true, pipeline.PushRemote
		out.Note = fmt.Sprintf("pushing %s to %s %s after the push landed: %s has %s at %s; the local branch stays",
			r.branch, pipeline.PushRemote, how, pipeline.PushRemote, r.branch, short(out.Commit))
		r.logf("%s", out.Note)
		if ctx.Err() == nil {
			return true, nil
		}
		if r.o.OpenPR {
			return false, fmt.Errorf("%s, but the pull request was not opened: open it by hand, or run again with --force --open-pr", out.Note)
		}
		return false, nil
	case askErr != nil:
		restored := r.restoreBranch()
		r.plan.Result = nil
		return false, fmt.Errorf("pushing %s to %s %s, %s; asking %s whether the branch arrived failed too (%v): check with `git ls-remote %s refs/heads/%s`, and if it is at %s there, delete it with `git push %s --delete %s`: %w",
			r.branch, pipeline.PushRemote, how, restored, pipeline.PushRemote, askErr, pipeline.PushRemote, r.branch, short(out.Commit), pipeline.PushRemote, r.branch, pushErr)
	default:
		restored := r.restoreBranch()
		r.plan.Result = nil
		return false, fmt.Errorf("pushing %s to %s %s (%s does not have it), %s: %w", r.branch, pipeline.PushRemote, how, pipeline.PushRemote, restored, pushErr)
	}
}

// pushLanded reports whether origin has the branch at commit.
func (r *run) pushLanded(commit string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	branches, err := r.remoteBranches(ctx, r.branch)
	if err != nil {
		return false, err
	}
	return branches[r.branch] == commit, nil
}

// settleBranch is called when pointing the branch at commit failed (or
// was interrupted): if git moved it anyway, it is put back, so that no
// half-made branch stays. It returns what it did, for the error.
func (r *run) settleBranch(commit string) string {
	if r.git.BranchCommit(context.Background(), r.branch) != commit {
		return "the branch was not changed"
	}
	return r.restoreBranch()
}
