package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/status"
	"github.com/c5c3/kubectl-c5c3/trace"
)

// TraceOptions are the options of `kubectl c5c3 trace`.
type TraceOptions struct {
	*Options
	Output       string
	Cluster      string
	HubNamespace string
	Diff         bool
	Repo         string
	Args         []string

	typ, name, namespace string
	fleetOpts            fleet.Options
	hub                  *kube.Client
}

const traceLong = `Trace an object on any fleet cluster back to what put it there: the hub Flux
Kustomization or HelmRelease that applies it (found through the object's Flux owner
labels kustomize.toolkit.fluxcd.io/name|namespace or helm.toolkit.fluxcd.io/name|namespace,
and one whose spec.kubeConfig reaches that cluster — none for the hub), its source
(GitRepository, OCIRepository, HelmChart from a HelmRepository) and revision, then
the Kustomization that applied that one, up to the root: the cluster sync named in the
Flux Operator's FluxReport.

Each step shows Ready with reason and message, suspended, the applied revision
against the source's artifact revision ("stale" when it lags), and whether the step
below it is in its inventory. An object without owner labels is looked up in the
inventories of the Kustomizations and HelmReleases deploying to its cluster (for a
HelmRelease without status.inventory, written since helm-controller v1.5, in its
deployed release in Helm storage); the inventories are also how the chain is found
when the cluster cannot be reached. An object no Flux applier manages says so. With
--diff the object is compared with git by the diff engine (the build of its
Kustomization from the local checkout, see "kubectl c5c3 diff"). The traced
object's contents are never read or printed: only its metadata is fetched.

KIND is a resource type as kubectl takes it: deploy, deployment, deployments.apps,
Deployment. -n is the object's namespace (default: the context's); Flux objects
are read from all hub namespaces unless --hub-namespace is given.

Output formats: tree (default), json and yaml (a stable schema: apiVersion
c5c3.cobaltcore.io/v1alpha1, kind ObjectTrace; see docs/schemas.md).

Exit codes:
  0  a Flux applier manages the object and the chain is healthy
  1  something on the chain is not Ready, stale, not in its inventory, or the
     object drifted from git (--diff), or no Flux applier manages it
  2  error: the object cannot be read (missing, cluster unreachable, broken
     kubeconfig Secret; the chain is still shown when the hub knows it), an
     unknown kind or cluster, the diff failed, bad arguments
  130  interrupted (Ctrl-C, SIGTERM): every request ends at once`

// NewCmdTrace builds `kubectl c5c3 trace`.
func NewCmdTrace(common *Options) *cobra.Command {
	o := &TraceOptions{Options: common}
	cmd := &cobra.Command{
		Use:   "trace KIND/NAME | KIND NAME",
		Short: "Trace an object back to its Flux Kustomization or HelmRelease, source and root sync",
		Long:  traceLong,
		Example: `  # Which hub Kustomization put this Deployment on the control-plane spoke?
  kubectl c5c3 trace deploy/keystone-api -n openstack --cluster control-plane

  # The same, and has it drifted from the gitops checkout you are in?
  kubectl c5c3 trace deployment keystone-api -n openstack --cluster control-plane --diff

  # A hub object, machine-readable
  kubectl c5c3 trace configmaps/cluster-vars -n flux-system -o json`,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return o.complete(cmd.Context(), args, toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			return runOptions(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, &o.Output, "tree", "json", "yaml")
	cmd.Flags().StringVar(&o.Cluster, "cluster", "", "The fleet cluster the object is on (default: the hub; spoke names as status shows them)")
	_ = cmd.RegisterFlagCompletionFunc("cluster", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		f := discoverForCompletionIn(cmd.Context(), common, o.HubNamespace)
		if f == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return clusterNames(f, toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	cmd.Flags().StringVar(&o.HubNamespace, "hub-namespace", "", "Read Flux objects and kubeconfig Secrets only from this hub namespace (default: all namespaces)")
	cmd.Flags().BoolVar(&o.Diff, "diff", false, "Also diff the object against git: the build of its Kustomization from the local checkout (see kubectl c5c3 diff)")
	cmd.Flags().StringVar(&o.Repo, "repo", "", "With --diff: the gitops checkout (default: the git top level of the working directory)")
	return cmd
}

// Complete parses the arguments, resolves the namespace and, with --diff,
// the checkout, and builds the hub client.
func (o *TraceOptions) Complete() error {
	switch len(o.Args) {
	case 1:
		typ, name, ok := strings.Cut(o.Args[0], "/")
		if !ok {
			return usageErrorf("%q is not KIND/NAME: give the object as KIND/NAME or KIND NAME, e.g. deploy/keystone-api", o.Args[0])
		}
		o.typ, o.name = typ, name
	case 2:
		if strings.Contains(o.Args[0], "/") {
			return usageErrorf("give the object as KIND/NAME or KIND NAME, not %q", strings.Join(o.Args, " "))
		}
		o.typ, o.name = o.Args[0], o.Args[1]
	default:
		return usageErrorf("trace takes one object, as KIND/NAME or KIND NAME (got %d arguments)", len(o.Args))
	}
	timeout, err := o.RequestTimeout()
	if err != nil {
		return err
	}
	o.fleetOpts = fleet.Options{Namespace: o.HubNamespace, HubName: o.HubName,
		Spoke: o.spokeOptions(timeout), FluxNamespace: o.FluxNamespace}
	if o.namespace, _, err = o.ConfigFlags.ToRawKubeConfigLoader().Namespace(); err != nil {
		return &ExitError{Code: CodeError, Err: fmt.Errorf("the default namespace: %w", err)}
	}
	if o.Diff {
		dir := o.Repo
		if dir == "" {
			dir = "."
		}
		if o.Repo, err = gitrepo.TopLevel(dir); err != nil {
			return usageErrorf("--diff needs the gitops checkout: %v", err)
		}
	}
	if o.hub, err = o.HubClient(); err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	return nil
}

// Validate checks the arguments and flags.
func (o *TraceOptions) Validate() error {
	if o.typ == "" || o.name == "" {
		return usageErrorf("give the object as KIND/NAME or KIND NAME: the kind or name is empty in %q", strings.Join(o.Args, " "))
	}
	if o.Repo != "" && !o.Diff {
		return usageErrorf("--repo is only used with --diff")
	}
	if o.FluxNamespace == "" {
		return usageErrorf("--flux-namespace must not be empty")
	}
	return nil
}

// Run traces the object and prints the chain; the exit code says whether
// it is healthy.
func (o *TraceOptions) Run(ctx context.Context) error {
	f, err := discoverFleet(ctx, o.hub, o.fleetOpts)
	if err != nil {
		return err
	}
	opts := trace.Options{Type: o.typ, Name: o.name, Namespace: o.namespace, Cluster: o.Cluster, FluxNamespace: o.FluxNamespace}
	if o.Diff {
		opts.Diff = &diff.Options{RepoDir: o.Repo, ChartCacheDir: o.chartCacheDir}
	}
	t, err := trace.Run(ctx, f, opts)
	if err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	// An object that could not be read is only printed when the hub still
	// knows its chain.
	if t.Object.Found || len(t.Chain) > 0 {
		if err := o.print(t); err != nil {
			return err
		}
	}
	switch {
	case t.Summary.Error != "":
		return &ExitError{Code: CodeError, Err: errors.New(t.Summary.Error)}
	case !t.Summary.Healthy:
		return &ExitError{Code: CodeAttention}
	}
	return nil
}

func (o *TraceOptions) print(t *trace.Trace) error {
	if o.Output == "json" || o.Output == "yaml" {
		return printStructured(o.Out, t, o.Output)
	}
	return trace.WriteTree(o.Out, t, status.RenderOptions{Palette: o.Palette(), Now: o.now()})
}

// complete completes the resource type (from the cluster's discovery),
// then names of that type (KIND/NAME or KIND NAME), read from --cluster
// in -n with a short timeout; nothing, silently, when it cannot be reached.
func (o *TraceOptions) complete(ctx context.Context, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	typ, prefix, slash := strings.Cut(toComplete, "/")
	switch {
	case len(args) == 0: // KIND, or NAME after KIND/
	case len(args) == 1 && !strings.Contains(args[0], "/") && !slash: // NAME after KIND
		typ, prefix = args[0], toComplete
	default:
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	f := discoverForCompletionIn(ctx, o.Options, o.HubNamespace)
	if f == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c := f.Clusters[0]
	if o.Cluster != "" {
		if c = f.Cluster(o.Cluster); c == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	cl, err := f.Client(ctx, c, "")
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if len(args) == 0 && !slash {
		types, err := cl.ResourceTypes(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, t := range types {
			if strings.HasPrefix(t, toComplete) {
				out = append(out, t)
			}
		}
		// A type alone is not done: KIND/ or KIND NAME follows.
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
	m, err := cl.ResourceMapping(ctx, typ)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(m.GroupVersionKind.GroupVersion().WithKind(m.GroupVersionKind.Kind + "List"))
	var listOpts []client.ListOption
	if ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace(); err == nil && m.Scope.Name() == apimeta.RESTScopeNameNamespace {
		listOpts = append(listOpts, client.InNamespace(ns))
	}
	if err := cl.Client.List(ctx, list, listOpts...); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, item := range list.Items {
		if !strings.HasPrefix(item.Name, prefix) {
			continue
		}
		if slash {
			out = append(out, typ+"/"+item.Name)
		} else {
			out = append(out, item.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
