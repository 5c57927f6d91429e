package promote

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// RevisionRollback is the plan's from.revision for a rollback.
const RevisionRollback = "rollback"

// How a rollback chose its target (RollbackTarget.By).
const (
	// ByVerified is the default: the newest earlier promotion whose
	// Verified trailer records its evidence.
	ByVerified = "verified"
	// BySteps is --steps N.
	BySteps = "steps"
	// ByCommit is --to COMMIT.
	ByCommit = "commit"
	// ByBeforeNewest is the default when no earlier promotion records
	// Verified evidence: the pins as they were before the newest
	// promotion (its first parent), which carry no evidence.
	ByBeforeNewest = "before-newest"
)

// RollbackOptions describe one rollback: a commit on a new branch that
// restores an environment's pins to those of one of its earlier promotions.
type RollbackOptions struct {
	// RepoDir is a directory inside the gitops checkout; never written to.
	RepoDir string
	// Environment is the environment to roll back.
	Environment string
	// Base is the branch the promotions are on and the commit builds on;
	// default the checked-out branch's upstream.
	Base string
	// To names the promotion commit whose pins are restored.
	To string
	// Steps picks the promotion that many before the current one (counting
	// rollbacks too). Zero with an empty To: the newest earlier promotion
	// recorded as Verified.
	Steps int
	// DryRun, Diff, Branch, Force, Signoff, Push, OpenPR and PullRequest
	// are as for a promotion; Branch defaults to
	// promote/rollback-<env>-to-<short-sha>.
	DryRun, Diff, Force, Signoff, Push, OpenPR bool
	Branch                                     string
	PullRequest                                forge.Options
	// Fleet discovers the environment's hub, for --diff.
	Fleet func(ctx context.Context, env *pipeline.Environment) (*fleet.Fleet, error)
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// RollbackTarget is the promotion a rollback restores.
type RollbackTarget struct {
	// Commit is the promotion commit whose pins are restored (the
	// Rolled-Back-To trailer); Subject and Time are its.
	Commit  string    `json:"commit"`
	Subject string    `json:"subject"`
	Time    time.Time `json:"time"`
	// Current is the newest promotion of the environment on the base.
	Current string `json:"current"`
	// By is how it was chosen: verified, steps or commit.
	By string `json:"by"`
	// Steps counts promotions from the current one back to it.
	Steps int `json:"steps"`
	// Verified is the restored promotion's Verified trailer: the evidence
	// the commit status of the rollback rests on (absent when it has none).
	Verified *Verified `json:"verified,omitempty"`
	// Before is set when Commit is no promotion but the state before one:
	// the promotion whose first parent Commit is (the environment's first
	// promotion, or the newest when none earlier is verified).
	Before string `json:"before,omitempty"`
}

// Rollback plans the rollback and, unless DryRun, commits it on a new
// branch, pushes it and opens a pull request as asked — the same way and
// with the same guarantees as Run: byte-exact edits in a temporary
// worktree, the checkout never touched, no branch left behind on failure.
// A bad --to or --steps is an error naming it. The plan (kind
// PromotionPlan, from.revision rollback, with rollback set) is returned
// whenever it got that far.
func Rollback(ctx context.Context, o RollbackOptions) (*Plan, error) {
	r := &run{o: Options{
		RepoDir: o.RepoDir, From: o.Environment, To: o.Environment, FromRevision: RevisionRollback, Base: o.Base,
		SkipHealthCheck: true, DryRun: o.DryRun, Diff: o.Diff, Branch: o.Branch, Force: o.Force, Signoff: o.Signoff,
		Push: o.Push || o.OpenPR, OpenPR: o.OpenPR, PullRequest: o.PullRequest, Fleet: o.Fleet, Log: o.Log,
	}, git: &gitrepo.Git{Dir: o.RepoDir}, log: o.Log}
	if r.log == nil {
		r.log = io.Discard
	}
	defer r.cleanup()
	err := r.rollback(ctx, o)
	return r.plan, err
}

func (r *run) rollback(ctx context.Context, o RollbackOptions) error {
	base, baseCommit, err := r.readConfig(ctx)
	if err != nil {
		return err
	}
	env, err := r.cfg.Environment(o.Environment)
	if err != nil {
		return err
	}
	r.fromEnv, r.toEnv = env, env
	r.newPlan(base, baseCommit)
	if err := r.checkPublishing(); err != nil {
		return err
	}
	target, err := r.rollbackTarget(ctx, o, base, baseCommit)
	if err != nil {
		return err
	}
	r.plan.Rollback, r.plan.From.Commit = target, target.Commit
	if r.o.Branch == "" {
		r.o.Branch = fmt.Sprintf("%srollback-%s-to-%s", BranchPrefix, env.Name, short(target.Commit))
	}
	if err := r.chooseBranch(ctx, target.Commit); err != nil {
		return err
	}
	r.logf("restoring %s's pins of %s (%s) on %s (%s)", env.Name, short(target.Commit), target.Subject, base, short(baseCommit))
	fromPins, err := r.fromPins(ctx, target.Commit)
	if err != nil {
		return err
	}
	toPins, err := r.toPins(ctx, baseCommit)
	if err != nil {
		return err
	}
	if err := r.compare(fromPins, toPins); err != nil || r.plan.Summary.NothingToPromote {
		return err
	}
	return r.finish(ctx)
}

// rollbackTarget picks the promotion to go back to among the
// environment's promotions on the base (newest first; the first is the
// current one).
func (r *run) rollbackTarget(ctx context.Context, o RollbackOptions, base, baseCommit string) (*RollbackTarget, error) {
	entries, err := r.git.LogTrailers(ctx, TrailerPromotedTo, baseCommit)
	if err != nil {
		return nil, err
	}
	var list []Promotion
	for _, e := range entries {
		if p := promotionOf(e); p.To == r.toEnv.Name {
			list = append(list, p)
		}
	}
	env := r.toEnv.Name
	if len(list) == 0 {
		return nil, fmt.Errorf("%s has no promotion on %s (commits with a %s: %s trailer): nothing to roll back to; `kubectl c5c3 promote history %s` lists what there is", env, base, TrailerPromotedTo, env, env)
	}
	t := &RollbackTarget{Current: list[0].Commit}
	pick := func(i int) *RollbackTarget {
		t.Commit, t.Subject, t.Time, t.Steps, t.Verified = list[i].Commit, list[i].Subject, list[i].Time, i, list[i].Evidence.Verified
		return t
	}
	// before picks the state before promotion i: its first parent, which
	// is no promotion of env (or an older one) and carries no evidence;
	// steps counts it one past promotion i.
	before := func(i int) (*RollbackTarget, error) {
		p := list[i]
		if p.Parent == "" {
			return nil, fmt.Errorf("promotion %s of %s is the repository's first commit: there are no pins before it to restore", short(p.Commit), env)
		}
		subject, when, err := r.commitInfo(ctx, p.Parent)
		if err != nil {
			return nil, err
		}
		t.Commit, t.Subject, t.Time, t.Steps, t.Verified, t.Before = p.Parent, subject, when, i+1, nil, p.Commit
		return t, nil
	}
	oldest := len(list) - 1
	switch {
	case o.To != "":
		t.By = ByCommit
		c, err := r.git.Commit(ctx, o.To)
		if err != nil {
			return nil, fmt.Errorf("--to %s: %w; `kubectl c5c3 promote history %s` lists the promotions to go back to", o.To, err, env)
		}
		for i, p := range list {
			if p.Commit == c {
				return pick(i), nil
			}
		}
		for i, p := range list {
			if p.Parent == c {
				return before(i)
			}
		}
		return nil, fmt.Errorf("--to %s (%s) is neither a promotion of %s on %s nor the commit before one: pick one from `kubectl c5c3 promote history %s`, or go back before the first with `kubectl c5c3 promote rollback %s --steps %d`",
			o.To, short(c), env, base, env, env, len(list))
	case o.Steps > 0:
		t.By = BySteps
		switch {
		case o.Steps < len(list):
			return pick(o.Steps), nil
		case o.Steps == len(list):
			return before(oldest)
		}
		return nil, fmt.Errorf("--steps %d: %s has %d promotion(s) on %s, the current one %s: `kubectl c5c3 promote rollback %s --steps %d` goes back to the pins before the first",
			o.Steps, env, len(list), base, short(list[0].Commit), env, len(list))
	default:
		t.By = ByVerified
		for i := 1; i < len(list); i++ {
			if list[i].Evidence.Verified != nil {
				return pick(i), nil
			}
		}
		t.By = ByBeforeNewest
		return before(0)
	}
}

// commitInfo is a commit's subject and committer date.
func (r *run) commitInfo(ctx context.Context, commit string) (string, time.Time, error) {
	out, err := r.git.Run(ctx, "log", "-1", "--format=%s%x1f%cI", commit, "--")
	if err != nil {
		return "", time.Time{}, err
	}
	subject, date, _ := strings.Cut(strings.TrimSpace(out), "\x1f")
	when, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("the date of commit %s: %w", short(commit), err)
	}
	return subject, when.UTC(), nil
}

// message is the commit message: a promotion's, or a rollback's.
func (r *run) message() string {
	if r.plan.Rollback != nil {
		return rollbackMessage(r.plan)
	}
	return commitMessage(r.plan)
}

// rollbackMessage is "rollback(<env>): back to <sha7>, <summary>", a body
// naming the restored promotion with one "old → new" line per pin, and
// the trailers Promoted-To: <env> and Rolled-Back-To: <sha>.
func rollbackMessage(p *Plan) string {
	var b strings.Builder
	t := p.Rollback
	fmt.Fprintf(&b, "rollback(%s): back to %s, %s\n\n", p.To.Environment, short(t.Commit), subjectSummary(p.Changes))
	fmt.Fprintf(&b, "Restore the pins of %s to those of %s (%s):\n\n", p.To.Environment, short(t.Commit), t.Subject)
	seen := map[string]bool{}
	for _, c := range p.Changes {
		line := fmt.Sprintf("- %s: %s → %s", c.Key, c.Current, c.New)
		if !seen[line] {
			seen[line] = true
			b.WriteString(line + "\n")
		}
	}
	fmt.Fprintf(&b, "\n%s: %s\n%s: %s\n", TrailerPromotedTo, p.To.Environment, TrailerRolledBackTo, t.Commit)
	return b.String()
}

// requestBody is the pull request's body. For a rollback it is the
// promotion body with its first paragraph and footer said for a rollback.
func (r *run) requestBody() (string, error) {
	body, err := pullRequestBody(r.plan)
	if err != nil || r.plan.Rollback == nil {
		return body, err
	}
	p, t := r.plan, r.plan.Rollback
	lead := fmt.Sprintf("Rolls **%s** back to the pins of `%s` (%s).\n\n", p.To.Environment, short(t.Commit), mdCell(t.Subject))
	if _, rest, ok := strings.Cut(body, "\n\n"); ok {
		body = lead + rest
	}
	promoteFooter := fmt.Sprintf("_Opened by `kubectl c5c3 promote %s %s`._", p.From.Environment, p.To.Environment)
	return strings.Replace(body, promoteFooter, fmt.Sprintf("_Opened by `kubectl c5c3 promote rollback %s`._", p.To.Environment), 1), nil
}

// WriteRollbackText renders a rollback plan for a terminal: what it goes
// back to, then the plan as WriteText renders it (or that there is nothing
// to roll back).
func WriteRollbackText(w io.Writer, p *Plan, files bool, pal printers.Palette) error {
	if t := p.Rollback; t != nil {
		how := map[string]string{ByVerified: "the last promotion recorded as verified", BySteps: fmt.Sprintf("%d step(s) back", t.Steps), ByCommit: "--to",
			ByBeforeNewest: fmt.Sprintf("no earlier verified promotion: restoring the pins before %s, which carry no evidence", short(t.Before))}[t.By]
		if t.Before != "" && t.By != ByBeforeNewest {
			how += fmt.Sprintf(", the pins before promotion %s, which carry no evidence", short(t.Before))
		}
		if _, err := fmt.Fprintf(w, "%s\n", pal.Bold(fmt.Sprintf("Roll back %s to %s (%s, %s; %s), from the current %s",
			p.To.Environment, short(t.Commit), t.Subject, t.Time.Format(time.RFC3339), how, short(t.Current)))); err != nil {
			return err
		}
		if p.Summary.NothingToPromote {
			_, err := fmt.Fprintf(w, "nothing to roll back: %s already has the pins of %s\n", p.To.Environment, short(t.Commit))
			return err
		}
	}
	return WriteText(w, p, files, pal)
}
