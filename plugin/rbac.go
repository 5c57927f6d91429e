package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/rbac"
)

// NewCmdRBAC builds `kubectl c5c3 rbac`, the parent of `rbac diff`.
func NewCmdRBAC(common *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rbac",
		Short: "The least-privilege RBAC of a CI identity",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdRBACDiff(common))
	return cmd
}

// RBACDiffOptions are the options of `kubectl c5c3 rbac diff`.
type RBACDiffOptions struct {
	*Options
	ServiceAccount string
	Cluster        string
	Decrypt        bool
	Repo           string
	Source         string
	Helm           bool

	sa types.NamespacedName
	// implicitRepo: --repo was not given; a working directory that is
	// not a checkout of the fleet falls back to the live fleet alone.
	implicitRepo bool
	fleetOpts    fleet.Options
	hub          *kube.Client
}

const rbacDiffLong = `Print, as YAML manifests to apply on the hub, the RBAC a CI identity (a
service account) needs to run "kubectl c5c3 diff" (the pull-request check, with or
without --base) on this fleet and this checkout, and nothing more:

  ClusterRole + ClusterRoleBinding  get, list, watch on the Flux objects and sources
                                    (Kustomizations, HelmReleases, GitRepositories,
                                    OCIRepositories, HelmRepositories, Buckets,
                                    HelmCharts, FluxInstances, FluxReports); the
                                    server-side dry-run of the cluster-scoped kinds
                                    applied to the hub
  Role + RoleBinding per namespace  get on exactly the Secrets and ConfigMaps the fleet
                                    and the checkout name: the spokes' kubeconfigs,
                                    postBuild substituteFrom, valuesFrom, the
                                    credentials of the HelmReleases' chart sources; get
                                    on services/proxy of the source-controller serving
                                    HelmChart artifacts; the dry-run of the namespaced
                                    kinds applied to the hub there; get, list on Helm's
                                    storage Secrets of HelmReleases installed on the
                                    hub; impersonate on their spec.serviceAccountName

The rules come from two places. The fleet as reconciled: the specs and status of
the hub's objects and the inventories of what Kustomizations and HelmReleases
(status.inventory) applied — get, list, patch on those kinds. And the working
tree of the checkout (--repo, default: the git top level of the working
directory), built as "kubectl c5c3 diff" builds it: every Kustomization whose
source is the checkout (--source), the nested ones its hub builds apply, and the
HelmReleases of the builds, rendered (charts from the checkout, the chart cache
or their repository; --helm=false leaves them out) — create, get, list, patch on
the kinds they hold, in their namespaces, since a change brings objects that do
not exist yet. So run it on the pull request's branch: the kinds and namespaces
the change brings are granted. A dry-run needs the write verbs: Kubernetes
authorises a dry-run like the write. Without --repo, a working directory that is
not a checkout of the fleet leaves the live fleet alone, with a warning; a
Kustomization that does not build or a HelmRelease that does not render is
named on stderr, and what only it would apply is not granted.

A namespace that does not exist yet gets no Role (one cannot be made there): run
this again once the change that brings it is reconciled.

With --decrypt, also get on exactly the decryption Secrets of the
Kustomizations (spec.decryption.secretRef), which "diff --decrypt" reads.

With --cluster NAME, print instead what the user of that spoke's kubeconfig
Secret needs on the spoke, bound to that user (asked of the spoke with a
SelfSubjectReview, as "kubectl auth whoami" does): a ClusterRole and
ClusterRoleBinding (reads of HelmReleases and sources, the dry-run of
cluster-scoped kinds, impersonation of spec.serviceAccountName) and a Role and
RoleBinding per namespace (the dry-run of the namespaced kinds applied there,
by the fleet and by the checkout's builds and charts for that spoke; get on the
valuesFrom of HelmReleases applied to it; get, list on the Secrets of Helm
storage namespaces only).

Exit codes: 0 printed, 2 error (hub unreachable, unknown cluster, bad flags, a
--repo that is not a checkout of the fleet).`

// NewCmdRBACDiff builds `kubectl c5c3 rbac diff`.
func NewCmdRBACDiff(common *Options) *cobra.Command {
	o := &RBACDiffOptions{Options: common}
	cmd := &cobra.Command{
		Use:   "diff --service-account NAMESPACE/NAME [--cluster NAME]",
		Short: "Print the RBAC a CI identity needs to run kubectl c5c3 diff",
		Long:  rbacDiffLong,
		Example: `  # What a CI service account needs on the hub to check this branch, applied at once
  kubectl c5c3 rbac diff --service-account ci/pr-check | kubectl apply -f -

  # The same for a pull request's checkout elsewhere
  kubectl c5c3 rbac diff --service-account ci/pr-check --repo ~/src/c5c3-gitops | kubectl apply -f -

  # With the keys of the SOPS-decrypting Kustomizations, for diff --decrypt
  kubectl c5c3 rbac diff --service-account ci/pr-check --decrypt | kubectl apply -f -

  # What the kubeconfig user of the control-plane spoke needs there, bound to it
  kubectl c5c3 rbac diff --service-account ci/pr-check --cluster control-plane \
    | kubectl --context control-plane apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runOptions(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.ServiceAccount, "service-account", "", "The CI identity, as NAMESPACE/NAME of a service account in the hub")
	cmd.Flags().BoolVar(&o.Decrypt, "decrypt", false, "Also grant get on the decryption Secrets (spec.decryption.secretRef) of the Kustomizations, which diff --decrypt reads")
	cmd.Flags().StringVar(&o.Cluster, "cluster", "", "Print what that spoke's kubeconfig user needs on the spoke instead")
	cmd.Flags().StringVar(&o.Repo, "repo", "", "The gitops checkout whose working tree the check diffs (default: the git top level of the working directory)")
	cmd.Flags().StringVar(&o.Source, "source", "", "The hub source the checkout stands for, as GitRepository/NAMESPACE/NAME (default: the one matching the origin remote)")
	cmd.Flags().BoolVar(&o.Helm, "helm", true, "Render the HelmReleases of the checkout's builds and grant the dry-run of what their charts hold (as diff --helm)")
	_ = cmd.RegisterFlagCompletionFunc("cluster", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		f := discoverForCompletion(cmd.Context(), common)
		if f == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return clusterNames(f, toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// Validate checks --service-account.
func (o *RBACDiffOptions) Validate() error {
	ns, name, ok := strings.Cut(o.ServiceAccount, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return usageErrorf("--service-account %q: want NAMESPACE/NAME", o.ServiceAccount)
	}
	o.sa = types.NamespacedName{Namespace: ns, Name: name}
	if o.Decrypt && o.Cluster != "" {
		return usageErrorf("--decrypt: diff reads the decryption Secrets on the hub, not on a spoke; use it without --cluster")
	}
	return nil
}

// Complete resolves the checkout and builds the hub client.
func (o *RBACDiffOptions) Complete() error {
	var err error
	if o.fleetOpts, err = o.fleetOptions(); err != nil {
		return err
	}
	o.implicitRepo = o.Repo == ""
	if o.implicitRepo {
		o.Repo, _ = gitrepo.TopLevel(".")
	} else if o.Repo, err = gitrepo.TopLevel(o.Repo); err != nil {
		return usageErrorf("--repo: %v", err)
	}
	if o.hub, err = o.HubClient(); err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	return nil
}

// Run discovers the fleet and prints the roles.
func (o *RBACDiffOptions) Run(ctx context.Context) error {
	f, err := discoverFleet(ctx, o.hub, o.fleetOpts)
	if err != nil {
		return err
	}
	var c *fleet.Cluster
	if o.Cluster != "" {
		if c = f.Cluster(o.Cluster); c == nil {
			return usageErrorf("--cluster %s: no such cluster in the fleet (%s)", o.Cluster, strings.Join(clusterNames(f, ""), ", "))
		}
	}
	opts := rbac.Options{Decrypt: o.Decrypt}
	if opts.Checkout, err = o.checkout(ctx, f); err != nil {
		return err
	}
	var objs []client.Object
	if c != nil {
		objs, err = rbac.Spoke(ctx, f, c, opts)
	} else {
		objs, err = rbac.Hub(ctx, f, o.sa, opts)
	}
	if err != nil {
		return &ExitError{Code: CodeError, Err: fmt.Errorf("rbac diff: %w", err)}
	}
	return rbac.WriteYAML(o.Out, objs)
}

// checkout builds the checkout's working tree (diff.CheckoutObjects) and
// warns on stderr of what did not build or render: its kinds are not in
// the output. Without --repo, a working directory that is not a checkout
// of the fleet leaves the live fleet alone, with a warning.
func (o *RBACDiffOptions) checkout(ctx context.Context, f *fleet.Fleet) (*diff.Checkout, error) {
	if o.Repo == "" {
		fmt.Fprintln(o.ErrOut, "Warning: the working directory is not a git checkout: the rules come from the live fleet only (pass --repo to add what the checkout's working tree applies)")
		return nil, nil
	}
	co, err := diff.CheckoutObjects(ctx, f, diff.Options{RepoDir: o.Repo, Source: o.Source, Decrypt: o.Decrypt, NoHelm: !o.Helm, ChartCacheDir: o.chartCacheDir})
	if err != nil {
		if o.implicitRepo && ctx.Err() == nil {
			fmt.Fprintf(o.ErrOut, "Warning: %v: the rules come from the live fleet only (pass --repo to add what a checkout's working tree applies)\n", err)
			return nil, nil
		}
		return nil, &ExitError{Code: CodeError, Err: fmt.Errorf("rbac diff: checkout %s: %w", o.Repo, err)}
	}
	for _, b := range co.Builds {
		if b.Err != nil {
			fmt.Fprintf(o.ErrOut, "Warning: Kustomization %s/%s does not build from the checkout, what it applies is not granted: %v\n", b.Kustomization.Namespace, b.Kustomization.Name, b.Err)
		}
	}
	for _, h := range co.HelmReleases {
		if h.Err != nil {
			fmt.Fprintf(o.ErrOut, "Warning: HelmRelease %s/%s of the checkout could not be rendered, only what its live status.inventory names is granted: %v\n", h.HelmRelease.Namespace, h.HelmRelease.Name, h.Err)
		}
	}
	return co, nil
}
