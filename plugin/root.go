package plugin

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// DisplayName is how the plugin is invoked through kubectl; help text uses
// it unless Options.DisplayName says otherwise (DisplayNameFor).
const DisplayName = "kubectl c5c3"

// Options are the flags and streams shared by every command. Each Execute
// call builds a fresh set: there are no flag globals.
type Options struct {
	genericiooptions.IOStreams

	// ConfigFlags are kubectl's own flags (--kubeconfig, --context, -n, ...).
	ConfigFlags *genericclioptions.ConfigFlags
	// FluxNamespace is where Flux and its FluxReport live.
	FluxNamespace string
	// HubName is the cluster name shown for the hub.
	HubName string
	// Color is the --color mode.
	Color printers.ColorMode
	// AllowExecKubeconfig lets spoke kubeconfigs run exec plugins or read files.
	AllowExecKubeconfig bool
	// DisplayName is how the user invoked the plugin, for the help text:
	// DisplayName, or "flux c5c3" when the flux CLI runs it (DisplayNameFor).
	DisplayName string
	// Clock, when set, replaces time.Now for ages (tests).
	Clock func() time.Time

	hub *kube.Client
	// interrupt is the command's context (ended by Ctrl-C): every client
	// ends its requests with it (kube.Interruptible).
	interrupt context.Context
	// watchProbeInterval, when set, replaces defaultWatchProbeInterval
	// (tests; no flag).
	watchProbeInterval time.Duration
	// chartCacheDir, when set, replaces the chart cache
	// (helmrender.DefaultCacheDir) of diff and trace --diff (tests; no
	// flag): a test keeps its own without changing the process's
	// environment, so it can run in parallel.
	chartCacheDir string
	// getenv, when set, replaces os.Getenv for the CI and forge variables
	// of --publish and --open-pr (tests; no flag): a test gives its
	// commands tokens without changing the process's environment, so it
	// can run in parallel.
	getenv func(string) string
}

// env is the environment variable key, as the command sees it.
func (o *Options) env(key string) string {
	if o.getenv != nil {
		return o.getenv(key)
	}
	return os.Getenv(key)
}

// NewOptions returns Options with the defaults of every shared flag.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	cf := genericclioptions.NewConfigFlags(true)
	// kubectl's --cluster picks a kubeconfig cluster entry; here --cluster
	// names a fleet cluster (hub or spoke), so the kubectl flag is removed.
	// Use --context to pick the hub.
	cf.ClusterName = nil
	return &Options{
		IOStreams:     streams,
		ConfigFlags:   cf,
		DisplayName:   DisplayName,
		FluxNamespace: "flux-system",
		HubName:       "management",
		Color:         printers.ColorAuto,
	}
}

// Namespace returns the namespace given with -n, and whether it was given.
func (o *Options) Namespace() (string, bool) {
	if o.ConfigFlags.Namespace == nil || *o.ConfigFlags.Namespace == "" {
		return "", false
	}
	return *o.ConfigFlags.Namespace, true
}

// RequestTimeout is --request-timeout as a duration (0 = none).
func (o *Options) RequestTimeout() (time.Duration, error) {
	if o.ConfigFlags.Timeout == nil || *o.ConfigFlags.Timeout == "" || *o.ConfigFlags.Timeout == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(*o.ConfigFlags.Timeout)
	if err != nil {
		return 0, usageErrorf("invalid --request-timeout %q: use a duration such as 30s or 1m", *o.ConfigFlags.Timeout)
	}
	return d, nil
}

// HubClient builds (once) the client for the hub from kubectl's flags.
func (o *Options) HubClient() (*kube.Client, error) {
	if o.hub != nil {
		return o.hub, nil
	}
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the hub's kubeconfig: %w", err)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "kubectl-c5c3/" + rest.DefaultKubernetesUserAgent()
	}
	cfg.Wrap(kube.Interruptible(o.interrupt))
	c, err := kube.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	o.hub = c
	return c, nil
}

// Palette returns the colour palette for the data stream.
func (o *Options) Palette() printers.Palette {
	return printers.Palette{On: o.Color.Enabled(o.Out)}
}

// NewRootCmd builds the `kubectl c5c3` command tree, its help naming
// o.DisplayName.
func NewRootCmd(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "c5c3",
		Short: "Operate a CobaltCore fleet run with FluxCD",
		Long: `kubectl c5c3 shows and changes a CobaltCore fleet: a management cluster (the hub)
running Flux, and the remote spoke clusters its Flux Kustomizations and HelmReleases
deploy to through kubeconfig Secrets. Only the hub needs to be in your kubeconfig.`,
		Example: `  # Health of Flux and every Kustomization/HelmRelease, per cluster
  kubectl c5c3 status

  # Only what is failing, as a table
  kubectl c5c3 status --failing -o table

  # Which Kustomization, source and revision put a Deployment on a spoke
  kubectl c5c3 trace deploy/keystone-api -n openstack --cluster control-plane`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: o.DisplayName},
		SilenceUsage:  true,
		SilenceErrors: true,
		// Clients built later (in Complete) end their requests when the
		// command's context ends.
		PersistentPreRun: func(cmd *cobra.Command, _ []string) { o.interrupt = cmd.Context() },
	}
	cmd.SetFlagErrorFunc(flagError)
	cmd.SetIn(o.In)
	cmd.SetOut(o.Out)
	cmd.SetErr(o.ErrOut)

	flags := cmd.PersistentFlags()
	o.ConfigFlags.AddFlags(flags)
	flags.StringVar(&o.FluxNamespace, "flux-namespace", o.FluxNamespace, "Namespace where Flux and its FluxReport live")
	flags.StringVar(&o.HubName, "hub-name", o.HubName, "Cluster name shown for the hub")
	flags.Var(&o.Color, "color", "Colour output: auto|always|never (auto honours NO_COLOR and uses colour on a terminal only)")
	flags.BoolVar(&o.AllowExecKubeconfig, "allow-exec-kubeconfig", false, "Allow spoke kubeconfigs that run exec plugins or read local files, and workload-identity spokes (provider azure) to use the az CLI (refused by default, as in Flux)")
	_ = cmd.RegisterFlagCompletionFunc("color", fixedCompletion(printers.ColorModes))

	cmd.CompletionOptions.DisableDefaultCmd = true // kubectl c5c3 completion replaces cobra's
	cmd.AddCommand(
		NewCmdCompletion(o),
		NewCmdStatus(o),
		NewCmdDiff(o),
		NewCmdPromote(o),
		NewCmdTrace(o),
		NewCmdVersions(o),
		NewCmdRBAC(o),
		NewCmdVersion(o),
	)
	renameHelp(cmd, o.DisplayName)
	return cmd
}

// Execute runs `kubectl c5c3` with args and returns the exit code. Errors are
// printed once, as "error: <msg>" on stderr.
func Execute(ctx context.Context, streams genericiooptions.IOStreams, args []string) int {
	return ExecuteAs(ctx, streams, DisplayName, args)
}

// ExecuteAs is Execute with help text that names the command displayName:
// main passes DisplayNameFor(os.Args[0]), so that run by the flux CLI as
// its plugin flux-c5c3 the help says `flux c5c3`.
func ExecuteAs(ctx context.Context, streams genericiooptions.IOStreams, displayName string, args []string) int {
	// controller-runtime warns on stderr when no logger is set; the plugin
	// reports errors itself.
	ctrllog.SetLogger(logr.Discard())
	o := NewOptions(streams)
	o.DisplayName = displayName
	cmd := NewRootCmd(o)
	cmd.SetArgs(args)
	return execute(ctx, cmd, streams)
}

// execute runs a built root command and turns its error into an exit code:
// CodeInterrupted whenever ctx ended (Ctrl-C) before the command did.
func execute(ctx context.Context, cmd *cobra.Command, streams genericiooptions.IOStreams) int {
	err := cmd.ExecuteContext(ctx)
	var ee *ExitError
	if err != nil && (!asExitError(err, &ee) || ee.Err != nil) {
		fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
	}
	if ctx.Err() != nil {
		return CodeInterrupted
	}
	return exitCode(err)
}

func fixedCompletion(values []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// commandOptions are a command's options, built by its constructor: kubectl's
// Complete (fill in from flags, args and the environment), Validate (check
// them) and Run.
type commandOptions interface {
	Complete() error
	Validate() error
	Run(ctx context.Context) error
}

// runOptions is every command's RunE: Complete, Validate, then Run.
func runOptions(ctx context.Context, o commandOptions) error {
	if err := o.Complete(); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	return o.Run(ctx)
}
