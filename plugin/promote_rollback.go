package plugin

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/pipeline"
	"github.com/c5c3/kubectl-c5c3/promote"
)

// PromoteRollbackOptions are the options of `kubectl c5c3 promote rollback`.
type PromoteRollbackOptions struct {
	*Options
	Environment string
	Output      string
	Repo        string
	Base        string
	To          string
	Steps       int
	DryRun      bool
	Diff        bool
	Branch      string
	publishFlags

	fleetOpts fleet.Options
}

const promoteRollbackLong = `Roll an environment back: restore its pins to those of one of its earlier
promotions (the commits with a Promoted-To trailer on the base branch), as a commit on
a new branch, ready for review — the same way promote does it: only the values
change, byte for byte, in a temporary worktree; your checkout is never touched.

Which promotion: by default the newest one before the current one (the newest on the
base) whose Verified trailer records the evidence gates' check, and when none has,
the pins as they were before the newest promotion (its first parent), which carry no
evidence — an environment's first promotion can be rolled back too; --steps N the one
N before the current one (rollbacks count too; one more than there are promotions is
the state before the first); --to COMMIT that promotion commit, or the commit before
one. kubectl c5c3 promote history ENV lists them.

The commit goes on promote/rollback-<env>-to-<short-sha> (--branch) with the message
"rollback(<env>): back to <short-sha>, <summary>", one "old → new" line per pin and
the trailers Promoted-To: <env> and Rolled-Back-To: <sha of the restored promotion>.
--dry-run, --diff, --push, --open-pr, --force and --signoff work as for promote.
No health gate runs: with --open-pr the commit status c5c3/promotion-evidence is
success when the restored promotion carries a Verified trailer (that earlier check is
the evidence), failure when it does not or the pins restored are those before a
promotion.

Exit codes:
  0  committed, or nothing to roll back (the pins already match)
  2  error: bad arguments or c5c3.yaml, a --to that is neither a promotion of ENV nor
     the commit before one, too many --steps, an existing branch without --force, a
     failed edit check, commit, push or pull request
  130  interrupted (Ctrl-C, SIGTERM): every request ends at once`

// NewCmdPromoteRollback builds `kubectl c5c3 promote rollback`.
func NewCmdPromoteRollback(common *Options) *cobra.Command {
	o := &PromoteRollbackOptions{Options: common}
	cmd := &cobra.Command{
		Use:   "rollback ENV",
		Short: "Restore an environment's pins to those of an earlier promotion",
		Long:  promoteRollbackLong,
		Example: `  # What going back to the last verified promotion would change
  kubectl c5c3 promote rollback production --dry-run

  # Back to the previous promotion, pushed with a pull request
  GITHUB_TOKEN=... kubectl c5c3 promote rollback production --steps 1 --open-pr

  # Back to a given promotion commit
  kubectl c5c3 promote rollback production --to 3f2a9c1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("promote rollback needs one argument, ENV (an environment from c5c3.yaml); got %d\nSee '%s --help' for usage", len(args), cmd.CommandPath())
			}
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return environmentNames(o.Repo, ""), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Environment = args[0]
			return runOptions(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, &o.Output, "text", "json")
	f := cmd.Flags()
	f.StringVar(&o.Repo, "repo", "", "The gitops checkout (default: the one holding the working directory); it is never modified")
	f.StringVar(&o.Base, "base", "", "Branch the promotions are on and the commit builds on (default: the upstream of the checked-out branch)")
	f.StringVar(&o.To, "to", "", "The promotion commit whose pins are restored (see kubectl c5c3 promote history ENV)")
	f.IntVar(&o.Steps, "steps", 0, "Go back to the promotion N before the current one (default: the last one recorded as Verified)")
	f.BoolVar(&o.DryRun, "dry-run", false, "Print the plan and the file diff; commit nothing")
	f.BoolVar(&o.Diff, "diff", false, "Preview the edited ENV tree against ENV's live clusters (kubectl c5c3 diff); added to the pull request")
	f.StringVar(&o.Branch, "branch", "", "Name of the new branch (default: promote/rollback-<env>-to-<short-sha>)")
	o.publishFlags.add(cmd)
	return cmd
}

// Complete fills in the defaults that depend on the environment.
func (o *PromoteRollbackOptions) Complete() (err error) {
	o.fleetOpts, err = o.completeRepo(&o.Repo)
	return err
}

// Validate checks the arguments and flag values.
func (o *PromoteRollbackOptions) Validate() error {
	if o.Environment == "" {
		return usageErrorf("ENV must not be empty")
	}
	if o.To != "" && o.Steps != 0 {
		return usageErrorf("--to and --steps pick the promotion two ways: pass one of them")
	}
	if o.Steps < 0 {
		return usageErrorf("--steps %d: pass a positive number of promotions to go back", o.Steps)
	}
	if o.To != "" && o.To[0] == '-' {
		return usageErrorf("--to %q must not start with '-'", o.To)
	}
	if o.Branch != "" && o.Branch[0] == '-' {
		return usageErrorf("--branch %q must not start with '-'", o.Branch)
	}
	return nil
}

// Run plans and makes the rollback, and prints the plan and the outcome.
func (o *PromoteRollbackOptions) Run(ctx context.Context) error {
	plan, err := promote.Rollback(ctx, promote.RollbackOptions{
		RepoDir: o.Repo, Environment: o.Environment, Base: o.Base, To: o.To, Steps: o.Steps,
		DryRun: o.DryRun, Diff: o.Diff, Branch: o.Branch, Force: o.Force, Signoff: o.Signoff, Push: o.Push, OpenPR: o.OpenPR,
		PullRequest: o.pullRequest(o.env),
		Fleet: func(ctx context.Context, env *pipeline.Environment) (*fleet.Fleet, error) {
			return o.envFleet(ctx, o.fleetOpts, env)
		},
		Log: o.ErrOut,
	})
	if err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	if o.Output == "json" {
		return printStructured(o.Out, plan, "json")
	}
	return promote.WriteRollbackText(o.Out, plan, o.DryRun, o.Palette())
}
