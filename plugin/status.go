package plugin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/status"
)

// StatusOptions are the options of `kubectl c5c3 status`.
type StatusOptions struct {
	*Options
	Output      string
	Cluster     string
	FailingOnly bool
	CheckAccess bool
	Watch       bool

	fleetOpts fleet.Options
	hub       *kube.Client
}

const statusLong = `Show the health of the fleet as a tree: the hub with its Flux installation (read
from the Flux Operator's FluxReport: version, sync source and revision, controllers),
then every target cluster — the hub itself and each spoke reached through its
kubeconfig Secret — with its Flux Kustomizations and HelmReleases: Ready or not (with
reason and message), suspended, the applied revision, "stale" when that lags the
source's artifact, the dependencies it waits for, and the size of its inventory.

Helm storage: for every HelmRelease with a status.history, the metadata of Helm's
storage Secrets on its target cluster (one list per storage namespace, never their
data) is compared with status.history[0]; a release missing there, another highest
revision (a helm upgrade, rollback or uninstall by hand) or another status is
flagged under the HelmRelease. When the Secrets may not be listed the release is not
compared and the reason is shown.

Access checks, per cluster: the client certificate's and the CA's expiry in each
kubeconfig Secret and the exp claim of a bearer token that is a JWT (warning under
30 days, failing under 7 days or when expired; nothing of the credential is
printed), the spoke's Kubernetes minor version against the hub's, and the Flux API
versions the hub serves against the ones the plugin reads. --check-access also asks
each target cluster, impersonating the spec.serviceAccountName of every
Kustomization and HelmRelease that has one, whether that service account may patch
every kind of the object's inventory (SelfSubjectAccessReview).

--watch keeps the view up to date: it redraws when a Kustomization, HelmRelease,
Flux source or the FluxReport changes on the hub (watches that reconnect when they
drop) and every 30s, which probes the spokes again. On a terminal the screen is
redrawn; otherwise each change prints a new block after a "# <time>" line (-o json
prints one document per change, -o yaml separates them with "---"). Ctrl-C ends it
with exit code 130.

Flux objects are read from all namespaces of the hub unless -n is given. Spokes are
contacted concurrently; one that is down or whose Secret is broken shows its error
and the others still render. Secret contents are never printed.

Output formats: tree (default), table (one row per object, plus the FluxReport's
reconciler stats), json and yaml (a stable schema: apiVersion
c5c3.cobaltcore.io/v1alpha1, kind FleetStatus; see docs/schemas.md).

Exit codes:
  0  everything is Ready
  1  something is failing, unreachable, or suspended and stale, the hub's
     Flux (FluxReport, cluster sync, a controller) is not Ready, a release in
     Helm's storage differs from what helm-controller reports, or an access
     check fails: a certificate or token expires within 7 days or has
     expired, a Flux API is not served as the plugin reads it, a service
     account may not patch its inventory
  2  error: the hub is unreachable, the Flux CRDs are missing, bad flags
  130  interrupted (Ctrl-C, SIGTERM): every request ends at once`

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
  kubectl c5c3 status --cluster control-plane -o json

  # Also check that every service account may patch what it applies
  kubectl c5c3 status --check-access --failing

  # Keep watching; Ctrl-C to stop
  kubectl c5c3 status -w`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runOptions(cmd.Context(), o)
		},
	}
	addOutputFlag(cmd, &o.Output, "tree", "table", "json", "yaml")
	cmd.Flags().StringVar(&o.Cluster, "cluster", "", "Only show this cluster (the hub name or a spoke name such as control-plane)")
	_ = cmd.RegisterFlagCompletionFunc("cluster", completeClusterNames(common))
	cmd.Flags().BoolVar(&o.FailingOnly, "failing", false, "Only show what is not Ready, stale, suspended or differs from Helm's storage, with its cluster")
	cmd.Flags().BoolVar(&o.CheckAccess, "check-access", false, "Also check, impersonating each spec.serviceAccountName, that it may patch the kinds of its inventory")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "Keep watching the hub and redraw on every change (Ctrl-C to stop)")
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
// fleet is healthy. With --watch it keeps redrawing until ctx is done.
func (o *StatusOptions) Run(ctx context.Context) error {
	if o.Watch {
		return o.watch(ctx)
	}
	r, err := o.build(ctx)
	if err != nil {
		return err
	}
	if err := o.print(o.Out, r); err != nil {
		return err
	}
	if !r.Summary.Healthy {
		return &ExitError{Code: CodeAttention}
	}
	return nil
}

func (o *StatusOptions) build(ctx context.Context) (*status.Report, error) {
	f, err := discoverFleet(ctx, o.hub, o.fleetOpts)
	if err != nil {
		return nil, err
	}
	r, err := status.Build(ctx, f, status.Options{FluxNamespace: o.FluxNamespace, Cluster: o.Cluster,
		FailingOnly: o.FailingOnly, CheckAccess: o.CheckAccess, Now: o.now()})
	if err != nil {
		return nil, &ExitError{Code: CodeError, Err: err}
	}
	return r, nil
}

// defaultWatchProbeInterval is how often --watch redraws without a change
// on the hub, which contacts every spoke again (reachability, credentials).
const defaultWatchProbeInterval = 30 * time.Second

func (o *Options) probeInterval() time.Duration {
	if o.watchProbeInterval > 0 {
		return o.watchProbeInterval
	}
	return defaultWatchProbeInterval
}

// watchSettle is how long --watch waits after a change for more, so that
// a burst (a source moving on, then its Kustomizations) redraws once.
const watchSettle = 200 * time.Millisecond

// watch draws the status, then redraws when the hub's Flux objects,
// sources or FluxReport change and every probe interval (30s). Only a
// changed view is printed again. A failing first draw is an error (exit
// 2); later failures (the hub gone for a while) are shown in the view.
// Cancelling ctx (Ctrl-C) ends it (exit code 130, set by execute).
func (o *StatusOptions) watch(ctx context.Context) error {
	// client-go's reflector logs dropped watches through klog on stderr;
	// it reconnects by itself.
	klog.SetLogger(logr.Discard())
	tty := printers.IsTerminal(o.Out)
	var last []byte
	draw := func() error {
		var buf bytes.Buffer
		r, err := o.build(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if last == nil {
				return err
			}
			fmt.Fprintf(&buf, "error: %v\n", err)
		} else if err := o.print(&buf, r); err != nil {
			return err
		}
		if bytes.Equal(buf.Bytes(), last) {
			return nil
		}
		last = buf.Bytes()
		var out bytes.Buffer
		stamp := o.now().UTC().Format(time.RFC3339)
		switch {
		case tty:
			// Home the cursor and clear the screen, like watch(1).
			fmt.Fprintf(&out, "\x1b[H\x1b[2J%s · every change and %s · Ctrl-C to stop\n\n", stamp, o.probeInterval())
		case o.Output == "json":
		case o.Output == "yaml":
			out.WriteString("---\n")
		default:
			fmt.Fprintf(&out, "# %s\n", stamp)
		}
		out.Write(last)
		if !tty && (o.Output == "tree" || o.Output == "table") {
			out.WriteString("\n")
		}
		_, err = o.Out.Write(out.Bytes())
		return err
	}
	if err := draw(); err != nil {
		return err
	}
	ns, _ := o.Namespace()
	changes, err := status.Changes(ctx, o.hub, ns, o.FluxNamespace)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return &ExitError{Code: CodeError, Err: err}
	}
	tick := time.NewTicker(o.probeInterval())
	defer tick.Stop()
	for {
		// Changes between the first draw and the watches being in place.
		if err := draw(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-changes:
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(watchSettle):
			}
		}
	}
}

func (o *StatusOptions) print(w io.Writer, r *status.Report) error {
	ro := status.RenderOptions{Palette: o.Palette(), Now: o.now()}
	switch o.Output {
	case "json", "yaml":
		return printStructured(w, r, o.Output)
	case "table":
		return status.WriteTable(w, r, ro)
	}
	return status.WriteTree(w, r, ro)
}

func (o *Options) now() time.Time {
	if o.Clock != nil {
		return o.Clock()
	}
	return time.Now()
}
