package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/pipeline"
	"github.com/c5c3/kubectl-c5c3/promote"
)

// PromoteOptions are the options of `kubectl c5c3 promote`.
type PromoteOptions struct {
	*Options
	From, To        string
	Output          string
	Repo            string
	FromRevision    string
	Base            string
	Only, Exclude   []string
	SkipHealthCheck bool
	MinSoak         time.Duration
	FailOnDanger    bool
	DryRun          bool
	Diff            bool
	Branch          string
	publishFlags

	fleetOpts  fleet.Options
	minSoakSet bool // --min-soak given: it wins over c5c3.yaml's minSoak
}

const promoteLong = `Promote revisions from one environment of the gitops repo to the next: copy the
source environment's pins into the target environment's files and commit that on a
new branch, ready for review.

Environments are declared in c5c3.yaml at the repo root (read at the base commit):
each has a name, paths (directories, with * allowed per segment), an optional
kubeconfig context of its hub and optional hub Kustomizations; "pipeline" lists the
allowed order. Pins are found in the YAML under each environment's paths and matched
by identity, not by file:
  HelmRelease/<name>/<chart>          spec.chart.spec.version
  <Kind>/<name>/<tag|semver|digest|commit>   OCIRepository and GitRepository spec.ref
  HelmChart/<name>/version            spec.version
  image/<name>/<newTag|newName|digest> kustomization.yaml images[] (and Flux spec.images)
  FluxInstance/<name>                 spec.distribution.version
  setter/<key>                        any scalar followed by # {"$c5c3": "<key>"}

By default (--from-revision live) the pins are read at the commit the source
environment's hub Kustomizations report as applied, and only when the health gate
passes. What is promoted is what runs. Its gates:
  revision  the hub Kustomizations are Ready, not suspended, current, at one commit
  delivery  every Kustomization and HelmRelease in their inventories (recursively)
            is Ready, not suspended, at its source's revision; HelmReleases run
            the chart version FROM's git pins, not Drifted, tests not failed
  soak      all of them have run Ready at their revision for --min-soak
            (default: minSoak of the environment in c5c3.yaml, else 0)
  spokes    every spoke they apply to is reachable

Only the values change: comments, blank lines, document markers, key order, quoting
and indentation stay byte for byte. The edit is re-scanned and every touched
kustomization built before anything is committed. Work happens in a temporary git
worktree: your branch, index and files are never touched, also on failure. The
commit goes on promote/<from>-to-<to>-<short-sha> (--branch) from --base (default
the upstream of your branch), with the message "promote(<from> → <to>): <summary>",
one "old → new" line per pin and the trailers Promoted-From and Promoted-To, and,
when every gate passed, Soaked: <duration> and Verified: <n> Kustomizations, <m>
HelmReleases on <clusters>. It is made with your git (author, signing) with hooks
off. --push pushes it to origin; --open-pr also opens a GitHub pull request
(GITHUB_TOKEN) or GitLab merge request (GITLAB_TOKEN) with the plan, the gates and
the --diff preview as its body, and sets the commit status
c5c3/promotion-evidence on the pushed commit (success: every gate passed and no
danger flag).

--diff also sums up the blast radius per TO cluster: created, changed, deleted,
and danger flags: immutable-field (the dry run refuses the change), recreate
(force deletes and recreates), prune-pvc, prune-namespace, crd (changed or
deleted), target-suspended, target-not-ready, field-manager (fields another
manager owns are overwritten). A preview in which a Kustomization or HelmRelease
could not be rendered or diffed is incomplete and says which and why (text, json
"complete": false, the pull request body). --fail-on-danger refuses on any flag and
on an incomplete preview.

Exit codes:
  0  promoted, or nothing to promote (the target already matches)
  1  refused by the health gate (a failed gate names the object; the soak gate
     also the time left), or by --fail-on-danger
  2  error: bad arguments or c5c3.yaml, the hub unreachable, an existing branch
     without --force, a failed edit check, commit, push or pull request
  130  interrupted (Ctrl-C, SIGTERM): nothing is left half-made; a push that
       landed first is kept (stderr says which)`

// NewCmdPromote builds `kubectl c5c3 promote`.
func NewCmdPromote(common *Options) *cobra.Command {
	o := &PromoteOptions{Options: common}
	cmd := &cobra.Command{
		Use:   "promote FROM TO",
		Short: "Commit the revisions running in one environment to the next",
		Long:  promoteLong,
		Example: `  # What would move from staging to production, with the file diff
  kubectl c5c3 promote staging production --dry-run

  # Commit it on a new branch, push it and open a pull request
  GITHUB_TOKEN=... kubectl c5c3 promote staging production --open-pr --diff

  # Only the chart versions, from the staging branch head instead of what runs
  kubectl c5c3 promote staging production --from-revision HEAD --only 'HelmRelease/*'

  # The plan as JSON (schema c5c3.cobaltcore.io/v1alpha1 PromotionPlan)
  kubectl c5c3 promote staging production --dry-run -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErrorf("promote needs two arguments, FROM and TO (environments from c5c3.yaml); got %d\nSee '%s --help' for usage", len(args), cmd.CommandPath())
			}
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) >= 2 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			after := ""
			if len(args) == 1 {
				after = args[0]
			}
			return environmentNames(o.Repo, after), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.From, o.To = args[0], args[1]
			o.minSoakSet = cmd.Flags().Changed("min-soak")
			return runOptions(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, &o.Output, "text", "json")
	f := cmd.Flags()
	f.StringVar(&o.Repo, "repo", "", "The gitops checkout (default: the one holding the working directory); it is never modified")
	f.StringVar(&o.FromRevision, "from-revision", promote.RevisionLive, "Where FROM's pins are read: live (the commit FROM's hub Kustomizations applied), HEAD, or a commit")
	f.StringVar(&o.Base, "base", "", "Branch the promotion commit builds on (default: the upstream of the checked-out branch)")
	f.StringSliceVar(&o.Only, "only", nil, "Promote only these keys (comma-separated; * matches anything, case-insensitive)")
	f.StringSliceVar(&o.Exclude, "exclude", nil, "Do not promote these keys (comma-separated; * matches anything, case-insensitive)")
	f.BoolVar(&o.SkipHealthCheck, "skip-health-check", false, "Promote even when FROM's Kustomizations are not Ready, suspended or behind their source")
	f.DurationVar(&o.MinSoak, "min-soak", 0, "How long FROM's revision must have run Ready, e.g. 2h (default: minSoak of FROM in c5c3.yaml, else 0)")
	f.BoolVar(&o.FailOnDanger, "fail-on-danger", false, "Refuse when the --diff preview raises a danger flag or is incomplete (implies --diff)")
	f.BoolVar(&o.DryRun, "dry-run", false, "Print the plan and the file diff; commit nothing")
	f.BoolVar(&o.Diff, "diff", false, "Preview the edited TO tree against TO's live clusters (kubectl c5c3 diff); added to the pull request")
	f.StringVar(&o.Branch, "branch", "", "Name of the new branch (default: promote/<from>-to-<to>-<short-sha>)")
	_ = cmd.RegisterFlagCompletionFunc("from-revision", fixedCompletion([]string{promote.RevisionLive, promote.RevisionHEAD}))
	o.publishFlags.add(cmd)
	cmd.AddCommand(NewCmdPromoteHistory(common), NewCmdPromoteRollback(common))
	return cmd
}

// Complete fills in the defaults that depend on the environment.
func (o *PromoteOptions) Complete() (err error) {
	o.fleetOpts, err = o.completeRepo(&o.Repo)
	return err
}

// Validate checks the arguments and flag values.
func (o *PromoteOptions) Validate() error {
	if o.From == "" || o.To == "" {
		return usageErrorf("FROM and TO must not be empty")
	}
	if o.From == o.To {
		return usageErrorf("cannot promote %s to itself", o.From)
	}
	if o.FromRevision == "" {
		return usageErrorf("--from-revision must be live, HEAD or a commit")
	}
	if o.MinSoak < 0 {
		return usageErrorf("--min-soak %s must not be negative", o.MinSoak)
	}
	if o.Branch != "" && o.Branch[0] == '-' {
		return usageErrorf("--branch %q must not start with '-'", o.Branch)
	}
	return nil
}

// Run plans and makes the promotion, and prints the plan and the outcome.
func (o *PromoteOptions) Run(ctx context.Context) error {
	var minSoak *time.Duration
	if o.minSoakSet {
		minSoak = &o.MinSoak
	}
	plan, err := promote.Run(ctx, promote.Options{
		RepoDir: o.Repo, From: o.From, To: o.To, FromRevision: o.FromRevision, Base: o.Base,
		Filter:          promote.Filter{Only: o.Only, Exclude: o.Exclude},
		SkipHealthCheck: o.SkipHealthCheck, MinSoak: minSoak, FailOnDanger: o.FailOnDanger, DryRun: o.DryRun, Diff: o.Diff,
		Branch: o.Branch, Force: o.Force, Signoff: o.Signoff, Push: o.Push, OpenPR: o.OpenPR,
		PullRequest: o.pullRequest(o.env),
		Fleet: func(ctx context.Context, env *pipeline.Environment) (*fleet.Fleet, error) {
			return o.envFleet(ctx, o.fleetOpts, env)
		},
		Log: o.ErrOut,
	})
	var (
		he *promote.HealthError
		de *promote.DangerError
	)
	if errors.As(err, &he) || errors.As(err, &de) {
		if o.Output == "json" && plan != nil {
			if perr := o.printJSON(plan); perr != nil {
				return perr
			}
		}
		return &ExitError{Code: CodeAttention, Err: err}
	}
	if err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	if o.Output == "json" {
		return o.printJSON(plan)
	}
	return promote.WriteText(o.Out, plan, o.DryRun, o.Palette())
}

func (o *PromoteOptions) printJSON(plan *promote.Plan) error {
	return printStructured(o.Out, plan, "json")
}

// environmentNames completes FROM and TO from the c5c3.yaml of the
// checkout's working tree; nothing when there is none.
func environmentNames(repo, after string) []string {
	if repo == "" {
		repo = "."
	}
	top, err := gitrepo.TopLevel(repo)
	if err != nil {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(top, pipeline.ConfigFile))
	if err != nil {
		return nil
	}
	cfg, err := pipeline.ParseConfig(pipeline.ConfigFile, data)
	if err != nil {
		return nil
	}
	return cfg.Names(after)
}

// envFleet discovers the hub of an environment of c5c3.yaml: the hub of
// --kubeconfig and --context, or the environment's own kubeconfig context.
func (o *Options) envFleet(ctx context.Context, opts fleet.Options, env *pipeline.Environment) (*fleet.Fleet, error) {
	var (
		hub *kube.Client
		err error
	)
	if env.Context == "" {
		hub, err = o.HubClient()
	} else {
		hub, err = o.contextClient(env.Context)
	}
	if err != nil {
		return nil, err
	}
	return discoverFleet(ctx, hub, opts)
}

// contextClient builds a hub client for another context of the kubeconfig,
// with the rest of kubectl's flags as given.
func (o *Options) contextClient(name string) (*kube.Client, error) {
	c := o.ConfigFlags
	cf := &genericclioptions.ConfigFlags{
		CacheDir: c.CacheDir, KubeConfig: c.KubeConfig, ClusterName: c.ClusterName, AuthInfoName: c.AuthInfoName,
		Context: &name, Namespace: c.Namespace, APIServer: c.APIServer, TLSServerName: c.TLSServerName,
		Insecure: c.Insecure, CertFile: c.CertFile, KeyFile: c.KeyFile, CAFile: c.CAFile, BearerToken: c.BearerToken,
		Impersonate: c.Impersonate, ImpersonateUID: c.ImpersonateUID, ImpersonateGroup: c.ImpersonateGroup,
		ImpersonateUserExtra: c.ImpersonateUserExtra, Username: c.Username, Password: c.Password,
		Timeout: c.Timeout, DisableCompression: c.DisableCompression, ProxyURL: c.ProxyURL, WrapConfigFn: c.WrapConfigFn,
	}
	cfg, err := cf.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig context %q: %w", name, err)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "kubectl-c5c3/" + rest.DefaultKubernetesUserAgent()
	}
	cfg.Wrap(kube.Interruptible(o.interrupt))
	return kube.NewClient(cfg)
}
