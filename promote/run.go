package promote

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// Run plans the promotion and, unless DryRun, commits it on a new branch,
// pushes it and opens a pull request as asked. The user's checkout — its
// branch, index and files — is never touched; on failure no branch or
// temporary worktree is left behind. A refusal by the health gate is a
// *HealthError. The plan is returned whenever it got that far, also with
// an error.
func Run(ctx context.Context, o Options) (*Plan, error) {
	r := &run{o: o, git: &gitrepo.Git{Dir: o.RepoDir}, log: o.Log}
	if r.log == nil {
		r.log = io.Discard
	}
	if r.o.OpenPR {
		r.o.Push = true
	}
	if r.o.FailOnDanger {
		r.o.Diff = true
	}
	defer r.cleanup()
	err := r.run(ctx)
	return r.plan, err
}

// run is one promotion in progress.
type run struct {
	o    Options
	git  *gitrepo.Git // the user's repository (top level)
	log  io.Writer
	plan *Plan

	cfg            *pipeline.Config
	fromEnv, toEnv *pipeline.Environment
	origin         string
	remote         gitrepo.Remote
	branch         string
	oldBranch      string // the branch's commit before the run ("" if new)
	wt             *gitrepo.Worktree
	toFiles        map[string][]byte // To's files at the base, by path
	newFiles       map[string][]byte // the edited ones
	fleets         map[string]*fleet.Fleet
}

func (r *run) logf(format string, a ...any) { fmt.Fprintf(r.log, format+"\n", a...) }

// run goes through the phases: configuration, plan skeleton, publishing
// preconditions, the source commit (health gate), both sides' pins, the
// comparison; then edit, verify, preview and commit.
func (r *run) run(ctx context.Context) error {
	base, baseCommit, err := r.loadConfig(ctx)
	if err != nil {
		return err
	}
	r.newPlan(base, baseCommit)
	if err := r.checkPublishing(); err != nil {
		return err
	}
	fromCommit, err := r.sourceCommit(ctx)
	if err != nil {
		return err
	}
	r.plan.From.Commit = fromCommit
	if err := r.chooseBranch(ctx, fromCommit); err != nil {
		return err
	}
	r.logf("reading %s at %s (%s) and %s at %s (%s)", r.fromEnv.Name, short(fromCommit), r.plan.From.Revision, r.toEnv.Name, short(baseCommit), base)
	fromPins, err := r.fromPins(ctx, fromCommit)
	if err != nil {
		return err
	}
	if err := r.checkCharts(fromPins); err != nil {
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

// finish edits, verifies, previews and commits the planned changes (shared
// by promotions and rollbacks).
func (r *run) finish(ctx context.Context) error {
	r.oldBranch = r.git.BranchCommit(ctx, r.branch)
	if r.oldBranch != "" && !r.o.Force && !r.o.DryRun {
		return fmt.Errorf("branch %s already exists (at %s): pass --force to replace it, or --branch NAME", r.branch, short(r.oldBranch))
	}
	if err := r.edit(); err != nil {
		return err
	}
	if err := r.verify(); err != nil {
		return err
	}
	if r.o.Diff {
		if err := r.preview(ctx); err != nil {
			return err
		}
	}
	if r.o.DryRun {
		return nil
	}
	return r.commit(ctx)
}

// loadConfig reads the configuration and checks that From → To is allowed.
func (r *run) loadConfig(ctx context.Context) (base, baseCommit string, err error) {
	if base, baseCommit, err = r.readConfig(ctx); err != nil {
		return "", "", err
	}
	if err := r.cfg.CheckPromotion(r.o.From, r.o.To); err != nil {
		return "", "", err
	}
	r.fromEnv, _ = r.cfg.Environment(r.o.From)
	r.toEnv, _ = r.cfg.Environment(r.o.To)
	return base, baseCommit, nil
}

// readConfig finds the repository's top level, the base commit and origin,
// and reads c5c3.yaml at the base.
func (r *run) readConfig(ctx context.Context) (base, baseCommit string, err error) {
	top, err := gitrepo.TopLevel(r.o.RepoDir)
	if err != nil {
		return "", "", err
	}
	r.git.Dir = top
	base = r.o.Base
	if base == "" {
		if base, err = r.git.Upstream(ctx); err != nil {
			return "", "", err
		}
	}
	if baseCommit, err = r.git.Commit(ctx, base); err != nil {
		return "", "", fmt.Errorf("--base: %w", err)
	}
	data, ok, err := r.git.Show(ctx, baseCommit, pipeline.ConfigFile)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", fmt.Errorf("no %s at the root of %s (%s): declare the environments there (see the README)", pipeline.ConfigFile, base, short(baseCommit))
	}
	if r.cfg, err = pipeline.ParseConfig(pipeline.ConfigFile+" (at "+base+")", data); err != nil {
		return "", "", err
	}
	if r.origin, err = gitrepo.RemoteURL(top, pipeline.PushRemote); err != nil {
		return "", "", err
	}
	return base, baseCommit, nil
}

// newPlan starts the plan with empty (never null) lists.
func (r *run) newPlan(base, baseCommit string) {
	r.plan = &Plan{
		APIVersion: pipeline.APIVersion, Kind: PlanKind, DryRun: r.o.DryRun,
		From:    FromSide{Environment: r.fromEnv.Name, Revision: r.o.FromRevision},
		To:      ToSide{Environment: r.toEnv.Name, Base: base, BaseCommit: baseCommit},
		Changes: []Change{}, Unchanged: []Change{}, OnlyInFrom: []pipeline.Pin{}, OnlyInTo: []pipeline.Pin{},
		Conflicts: []Conflict{}, Excluded: []string{}, Files: []FileDiff{},
	}
	if r.plan.From.Revision == "" {
		r.plan.From.Revision = RevisionLive
	}
}

// checkPublishing fails early when --push or --open-pr cannot work.
func (r *run) checkPublishing() error {
	if r.o.DryRun {
		return nil
	}
	if r.o.Push && r.origin == "" {
		return fmt.Errorf("--push: the checkout %s has no %q remote", r.git.Dir, pipeline.PushRemote)
	}
	if r.o.OpenPR {
		var err error
		if r.remote, err = gitrepo.ParseRemote(r.origin); err != nil {
			return fmt.Errorf("--open-pr: %w", err)
		}
		if _, err := r.o.PullRequest.Resolve(r.remote); err != nil {
			return fmt.Errorf("--open-pr on %w", err)
		}
	}
	return nil
}

// chooseBranch names the branch the commit goes on.
func (r *run) chooseBranch(ctx context.Context, fromCommit string) error {
	r.branch = r.o.Branch
	if r.branch == "" {
		r.branch = defaultBranch(r.fromEnv.Name, r.toEnv.Name, fromCommit)
	}
	if err := r.git.CheckBranchName(ctx, r.branch); err != nil {
		return fmt.Errorf("--branch: %w", err)
	}
	return nil
}

// fromPins reads From's pins at its commit, from git.
func (r *run) fromPins(ctx context.Context, commit string) ([]pipeline.Pin, error) {
	files, err := r.git.ReadTree(ctx, commit, func(p string) bool { return pipeline.IsYAML(p) && r.fromEnv.Under(p) })
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, noFilesError(r.fromEnv, commit)
	}
	pins, err := pipeline.Scan(files)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", r.fromEnv.Name, short(commit), err)
	}
	return pins, nil
}

// toPins checks the base out into a temporary worktree and reads To's pins
// there (the files are edited in place later).
func (r *run) toPins(ctx context.Context, baseCommit string) ([]pipeline.Pin, error) {
	var err error
	if r.wt, err = r.git.AddWorktree(ctx, baseCommit); err != nil {
		return nil, err
	}
	files, err := readEnvFiles(r.wt.Dir, r.toEnv)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, noFilesError(r.toEnv, baseCommit)
	}
	r.toFiles = map[string][]byte{}
	for _, f := range files {
		r.toFiles[f.Path] = f.Data
	}
	pins, err := pipeline.Scan(files)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", r.toEnv.Name, short(baseCommit), err)
	}
	return pins, nil
}

func noFilesError(env *pipeline.Environment, commit string) error {
	return fmt.Errorf("%s at %s has no YAML file under its paths (%s): check them in %s", env.Name, short(commit), strings.Join(env.Paths, ", "), pipeline.ConfigFile)
}

// compare fills the plan's sets and summary.
func (r *run) compare(fromPins, toPins []pipeline.Pin) error {
	sets, err := compare(r.fromEnv.Name, r.toEnv.Name, fromPins, toPins, r.o.Filter)
	if err != nil {
		return err
	}
	p := r.plan
	p.Changes, p.Unchanged, p.OnlyInFrom, p.OnlyInTo = nonNil(sets.Changes), nonNil(sets.Unchanged), nonNil(sets.OnlyInFrom), nonNil(sets.OnlyInTo)
	p.Conflicts, p.Excluded = nonNil(sets.Conflicts), nonNil(sets.Excluded)
	p.Summary = Summary{Changes: len(p.Changes), Unchanged: len(p.Unchanged), OnlyInFrom: len(p.OnlyInFrom), OnlyInTo: len(p.OnlyInTo),
		Conflicts: len(p.Conflicts), Excluded: len(p.Excluded), NothingToPromote: len(p.Changes) == 0}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// fleetOf discovers an environment's hub once.
func (r *run) fleetOf(ctx context.Context, env *pipeline.Environment) (*fleet.Fleet, error) {
	if f := r.fleets[env.Context]; f != nil {
		return f, nil
	}
	if r.o.Fleet == nil {
		return nil, fmt.Errorf("environment %s: no hub to read from", env.Name)
	}
	f, err := r.o.Fleet(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", env.Name, err)
	}
	if r.fleets == nil {
		r.fleets = map[string]*fleet.Fleet{}
	}
	r.fleets[env.Context] = f
	return f, nil
}

// sourceCommit picks the commit From's pins are read at, running the
// health gate on the way.
func (r *run) sourceCommit(ctx context.Context) (string, error) {
	live := r.plan.From.Revision == RevisionLive
	if !live && r.o.SkipHealthCheck {
		return r.git.Commit(ctx, r.plan.From.Revision)
	}
	f, err := r.fleetOf(ctx, r.fromEnv)
	if err != nil {
		return "", err
	}
	kss, err := pipeline.SelectKustomizations(f, r.fromEnv, r.origin)
	if err != nil {
		return "", err
	}
	h := checkHealth(f, r.fromEnv, kss, live)
	r.plan.HealthCheck = h
	r.checkEvidence(ctx, f, kss)
	if !h.Healthy && !r.o.SkipHealthCheck {
		return "", &HealthError{Check: h}
	}
	if !live {
		return r.git.Commit(ctx, r.plan.From.Revision)
	}
	if h.Commit == "" {
		return "", fmt.Errorf("cannot tell which commit %s runs: %s; pass --from-revision HEAD or a commit",
			r.fromEnv.Name, strings.Join(h.AllProblems(), "; "))
	}
	c, err := r.git.Commit(ctx, h.Commit)
	if err != nil {
		return "", fmt.Errorf("%s runs commit %s, which the checkout does not have: git fetch, then retry", r.fromEnv.Name, h.Commit)
	}
	return c, nil
}

// cleanup removes the temporary worktree, also when ctx was cancelled.
func (r *run) cleanup() {
	if r.wt != nil {
		r.wt.Remove()
	}
}
