package promote

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/kustomize"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
)

// Where the pins of the source environment are read (--from-revision).
const (
	// RevisionLive is the commit the source's hub Kustomizations applied.
	RevisionLive = "live"
	// RevisionHEAD is the checkout's HEAD.
	RevisionHEAD = "HEAD"
)

// PushRemote is the git remote promote pushes to.
const PushRemote = "origin"

// Options describe one promotion.
type Options struct {
	// RepoDir is a directory inside the user's gitops checkout. It is never
	// written to: the edit happens in a temporary worktree.
	RepoDir string
	// From and To are environment names from c5c3.yaml.
	From, To string
	// FromRevision is live (default), HEAD, or a commit.
	FromRevision string
	// Base is the branch (or any revision) the promotion commit builds on;
	// default the checked-out branch's upstream, e.g. origin/main.
	Base string
	// Filter selects keys (--only, --exclude).
	Filter Filter
	// SkipHealthCheck promotes even when the source is not healthy.
	SkipHealthCheck bool
	// DryRun stops after the plan and the file diff.
	DryRun bool
	// Branch names the new branch; default promote/<from>-to-<to>-<short-sha>.
	Branch string
	// Force replaces an existing branch (locally and, with Push, on origin).
	Force bool
	// Signoff adds a Signed-off-by trailer (git commit --signoff).
	Signoff bool
	// Push pushes the branch to origin.
	Push bool
	// OpenPR opens a pull/merge request (implies Push).
	OpenPR bool
	// PullRequest says where and how to open it.
	PullRequest PullRequestOptions
	// Diff previews the edited target tree against the target's live
	// clusters with the diff engine.
	Diff bool
	// DiffConcurrency bounds the dry-runs in flight per cluster (--diff).
	DiffConcurrency int
	// Fleet discovers the hub of an environment (its kubeconfig context).
	// It is called only when a health check or --diff needs a hub.
	Fleet func(ctx context.Context, env *Environment) (*fleet.Fleet, error)
	// GitEnv is added to the environment of every git command.
	GitEnv []string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Plan is what a promotion does, and — after a real run — what it did. Its
// JSON form is the documented schema of `promote -o json` (apiVersion
// c5c3.cobaltcore.io/v1alpha1, kind PromotionPlan); fields are only added.
type Plan struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	From       FromSide `json:"from"`
	To         ToSide   `json:"to"`
	// Changes are the values of To that get From's value.
	Changes []Change `json:"changes"`
	// Unchanged are the values of To that already match.
	Unchanged []Change `json:"unchanged"`
	// OnlyInFrom are keys From has and To lacks: reported, not added.
	OnlyInFrom []Pin `json:"onlyInFrom"`
	// OnlyInTo are keys To has and From lacks: kept as they are.
	OnlyInTo []Pin `json:"onlyInTo"`
	// Conflicts are keys with several values within From: not promoted.
	Conflicts []Conflict `json:"conflicts"`
	// Excluded are keys left out by --only/--exclude.
	Excluded []string `json:"excluded"`
	// HealthCheck is the gate's verdict on From (absent when skipped and
	// not needed).
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`
	// Files are unified diffs of the edited files.
	Files []FileDiff `json:"files"`
	// Preview is the --diff result: the edited tree against To's clusters.
	Preview *diff.Result `json:"preview,omitempty"`
	// DryRun is true when nothing was committed on purpose.
	DryRun bool `json:"dryRun"`
	// Result says what was committed, pushed and opened.
	Result  *Outcome `json:"result,omitempty"`
	Summary Summary  `json:"summary"`

	previewMarkdown string
}

// FromSide is where the promoted values come from.
type FromSide struct {
	Environment string `json:"environment"`
	// Revision is how the commit was chosen: live, HEAD or the given one.
	Revision string `json:"revision"`
	Commit   string `json:"commit"`
}

// ToSide is what the promotion edits.
type ToSide struct {
	Environment string `json:"environment"`
	// Base is the branch the commit builds on, BaseCommit its commit.
	Base       string `json:"base"`
	BaseCommit string `json:"baseCommit"`
}

// FileDiff is the unified diff of one edited file.
type FileDiff struct {
	Path string `json:"path"`
	Diff string `json:"diff"`
}

// Outcome is what a real run made.
type Outcome struct {
	Branch  string `json:"branch"`
	Commit  string `json:"commit"`
	Message string `json:"message"`
	// Replaced is the commit the branch pointed to before --force.
	Replaced    string       `json:"replaced,omitempty"`
	Pushed      bool         `json:"pushed"`
	Remote      string       `json:"remote,omitempty"`
	PullRequest *PullRequest `json:"pullRequest,omitempty"`
}

// Summary counts the plan.
type Summary struct {
	Changes    int `json:"changes"`
	Unchanged  int `json:"unchanged"`
	OnlyInFrom int `json:"onlyInFrom"`
	OnlyInTo   int `json:"onlyInTo"`
	Conflicts  int `json:"conflicts"`
	Excluded   int `json:"excluded"`
	// NothingToPromote is true when To already has From's values.
	NothingToPromote bool `json:"nothingToPromote"`
}

// DefaultBranch is promote/<from>-to-<to>-<short-sha>.
func DefaultBranch(from, to, commit string) string {
	return fmt.Sprintf("promote/%s-to-%s-%s", from, to, short(commit))
}

// Run plans the promotion and, unless DryRun, commits it on a new branch,
// pushes it and opens a pull request as asked. The user's checkout — its
// branch, index and files — is never touched; on failure no branch or
// temporary worktree is left behind. A refusal by the health gate is a
// *HealthError. The plan is returned whenever it got that far, also with
// an error.
func Run(ctx context.Context, o Options) (*Plan, error) {
	r := &run{o: o, git: &Git{Dir: o.RepoDir, Env: o.GitEnv}, log: o.Log}
	if r.log == nil {
		r.log = io.Discard
	}
	if r.o.OpenPR {
		r.o.Push = true
	}
	defer r.cleanup()
	err := r.run(ctx)
	return r.plan, err
}

type run struct {
	o    Options
	git  *Git
	log  io.Writer
	plan *Plan

	cfg            *Config
	fromEnv, toEnv *Environment
	origin         string
	remote         Remote
	branch         string
	oldBranch      string
	worktree       string
	tmp            string
	toFiles        map[string][]byte
	newFiles       map[string][]byte
	fleets         map[string]*fleet.Fleet
}

func (r *run) logf(format string, a ...any) { fmt.Fprintf(r.log, format+"\n", a...) }

func (r *run) run(ctx context.Context) error {
	top, err := r.git.TopLevel(ctx)
	if err != nil {
		return err
	}
	r.git.Dir = top

	base := r.o.Base
	if base == "" {
		if base, err = r.git.Upstream(ctx); err != nil {
			return err
		}
	}
	baseCommit, err := r.git.Commit(ctx, base)
	if err != nil {
		return fmt.Errorf("--base: %w", err)
	}
	data, ok, err := r.git.Show(ctx, baseCommit, ConfigFile)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no %s at the root of %s (%s): declare the environments there (see the README)", ConfigFile, base, short(baseCommit))
	}
	if r.cfg, err = ParseConfig(ConfigFile+" (at "+base+")", data); err != nil {
		return err
	}
	if err := r.cfg.CheckPromotion(r.o.From, r.o.To); err != nil {
		return err
	}
	r.fromEnv, _ = r.cfg.Environment(r.o.From)
	r.toEnv, _ = r.cfg.Environment(r.o.To)
	r.origin = r.git.RemoteURL(ctx, PushRemote)

	r.plan = &Plan{
		APIVersion: APIVersion, Kind: PlanKind, DryRun: r.o.DryRun,
		From:    FromSide{Environment: r.fromEnv.Name, Revision: r.o.FromRevision},
		To:      ToSide{Environment: r.toEnv.Name, Base: base, BaseCommit: baseCommit},
		Changes: []Change{}, Unchanged: []Change{}, OnlyInFrom: []Pin{}, OnlyInTo: []Pin{},
		Conflicts: []Conflict{}, Excluded: []string{}, Files: []FileDiff{},
	}
	if r.plan.From.Revision == "" {
		r.plan.From.Revision = RevisionLive
	}

	if r.o.Push && !r.o.DryRun {
		if r.origin == "" {
			return fmt.Errorf("--push: the checkout %s has no %q remote", top, PushRemote)
		}
	}
	if r.o.OpenPR && !r.o.DryRun {
		if r.remote, err = ParseRemote(r.origin); err != nil {
			return fmt.Errorf("--open-pr: %w", err)
		}
		if _, err := r.o.PullRequest.resolve(r.remote); err != nil {
			return err
		}
	}

	fromCommit, err := r.sourceCommit(ctx)
	if err != nil {
		return err
	}
	r.plan.From.Commit = fromCommit

	r.branch = r.o.Branch
	if r.branch == "" {
		r.branch = DefaultBranch(r.fromEnv.Name, r.toEnv.Name, fromCommit)
	}
	if err := r.git.CheckBranchName(ctx, r.branch); err != nil {
		return fmt.Errorf("--branch: %w", err)
	}

	r.logf("reading %s at %s (%s) and %s at %s (%s)", r.fromEnv.Name, short(fromCommit), r.plan.From.Revision, r.toEnv.Name, short(baseCommit), base)
	fromFiles, err := r.git.ReadTree(ctx, fromCommit, func(p string) bool { return IsYAML(p) && r.fromEnv.Under(p) })
	if err != nil {
		return err
	}
	if len(fromFiles) == 0 {
		return fmt.Errorf("%s at %s has no YAML file under its paths (%s): check them in %s", r.fromEnv.Name, short(fromCommit), strings.Join(r.fromEnv.Paths, ", "), ConfigFile)
	}
	fromPins, err := Scan(fromFiles)
	if err != nil {
		return fmt.Errorf("%s at %s: %w", r.fromEnv.Name, short(fromCommit), err)
	}

	if err := r.addWorktree(ctx, baseCommit); err != nil {
		return err
	}
	toFiles, err := readEnvFiles(r.worktree, r.toEnv)
	if err != nil {
		return err
	}
	if len(toFiles) == 0 {
		return fmt.Errorf("%s at %s has no YAML file under its paths (%s): check them in %s", r.toEnv.Name, short(baseCommit), strings.Join(r.toEnv.Paths, ", "), ConfigFile)
	}
	r.toFiles = map[string][]byte{}
	for _, f := range toFiles {
		r.toFiles[f.Path] = f.Data
	}
	toPins, err := Scan(toFiles)
	if err != nil {
		return fmt.Errorf("%s at %s: %w", r.toEnv.Name, short(baseCommit), err)
	}

	sets, err := Compare(r.fromEnv.Name, r.toEnv.Name, fromPins, toPins, r.o.Filter)
	if err != nil {
		return err
	}
	p := r.plan
	p.Changes, p.Unchanged, p.OnlyInFrom, p.OnlyInTo = nonNil(sets.Changes), nonNil(sets.Unchanged), nonNil(sets.OnlyInFrom), nonNil(sets.OnlyInTo)
	p.Conflicts, p.Excluded = nonNil(sets.Conflicts), nonNil(sets.Excluded)
	p.Summary = Summary{Changes: len(p.Changes), Unchanged: len(p.Unchanged), OnlyInFrom: len(p.OnlyInFrom), OnlyInTo: len(p.OnlyInTo),
		Conflicts: len(p.Conflicts), Excluded: len(p.Excluded), NothingToPromote: len(p.Changes) == 0}
	if len(p.Changes) == 0 {
		return nil
	}
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

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// fleetOf discovers an environment's hub once.
func (r *run) fleetOf(ctx context.Context, env *Environment) (*fleet.Fleet, error) {
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
	kss, err := SelectKustomizations(f, r.fromEnv, r.origin)
	if err != nil {
		return "", err
	}
	h := CheckHealth(f, r.fromEnv, kss, live)
	r.plan.HealthCheck = h
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

// addWorktree checks base out into a temporary worktree of the user's repo.
func (r *run) addWorktree(ctx context.Context, commit string) error {
	tmp, err := os.MkdirTemp("", "kubectl-c5c3-promote-")
	if err != nil {
		return err
	}
	r.tmp = tmp
	wt := filepath.Join(tmp, "worktree")
	if _, err := r.git.Run(ctx, "worktree", "add", "--detach", "--quiet", wt, commit); err != nil {
		return fmt.Errorf("creating a temporary worktree: %w", err)
	}
	r.worktree = wt
	return nil
}

// cleanup removes the temporary worktree and directory, also when ctx was
// cancelled.
func (r *run) cleanup() {
	ctx := context.Background()
	if r.worktree != "" {
		if _, err := r.git.Run(ctx, "worktree", "remove", "--force", r.worktree); err != nil {
			_ = os.RemoveAll(r.worktree)
			_, _ = r.git.Run(ctx, "worktree", "prune")
		}
	}
	if r.tmp != "" {
		_ = os.RemoveAll(r.tmp)
	}
}

// readEnvFiles reads the YAML files of env from a checkout on disk.
func readEnvFiles(root string, env *Environment) ([]File, error) {
	var files []File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !IsYAML(rel) || !env.Under(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, File{Path: rel, Data: data})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, err
}

// edit splices the new values into To's files in the worktree.
func (r *run) edit() error {
	r.newFiles = map[string][]byte{}
	byFile := Edits(r.plan.Changes)
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		out, err := ApplyEdits(r.toFiles[f], byFile[f])
		if err != nil {
			return err
		}
		r.newFiles[f] = out
		r.plan.Files = append(r.plan.Files, FileDiff{Path: f, Diff: diff.Unified(string(r.toFiles[f]), string(out), "a/"+f, "b/"+f)})
		if err := os.WriteFile(filepath.Join(r.worktree, filepath.FromSlash(f)), out, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// verify re-scans To after the edit: every pin must read as planned, and
// every kustomization directory holding an edited file must still build.
func (r *run) verify() error {
	files, err := readEnvFiles(r.worktree, r.toEnv)
	if err != nil {
		return err
	}
	after, err := Scan(files)
	if err != nil {
		return fmt.Errorf("after the edit: %w", err)
	}
	want := map[string]string{}
	for _, c := range r.plan.Changes {
		want[c.File+"|"+c.Key+"|"+fmt.Sprint(c.Line)] = c.New
	}
	for _, c := range r.plan.Unchanged {
		want[c.File+"|"+c.Key+"|"+fmt.Sprint(c.Line)] = c.New
	}
	seen := 0
	for _, p := range after {
		id := p.File + "|" + p.Key + "|" + fmt.Sprint(p.Line)
		v, ok := want[id]
		if !ok {
			continue
		}
		seen++
		if p.Value != v {
			return fmt.Errorf("after the edit %s:%d %s reads %q, want %q; nothing was committed", p.File, p.Line, p.Key, p.Value, v)
		}
	}
	if seen != len(want) {
		return fmt.Errorf("after the edit %d of %d pins of %s are no longer found; nothing was committed", len(want)-seen, len(want), r.toEnv.Name)
	}

	dirs := map[string]bool{}
	for f := range r.newFiles {
		for d := path.Dir(f); d != "." && d != "/"; d = path.Dir(d) {
			if !r.toEnv.Under(d) && d != path.Dir(f) {
				break
			}
			if hasKustomization(filepath.Join(r.worktree, filepath.FromSlash(d))) {
				dirs[d] = true
			}
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	for _, d := range sorted {
		if _, err := kustomize.SecureBuild(r.worktree, filepath.Join(r.worktree, filepath.FromSlash(d)), false); err != nil {
			return fmt.Errorf("after the edit, kustomize build %s fails: %w; nothing was committed", d, err)
		}
	}
	return nil
}

func hasKustomization(dir string) bool {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// preview runs the diff engine on the edited worktree against To's hub
// Kustomizations and their clusters.
func (r *run) preview(ctx context.Context) error {
	f, err := r.fleetOf(ctx, r.toEnv)
	if err != nil {
		return err
	}
	kss, err := SelectKustomizations(f, r.toEnv, r.origin)
	if err != nil {
		return fmt.Errorf("--diff: %w", err)
	}
	var targets []string
	source := ""
	for _, ks := range kss {
		targets = append(targets, ks.Namespace+"/"+ks.Name)
		ns := ks.Spec.SourceRef.Namespace
		if ns == "" {
			ns = ks.Namespace
		}
		s := ks.Spec.SourceRef.Kind + "/" + ns + "/" + ks.Spec.SourceRef.Name
		if source != "" && s != source {
			return fmt.Errorf("--diff: the Kustomizations of %s use different sources (%s, %s)", r.toEnv.Name, source, s)
		}
		source = s
	}
	r.logf("previewing the edited %s against its clusters", r.toEnv.Name)
	res, err := diff.Run(ctx, f, diff.Options{RepoDir: r.worktree, Targets: targets, Source: source, Concurrency: r.o.DiffConcurrency})
	if err != nil {
		return fmt.Errorf("--diff: %w", err)
	}
	res.Repo = "" // a temporary worktree: meaningless to the reader
	r.plan.Preview = res
	var md strings.Builder
	if err := diff.WriteMarkdown(&md, res, 40000); err == nil {
		r.plan.previewMarkdown = md.String()
	}
	return nil
}

// commit commits the edit in the worktree, points the branch at it and
// pushes and opens the pull request as asked. If anything fails after the
// branch was made, the branch is put back as it was.
func (r *run) commit(ctx context.Context) error {
	msg := CommitMessage(r.plan)
	msgFile := filepath.Join(r.tmp, "COMMIT_MSG")
	if err := os.WriteFile(msgFile, []byte(msg), 0o600); err != nil {
		return err
	}
	wt := &Git{Dir: r.worktree, Env: r.o.GitEnv}
	files := make([]string, 0, len(r.newFiles))
	for f := range r.newFiles {
		files = append(files, f)
	}
	sort.Strings(files)
	if _, err := wt.Run(ctx, append([]string{"add", "--"}, files...)...); err != nil {
		return err
	}
	args := []string{"commit", "--quiet", "--no-verify", "--cleanup=verbatim", "-F", msgFile}
	if r.o.Signoff {
		args = append(args, "--signoff")
	}
	if _, err := wt.Run(ctx, args...); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	commit, err := wt.Commit(ctx, "HEAD")
	if err != nil {
		return err
	}
	full, err := wt.Run(ctx, "log", "-1", "--format=%B", commit)
	if err != nil {
		return err
	}
	out := &Outcome{Branch: r.branch, Commit: commit, Message: strings.TrimRight(full, "\n") + "\n", Replaced: r.oldBranch}
	r.plan.Result = out

	if r.oldBranch != "" {
		_, err = r.git.Run(ctx, "branch", "--force", "--no-track", r.branch, commit)
	} else {
		_, err = r.git.Run(ctx, "branch", "--no-track", r.branch, commit)
	}
	if err != nil {
		r.plan.Result = nil
		return fmt.Errorf("creating branch %s: %w", r.branch, err)
	}
	r.logf("committed %s on branch %s", short(commit), r.branch)
	if !r.o.Push {
		return nil
	}

	refspec := "refs/heads/" + r.branch + ":refs/heads/" + r.branch
	if r.o.Force {
		refspec = "+" + refspec
	}
	r.logf("pushing %s to %s", r.branch, PushRemote)
	if _, err := r.git.Run(ctx, "push", "--quiet", PushRemote, refspec); err != nil {
		restored := r.restoreBranch()
		r.plan.Result = nil
		return fmt.Errorf("pushing %s to %s failed, %s: %w", r.branch, PushRemote, restored, err)
	}
	out.Pushed, out.Remote = true, PushRemote
	if !r.o.OpenPR {
		return nil
	}
	pr, err := OpenPullRequest(ctx, r.o.PullRequest, r.remote, r.branch, baseBranch(ctx, r.git, r.plan.To.Base),
		strings.SplitN(msg, "\n", 2)[0], PullRequestBody(r.plan))
	if err != nil {
		return fmt.Errorf("branch %s is pushed to %s, but %w", r.branch, PushRemote, err)
	}
	out.PullRequest = pr
	return nil
}

// restoreBranch puts the branch back as it was before the run and says so.
func (r *run) restoreBranch() string {
	ctx := context.Background()
	if r.oldBranch == "" {
		if _, err := r.git.Run(ctx, "branch", "-D", r.branch); err != nil {
			return fmt.Sprintf("and removing the local branch %s again failed too (%v)", r.branch, err)
		}
		return fmt.Sprintf("so the local branch %s was removed again; your checkout is as before", r.branch)
	}
	if _, err := r.git.Run(ctx, "branch", "--force", "--no-track", r.branch, r.oldBranch); err != nil {
		return fmt.Sprintf("and resetting the local branch %s to %s failed too (%v)", r.branch, short(r.oldBranch), err)
	}
	return fmt.Sprintf("so the local branch %s was reset to %s; your checkout is as before", r.branch, short(r.oldBranch))
}

// baseBranch turns the base revision into the branch name a pull request
// targets: origin/main → main, refs/heads/main → main.
func baseBranch(ctx context.Context, g *Git, base string) string {
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
