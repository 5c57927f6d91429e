package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/pipeline"
	"github.com/c5c3/kubectl-c5c3/versions"
)

// VersionsOptions are the options of `kubectl c5c3 versions`.
type VersionsOptions struct {
	*Options
	Output       string
	Repo         string
	Revision     string
	Environments []string

	fleetOpts fleet.Options
}

const versionsLong = `Show which version of each component is pinned, applied and running in every
environment of the gitops repo: a row per component (the pins promote knows —
HelmRelease chart versions, OCIRepository/GitRepository refs, HelmChart versions,
kustomize image tags, FluxInstance distribution versions, setter values), environment
(in pipeline order, from c5c3.yaml) and cluster, with

  GIT      the value pinned in the checkout at --revision (default HEAD)
  APPLIED  what the environment's hub reports: a HelmRelease's installed chart
           (status.history), a source's artifact revision, a FluxInstance's
           lastAppliedRevision, and for images and setters the value at the commit
           the Kustomization applied (status.lastAppliedRevision)
  RUNNING  for images, the tags of the Deployments, StatefulSets and DaemonSets in
           that Kustomization's inventory, read from the cluster it targets

The environment's Kustomizations are chosen as promote chooses them (c5c3.yaml's
kustomizations, else those whose path is under the environment's paths), plus the
Kustomizations their inventories list. SKEW says git≠applied, applied≠running, or
"not in <env>": the environment pins a value the environment before it in the
pipeline neither pins, nor has applied, nor ever pinned in its files' git history.

Under the matrix, the Flux Operator ResourceSets the environment's hub Kustomizations
apply are listed with their input values that pin versions (keys version, tag,
digest, *Version, *Tag), from their inline inputs and their providers' exported
inputs on the hub (an OCIArtifactTag provider's latest tag, for example).

Output formats: table (default), markdown (for pull requests), json and yaml (a stable
schema: apiVersion c5c3.cobaltcore.io/v1alpha1, kind VersionMatrix; see docs/schemas.md).

Exit codes:
  0  no skew
  1  skew, or a cluster could not be reached (its cells say unreachable; the
     rest is shown)
  2  error: no checkout, a missing or bad c5c3.yaml, an unknown environment, an
     environment's hub that cannot be read (the matrix is still printed), bad flags
  130  interrupted (Ctrl-C, SIGTERM): every request ends at once`

// NewCmdVersions builds `kubectl c5c3 versions`.
func NewCmdVersions(common *Options) *cobra.Command {
	o := &VersionsOptions{Options: common}
	cmd := &cobra.Command{
		Use:   "versions",
		Short: "Show the version of each component pinned, applied and running per environment",
		Long:  versionsLong,
		Example: `  # Every component in every environment, skew marked
  kubectl c5c3 versions

  # Only production (staging, before it in the pipeline, is read for the check)
  kubectl c5c3 versions --environment production

  # For a pull request, or machine-readable (schema VersionMatrix)
  kubectl c5c3 versions -o markdown
  kubectl c5c3 versions -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runOptions(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, &o.Output, "table", "json", "yaml", "markdown")
	f := cmd.Flags()
	f.StringVar(&o.Repo, "repo", "", "The gitops checkout (default: the one holding the working directory); it is only read")
	f.StringVar(&o.Revision, "revision", "HEAD", "The commit of the checkout the pins and c5c3.yaml are read at")
	f.StringSliceVar(&o.Environments, "environment", nil, "Only these environments of c5c3.yaml (comma-separated or repeated)")
	_ = cmd.RegisterFlagCompletionFunc("environment", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return environmentNames(o.Repo, ""), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("revision", fixedCompletion([]string{"HEAD"}))
	_ = cmd.MarkFlagDirname("repo")
	return cmd
}

// Complete fills in the defaults that depend on the environment.
func (o *VersionsOptions) Complete() (err error) {
	o.fleetOpts, err = o.completeRepo(&o.Repo)
	return err
}

// Validate checks the flag values.
func (o *VersionsOptions) Validate() error {
	if o.Revision == "" {
		return usageErrorf("--revision must name a commit, e.g. HEAD")
	}
	for _, e := range o.Environments {
		if e == "" {
			return usageErrorf("--environment must not be empty")
		}
	}
	return nil
}

// Run builds the matrix and prints it; the exit code says whether there
// is skew.
func (o *VersionsOptions) Run(ctx context.Context) error {
	m, err := versions.Build(ctx, versions.Options{
		RepoDir: o.Repo, Revision: o.Revision, Environments: o.Environments,
		Fleet: func(ctx context.Context, env *pipeline.Environment) (*fleet.Fleet, error) {
			return o.envFleet(ctx, o.fleetOpts, env)
		},
	})
	if err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	switch o.Output {
	case "json", "yaml":
		err = printStructured(o.Out, m, o.Output)
	case "markdown":
		err = versions.WriteMarkdown(o.Out, m)
	default:
		err = versions.WriteTable(o.Out, m, versions.RenderOptions{Palette: o.Palette()})
	}
	if err != nil {
		return err
	}
	switch {
	case m.Summary.Errors > 0:
		var failed []string
		for _, e := range m.Environments {
			if e.Error != "" {
				failed = append(failed, e.Name)
			}
		}
		if len(failed) == 0 {
			failed = []string{"the environment before the one shown (needed for the pipeline check)"}
		}
		return &ExitError{Code: CodeError, Err: fmt.Errorf("could not read the hub of %s: see the notes under the matrix", strings.Join(failed, ", "))}
	case m.Summary.Skewed > 0 || m.Summary.Unreachable > 0:
		return &ExitError{Code: CodeAttention}
	}
	return nil
}
