package promote

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// Where the pins of the source environment are read (--from-revision).
const (
	// RevisionLive is the commit the source's hub Kustomizations applied.
	RevisionLive = "live"
	// RevisionHEAD is the checkout's HEAD.
	RevisionHEAD = "HEAD"
)

// PlanKind is the kind of `promote -o json` (apiVersion
// pipeline.APIVersion).
const PlanKind = "PromotionPlan"

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
	// MinSoak is how long From's revision must have run Ready (--min-soak);
	// nil takes the environment's minSoak from c5c3.yaml, else 0.
	MinSoak *time.Duration
	// FailOnDanger refuses the promotion when the --diff preview raises a
	// danger flag (implies Diff).
	FailOnDanger bool
	// Now is the clock the soak is measured with; nil is time.Now.
	Now func() time.Time
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
	PullRequest forge.Options
	// Diff previews the edited target tree against the target's live
	// clusters with the diff engine.
	Diff bool
	// Fleet discovers the hub of an environment (its kubeconfig context).
	// It is called only when a health check or --diff needs a hub.
	Fleet func(ctx context.Context, env *pipeline.Environment) (*fleet.Fleet, error)
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
	OnlyInFrom []pipeline.Pin `json:"onlyInFrom"`
	// OnlyInTo are keys To has and From lacks: kept as they are.
	OnlyInTo []pipeline.Pin `json:"onlyInTo"`
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
	// BlastRadius summarises Preview per To cluster, with danger flags.
	BlastRadius *BlastRadius `json:"blastRadius,omitempty"`
	// DryRun is true when nothing was committed on purpose.
	DryRun bool `json:"dryRun"`
	// Rollback is the promotion a rollback restores (rollback only).
	Rollback *RollbackTarget `json:"rollback,omitempty"`
	// Result says what was committed, pushed and opened.
	Result  *Outcome `json:"result,omitempty"`
	Summary Summary  `json:"summary"`
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
	Replaced    string             `json:"replaced,omitempty"`
	Pushed      bool               `json:"pushed"`
	Remote      string             `json:"remote,omitempty"`
	PullRequest *forge.PullRequest `json:"pullRequest,omitempty"`
	// Status is the commit status set on the pushed commit with --open-pr.
	Status *forge.CommitStatus `json:"status,omitempty"`
	// Note says how an interrupted or failed push was settled.
	Note string `json:"note,omitempty"`
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

// defaultBranch is promote/<from>-to-<to>-<short-sha>.
func defaultBranch(from, to, commit string) string {
	return fmt.Sprintf("promote/%s-to-%s-%s", from, to, short(commit))
}
