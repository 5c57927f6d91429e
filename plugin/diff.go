package plugin

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// DiffOptions are the options of `kubectl c5c3 diff`.
type DiffOptions struct {
	*Options
	Output           string
	Repo             string
	Source           string
	Concurrency      int
	StrictSubstitute bool
	VerifyUnchanged  bool
	Helm             bool
	Offline          bool
	Decrypt          bool
	Base             string
	NoLive           bool
	FailOnDanger     bool
	Targets          []string
	diffPublishFlags

	fleetOpts fleet.Options
	hub       *kube.Client
}

const diffLong = `Show what Flux would change on every cluster if the local gitops checkout were
pushed: each Flux Kustomization whose source is this checkout (the GitRepository whose
URL matches the checkout's origin remote, or --source) is built from the checkout
exactly as kustomize-controller builds it (patches, images, components,
targetNamespace, postBuild substitution with ConfigMaps/Secrets read from the hub,
commonMetadata, owner labels) and dry-run with server-side apply, field manager
kustomize-controller, on its target cluster — the hub, or the spoke reached through
the Kustomization's kubeConfig Secret. Kustomizations found in a build (such as the
spokes' Kustomizations in clusters/management) are diffed too, with their spec from
git. With spec.prune, objects in the live inventory that the build no longer has are
reported as deleted; for a HelmRelease, the objects of its live status.inventory
(else of its deployed release in Helm storage) that the new render no longer has.

The checkout is read as the artifact source-controller makes of it: what its
.sourceignore files (at any level), the GitRepository's spec.ignore (from its
definition in the checkout, else the hub's) and, when neither gives a pattern,
source-controller's default exclusions (VCS and CI files, .sops.yaml, .flux.yaml,
images, archives) leave out does not exist for the build. spec.path is resolved
inside the checkout whatever its form ("/apps", "../apps", ".//apps//").

Arguments narrow the run: a cluster name (management, control-plane, ...), a
NAMESPACE/KUSTOMIZATION, or a path in the checkout's artifact. The checkout is never
written to. Secret values are never shown: changed keys are marked
"*** (before)"/"*** (after)".

SOPS: what kustomize-controller decrypts for a Kustomization with spec.decryption
(resources with SOPS metadata, Secret data values holding a SOPS document, Secrets
generated from SOPS-encrypted secretGenerator files or envs, encrypted patch files)
is reported skipped, naming the form. With --decrypt it is decrypted in memory as the
controller does, with the age (*.agekey) and PGP (*.asc) keys of the decryption
Secret in the hub (reading it takes the right Flux has; without it the objects stay
skipped and say why); KMS and Vault keys are tried with your own credentials.
Decrypted data is never written, printed or logged: Secrets are masked as always,
other decrypted objects are reported without their diff. A corrupt SOPS document,
a missing or wrong key or an unknown provider is an error on the Kustomization.

ResourceSets (Flux Operator) in a hub build are expanded as the operator documents
it, with their ResourceSetInputProviders' exported inputs from the live hub; what
they generate is diffed on the hub ("via ResourceSet/ns/name"), generated
Kustomizations and HelmReleases are built and rendered onto their clusters, and
objects of the ResourceSet's inventory it no longer generates are deleted. A
template error, a missing input or a missing provider is an error on the ResourceSet.

When a Kustomization or HelmRelease could not be built, rendered or diffed, the plan
is incomplete: every format says so and names each with the reason (json:
"complete": false and "incomplete"), and the exit code is 2. HelmReleases that
change nothing get no line of their own in text output, only their summary row.

Danger flags are raised on every run: an immutable field the dry run refuses to
change, an object force recreates, prune of a PersistentVolumeClaim or Namespace,
a changed or deleted CustomResourceDefinition, a changed selector, a target
Kustomization or HelmRelease that is suspended or not Ready, a field another field
manager owns that the change overwrites, and an incomplete plan. With
--fail-on-danger any flag exits 1, also when nothing else changes. The images
summary lists per cluster the container image references the plan adds, changes
and removes, from the Kustomizations' objects and the rendered charts.

Output: text (default; a unified diff per changed object and a summary table),
json (schema c5c3.cobaltcore.io/v1alpha1 FleetDiff, see docs/schemas.md) or markdown
(a PR-comment-ready report, capped at 60,000 characters) or html (one self-contained
page for a CI artifact: summary, danger flags, images and a collapsible section per
cluster, Kustomization and HelmRelease with coloured diffs; nothing is fetched).

Publish (--publish github|gitlab, in CI): after the report is written, the markdown
report is posted as ONE comment on the pull (merge) request, found again by a hidden
marker and edited in place on every later run, and the commit status c5c3/diff is
set on the head commit: success for no changes or changes, failure when the plan is
incomplete or, with --fail-on-danger, raises a danger flag. The context comes from the CI environment: GitHub GITHUB_TOKEN,
GITHUB_REPOSITORY, GITHUB_API_URL, the pull request and head commit from the event
in GITHUB_EVENT_PATH (else --pr and GITHUB_SHA); GitLab GITLAB_TOKEN (else
CI_JOB_TOKEN), CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID (or --pr),
CI_COMMIT_SHA. A comment over 60,000 characters is cut between objects and says how
many were left out and where the full report is (--report-url, default the CI run's
page). Tokens are never printed. A failed call is exit 2 naming it and its HTTP
status; nothing is retried.

Exit codes (like kubectl diff):
  0  no changes
  1  changes, or with --fail-on-danger a danger flag
  2  error: on some object, Kustomization or cluster (everything else is still
     reported), or bad arguments, no checkout, hub unreachable
  130  interrupted (Ctrl-C, SIGTERM): every request ends at once`

// NewCmdDiff builds `kubectl c5c3 diff`.
func NewCmdDiff(common *Options) *cobra.Command {
	o := &DiffOptions{Options: common}
	cmd := &cobra.Command{
		Use:   "diff [CLUSTER|NAMESPACE/KUSTOMIZATION|PATH ...]",
		Short: "Server-side dry-run diff of the local gitops checkout against every cluster",
		Long:  diffLong,
		Example: `  # The whole fleet, from the checkout you are in
  kubectl c5c3 diff

  # One spoke, or one Kustomization, or what a path feeds
  kubectl c5c3 diff control-plane
  kubectl c5c3 diff flux-system/control-plane-apps
  kubectl c5c3 diff apps/keystone

  # A PR comment, and the full report as a CI artifact
  kubectl c5c3 diff --repo ~/src/c5c3-gitops -o markdown > diff.md
  kubectl c5c3 diff --fail-on-danger -o html > diff.html

  # In a GitHub Actions pull_request job: the report as the PR's sticky comment,
  # plus the commit status c5c3/diff
  kubectl c5c3 diff --publish github

  # A pull request: only what it changes against its base
  kubectl c5c3 diff --base origin/main

  # A fork or CI runner without hub access: base and head compared offline
  kubectl c5c3 diff --base origin/main --no-live

  # Decrypt SOPS Secrets with the keys of spec.decryption, for a real (masked) diff
  kubectl c5c3 diff --decrypt`,
		ValidArgsFunction: func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			// Cluster and Kustomization names from the hub; paths from the shell.
			f := discoverForCompletion(cmd.Context(), common)
			if f == nil {
				return nil, cobra.ShellCompDirectiveDefault
			}
			return append(clusterNames(f, toComplete), kustomizationNames(f, toComplete)...), cobra.ShellCompDirectiveDefault
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Targets = args
			return runOptions(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, &o.Output, "text", "json", "markdown", "html")
	cmd.Flags().StringVar(&o.Repo, "repo", "", "The gitops checkout (default: the git top level of the working directory)")
	cmd.Flags().StringVar(&o.Source, "source", "", "The hub source the checkout stands for, as GitRepository/NAMESPACE/NAME (default: the one matching the origin remote)")
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", diff.DefaultConcurrency, "Dry-runs in flight per cluster")
	cmd.Flags().BoolVar(&o.VerifyUnchanged, "verify-unchanged", false, "Dry-run every object on the server, also those a local check of the live object's managed fields finds unchanged")
	cmd.Flags().BoolVar(&o.Helm, "helm", true, "Render the HelmReleases of the builds and diff what helm-controller would apply on their target clusters")
	cmd.Flags().BoolVar(&o.Decrypt, "decrypt", false, "Decrypt SOPS data in memory like kustomize-controller, with the keys of each Kustomization's spec.decryption Secret in the hub")
	cmd.Flags().BoolVar(&o.Offline, "offline", false, "Take charts only from the chart cache (~/.cache/kubectl-c5c3/charts) and the checkout; download nothing")
	o.diffPublishFlags.add(cmd)
	cmd.Flags().StringVar(&o.Base, "base", "", "Diff only what differs from this revision of the checkout (branch, tag or commit, e.g. the merge-base with origin/main): Kustomizations whose build or spec, and HelmReleases whose spec, values or chart, changed; the rest is listed as unchanged by this change")
	cmd.Flags().BoolVar(&o.NoLive, "no-live", false, "With --base: contact no cluster (no kubeconfig needed); render the base and the checkout and compare them with each other, per target cluster")
	cmd.Flags().BoolVar(&o.FailOnDanger, "fail-on-danger", false, "Exit 1 when the plan raises a danger flag, also when nothing else changes")
	cmd.Flags().BoolVar(&o.StrictSubstitute, "strict-substitute", false, "Fail on postBuild variables without a value, like kustomize-controller --feature-gates=StrictPostBuildSubstitutions")
	return cmd
}

// Complete resolves the checkout and builds the hub client.
func (o *DiffOptions) Complete() error {
	var err error
	if o.fleetOpts, err = o.fleetOptions(); err != nil {
		return err
	}
	dir := o.Repo
	if dir == "" {
		dir = "."
	}
	if o.Repo, err = gitrepo.TopLevel(dir); err != nil {
		return usageErrorf("%v", err)
	}
	if o.Base != "" {
		// A bad base is named before anything is contacted.
		if _, err := gitrepo.ResolveRevision(o.Repo, o.Base); err != nil {
			return usageErrorf("--base: %v", err)
		}
	}
	if err := o.diffPublishFlags.complete(o.env); err != nil {
		return err
	}
	if o.NoLive {
		return nil // no cluster is contacted: no kubeconfig is read
	}
	if o.hub, err = o.HubClient(); err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	return nil
}

// Validate checks the flag values.
func (o *DiffOptions) Validate() error {
	if o.Concurrency < 1 {
		return usageErrorf("--concurrency must be at least 1")
	}
	if o.NoLive && o.Base == "" {
		return usageErrorf("--no-live compares the checkout with a base revision: pass --base REF too (e.g. --base origin/main)")
	}
	if o.NoLive && o.Decrypt {
		return usageErrorf("--decrypt reads the keys from the hub: it cannot be used with --no-live")
	}
	return nil
}

// Run diffs and prints; the exit code says whether anything changes.
func (o *DiffOptions) Run(ctx context.Context) error {
	bar := newProgressBar(o.ErrOut)
	opts := diff.Options{
		RepoDir: o.Repo, Targets: o.Targets, Source: o.Source,
		Concurrency: o.Concurrency, StrictSubstitute: o.StrictSubstitute, VerifyUnchanged: o.VerifyUnchanged,
		NoHelm: !o.Helm, Offline: o.Offline, Decrypt: o.Decrypt, Base: o.Base, NoLive: o.NoLive,
		ChartCacheDir: o.chartCacheDir, Progress: bar.update, ChartProgress: bar.charts,
	}
	var r *diff.Result
	var err error
	if o.NoLive {
		r, err = diff.RunOffline(ctx, fleet.Offline(o.HubName), opts)
	} else {
		var f *fleet.Fleet
		if f, err = discoverFleet(ctx, o.hub, o.fleetOpts); err != nil {
			return err
		}
		r, err = diff.Run(ctx, f, opts)
	}
	bar.done()
	if err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	if err := o.print(r); err != nil {
		return err
	}
	if err := o.publish(ctx, r, o.FailOnDanger, func(format string, a ...any) { fmt.Fprintf(o.ErrOut, format+"\n", a...) }); err != nil {
		return err
	}
	switch {
	case r.HasErrors():
		return &ExitError{Code: CodeError, Err: fmt.Errorf("some objects or clusters could not be diffed (see above); everything else is reported")}
	case o.FailOnDanger && len(r.Dangers) > 0:
		return &ExitError{Code: CodeAttention, Err: fmt.Errorf("danger flags raised: %d (--fail-on-danger; see above)", len(r.Dangers))}
	case r.HasChanges():
		return &ExitError{Code: CodeAttention}
	}
	return nil
}

func (o *DiffOptions) print(r *diff.Result) error {
	switch o.Output {
	case "json":
		return printStructured(o.Out, r, o.Output)
	case "markdown":
		return diff.WriteMarkdown(o.Out, r, diff.MarkdownLimit)
	case "html":
		return diff.WriteHTML(o.Out, r)
	}
	return diff.WriteText(o.Out, r, o.Palette())
}

// progressBar draws "diff: cluster done/total ... · charts done/total" on
// stderr, only on a TTY.
type progressBar struct {
	out   interface{ Write([]byte) (int, error) }
	on    bool
	mu    sync.Mutex
	state map[string][2]int
	// chartState is HelmReleases rendered / found.
	chartState [2]int
	last       time.Time
}

func newProgressBar(w interface{ Write([]byte) (int, error) }) *progressBar {
	on := printers.IsTerminal(w) && os.Getenv("TERM") != "dumb"
	return &progressBar{out: w, on: on, state: map[string][2]int{}}
}

func (p *progressBar) update(cluster string, done, total int) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state[cluster] = [2]int{done, total}
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.draw()
}

// charts records the HelmReleases rendered and found; a change is drawn
// at once (there are few of them, unlike objects).
func (p *progressBar) charts(done, total int) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.chartState = [2]int{done, total}
	p.draw()
}

func (p *progressBar) draw() {
	p.last = time.Now()
	names := make([]string, 0, len(p.state))
	for n := range p.state {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		s := p.state[n]
		parts = append(parts, fmt.Sprintf("%s %d/%d", n, s[0], s[1]))
	}
	if c := p.chartState; c[1] > 0 {
		parts = append(parts, fmt.Sprintf("charts %d/%d", c[0], c[1]))
	}
	fmt.Fprintf(p.out, "\r\x1b[Kdiff: %s", strings.Join(parts, " · "))
}

func (p *progressBar) done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprint(p.out, "\r\x1b[K")
	}
}
