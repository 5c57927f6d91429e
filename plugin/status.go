package plugin

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/status"
)

// StatusOptions are the options of `kubectl c5c3 status`.
type StatusOptions struct {
	*Options
	Output      string
	Cluster     string
	FailingOnly bool

	fleetOpts fleet.Options
	hub       *kube.Client
}

const statusLong = `Show the health of the fleet as a tree: the hub with its Flux installation (read
from the Flux Operator's FluxReport: version, sync source and revision, controllers),
then every target cluster — the hub itself and each spoke reached through its
kubeconfig Secret — with its Flux Kustomizations and HelmReleases: Ready or not (with
reason and message), suspended, the applied revision, "stale" when that lags the
source's artifact, the dependencies it waits for, and the size of its inventory.

Flux objects are read from all namespaces of the hub unless -n is given. Spokes are
contacted concurrently; one that is down or whose Secret is broken shows its error
and the others still render. Secret contents are never printed.

Output formats: tree (default), table (one row per object, plus the FluxReport's
reconciler stats), json and yaml (a stable schema: apiVersion
c5c3.cobaltcore.io/v1alpha1, kind FleetStatus; see the README).

Exit codes:
  0  everything is Ready
  1  something is failing, unreachable, or suspended and stale, or the
     hub's Flux (FluxReport, cluster sync, a controller) is not Ready
  2  error: the hub is unreachable, the Flux CRDs are missing, bad flags`

// NewCmdStatus builds `kubectl c5c3 status`.
func NewCmdStatus(common *Options) *cobra.Command {
	o := &StatusOptions{Options: common}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show Flux health and every Kustomization/HelmRelease per cluster",
		Long:  statusLong,
		Example: `  # The whole fleet as a tree
  kubectl c5c3 status

  # Only what needs attention, as a table
  kubectl c5c3 status --failing -o table

  # One spoke, machine-readable
  kubectl c5c3 status --cluster control-plane -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	addOutputFlag(cmd, &o.Output, "tree", "table", "json", "yaml")
	cmd.Flags().StringVar(&o.Cluster, "cluster", "", "Only show this cluster (the hub name or a spoke name such as control-plane)")
	_ = cmd.RegisterFlagCompletionFunc("cluster", completeClusterNames(common))
	cmd.Flags().BoolVar(&o.FailingOnly, "failing", false, "Only show what is not Ready, stale or suspended, with its cluster")
	return cmd
}

// Complete builds the hub client and the discovery options from the flags.
func (o *StatusOptions) Complete() error {
	var err error
	if o.fleetOpts, err = o.fleetOptions(); err != nil {
		return err
	}
	o.hub, err = o.HubClient()
	if err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	return nil
}

// Validate checks the flag values.
func (o *StatusOptions) Validate() error {
	if o.FluxNamespace == "" {
		return usageErrorf("--flux-namespace must not be empty")
	}
	return nil
}

// Run gathers the status and prints it; the exit code says whether the
// fleet is healthy.
func (o *StatusOptions) Run(ctx context.Context) error {
	f, err := discoverFleet(ctx, o.hub, o.fleetOpts)
	if err != nil {
		return err
	}
	r, err := status.Build(ctx, f, status.Options{FluxNamespace: o.FluxNamespace, Cluster: o.Cluster, FailingOnly: o.FailingOnly})
	if err != nil {
		return &ExitError{Code: CodeError, Err: err}
	}
	if err := o.print(r); err != nil {
		return err
	}
	if !r.Summary.Healthy {
		return &ExitError{Code: CodeAttention}
	}
	return nil
}

func (o *StatusOptions) print(r *status.Report) error {
	ro := status.RenderOptions{Palette: o.Palette(), Now: o.now()}
	switch o.Output {
	case "json", "yaml":
		return printStructured(o.Out, r, o.Output)
	case "table":
		return status.WriteTable(o.Out, r, ro)
	}
	return status.WriteTree(o.Out, r, ro)
}

func (o *Options) now() time.Time {
	if o.Clock != nil {
		return o.Clock()
	}
	return time.Now()
}
