package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/pipeline"
	"github.com/c5c3/kubectl-c5c3/promote"
)

// PromoteHistoryOptions are the options of `kubectl c5c3 promote history`.
type PromoteHistoryOptions struct {
	*Options
	Environment string
	Output      string
	Repo        string
	Base        string
	Offline     bool

	fleetOpts fleet.Options
}

const promoteHistoryLong = `List the promotions recorded in git, newest first: the commits with a
Promoted-To trailer on the base branch (default: the upstream of your branch) and on
the promote/... branches — local ones, and origin's as git ls-remote reports them
now (branches whose commit you have not fetched are listed separately). For each:
when, from → to (or which promotion a rollback restored), the pins its diff moved
(read with promote's pin scanner), the evidence trailers (Soaked, Verified), where it
is, and — from each target environment's hub — whether it runs that commit (every
one of its hub Kustomizations applied it or a descendant) and is healthy.

With ENV only promotions to that environment are listed. --offline reads git only:
neither origin nor a hub is asked. The checkout is only read.

Output formats: table (default; then each promotion's pins), json and yaml (schema
c5c3.cobaltcore.io/v1alpha1 PromotionHistory; see docs/schemas.md).

Exit codes:
  0  listed
  2  error: bad arguments or c5c3.yaml, git failed; or origin or a hub could not be
     read (the list is still printed, the problems are in it and on stderr)
  130  interrupted (Ctrl-C, SIGTERM): every request ends at once`

// NewCmdPromoteHistory builds `kubectl c5c3 promote history`.
func NewCmdPromoteHistory(common *Options) *cobra.Command {
	o := &PromoteHistoryOptions{Options: common}
	cmd := &cobra.Command{
		Use:   "history [ENV]",
		Short: "List past promotions from git, and whether each environment runs them",
		Long:  promoteHistoryLong,
		Example: `  # Every promotion, and what each environment runs now
  kubectl c5c3 promote history

  # Promotions to production as JSON (schema PromotionHistory)
  kubectl c5c3 promote history production -o json

  # From git alone, without asking origin or a hub
  kubectl c5c3 promote history --offline`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("promote history takes at most one argument, ENV; got %d\nSee '%s --help' for usage", len(args), cmd.CommandPath())
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
			if len(args) == 1 {
				o.Environment = args[0]
			}
			return runOptions(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, &o.Output, "table", "json", "yaml")
	f := cmd.Flags()
	f.StringVar(&o.Repo, "repo", "", "The gitops checkout (default: the one holding the working directory); it is only read")
	f.StringVar(&o.Base, "base", "", "Branch promotions are merged into (default: the upstream of the checked-out branch)")
	f.BoolVar(&o.Offline, "offline", false, "Read git only: ask neither origin for its promote branches nor the hubs what runs")
	return cmd
}

// Complete fills in the defaults that depend on the environment.
func (o *PromoteHistoryOptions) Complete() (err error) {
	o.fleetOpts, err = o.completeRepo(&o.Repo)
	return err
}

// Validate checks the arguments.
func (o *PromoteHistoryOptions) Validate() error {
	if o.Base != "" && o.Base[0] == '-' {
		return usageErrorf("--base %q must not start with '-'", o.Base)
	}
	return nil
}

// Run reads the ledger and prints it.
func (o *PromoteHistoryOptions) Run(ctx context.Context) error {
	opts := promote.HistoryOptions{RepoDir: o.Repo, Environment: o.Environment, Base: o.Base, Offline: o.Offline, Log: o.ErrOut}
	if !o.Offline {
		opts.Fleet = func(ctx context.Context, env *pipeline.Environment) (*fleet.Fleet, error) {
			return o.envFleet(ctx, o.fleetOpts, env)
		}
	}
	h, err := promote.ReadHistory(ctx, opts)
	if err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	if o.Output == "table" {
		err = promote.WriteHistoryTable(o.Out, h, o.Palette())
	} else {
		err = printStructured(o.Out, h, o.Output)
	}
	if err != nil {
		return err
	}
	for _, p := range h.Problems {
		fmt.Fprintf(o.ErrOut, "warning: %s\n", p)
	}
	if len(h.Problems) > 0 {
		return &ExitError{Code: CodeError}
	}
	return nil
}
