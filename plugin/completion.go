package plugin

import (
	"context"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// Names of the plugin binary and of its completion shim.
const (
	pluginBinary = "kubectl-c5c3"
	shimName     = "kubectl_complete-c5c3"
)

// shimScript is cmd/kubectl_complete-c5c3/kubectl_complete-c5c3, the shim
// shipped in the release archives (a test keeps the two equal).
const shimScript = `#!/usr/bin/env sh
# Completion shim for ` + "`kubectl c5c3 <TAB>`" + `: kubectl (>= 1.26) runs
# kubectl_complete-<plugin> from the PATH with the words typed after
# ` + "`kubectl c5c3`" + `, and this hands them to the plugin's cobra completion.
exec kubectl c5c3 __complete "$@"
`

// shimCmd is cmd/kubectl_complete-c5c3/kubectl_complete-c5c3.cmd, the
// Windows shim (found through PATHEXT).
const shimCmd = "@echo off\r\nrem Completion shim for kubectl c5c3 (kubectl 1.26 or newer), found through PATHEXT.\r\nkubectl c5c3 __complete %*\r\n"

// completionTimeout bounds the hub requests made while completing, so that
// <TAB> never hangs on an unreachable hub.
var completionTimeout = 3 * time.Second

// NewCmdCompletion builds `kubectl c5c3 completion`.
func NewCmdCompletion(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion",
		Short: "Set up shell completion",
		Long: `Set up shell completion for kubectl c5c3.

kubectl 1.26 and newer complete plugins themselves: with kubectl's own
completion loaded (source <(kubectl completion bash), or zsh), typing
"kubectl c5c3 <TAB>" runs the kubectl_complete-c5c3 shim from your PATH,
which asks the plugin. The release archives contain the shim, but krew links
only the plugin binary onto your PATH: run "kubectl c5c3 completion
install-shim" once.

The bash, zsh, fish and powershell subcommands print a completion script for
the plugin binary itself, for when you run it as kubectl-c5c3.`,
		Example: `  # Complete "kubectl c5c3 <TAB>" (kubectl >= 1.26, kubectl's completion loaded)
  kubectl c5c3 completion install-shim

  # Complete the binary when run as kubectl-c5c3, in bash
  source <(kubectl c5c3 completion bash)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	if invokedByFlux(o.DisplayName) {
		cmd.Long = `Run as a flux CLI plugin, "` + o.DisplayName + ` <TAB>" needs no setup: with flux's
own completion loaded (source <(flux completion bash), or zsh, fish,
powershell), flux asks this plugin through its __complete command.

What follows is about running the same binary as kubectl c5c3.

` + cmd.Long
	}
	cmd.AddCommand(
		newCmdCompletionScript("bash", `  source <(kubectl c5c3 completion bash)
  kubectl c5c3 completion bash > /etc/bash_completion.d/kubectl-c5c3`,
			func(root *cobra.Command, w io.Writer, desc bool) error {
				return root.GenBashCompletionV2(w, desc)
			}),
		newCmdCompletionScript("zsh", `  source <(kubectl c5c3 completion zsh)
  kubectl c5c3 completion zsh > "${fpath[1]}/_kubectl-c5c3"`,
			func(root *cobra.Command, w io.Writer, desc bool) error {
				if desc {
					return root.GenZshCompletion(w)
				}
				return root.GenZshCompletionNoDesc(w)
			}),
		newCmdCompletionScript("fish", `  kubectl c5c3 completion fish | source
  kubectl c5c3 completion fish > ~/.config/fish/completions/kubectl-c5c3.fish`,
			func(root *cobra.Command, w io.Writer, desc bool) error {
				return root.GenFishCompletion(w, desc)
			}),
		newCmdCompletionScript("powershell", `  kubectl c5c3 completion powershell | Out-String | Invoke-Expression`,
			func(root *cobra.Command, w io.Writer, desc bool) error {
				if desc {
					return root.GenPowerShellCompletionWithDesc(w)
				}
				return root.GenPowerShellCompletion(w)
			}),
		newCmdInstallShim(o),
	)
	return cmd
}

// newCmdCompletionScript builds `kubectl c5c3 completion <shell>`.
func newCmdCompletionScript(shell, example string, gen func(root *cobra.Command, w io.Writer, desc bool) error) *cobra.Command {
	var noDesc bool
	cmd := &cobra.Command{
		Use:   shell,
		Short: "Print the " + shell + " completion script for kubectl-c5c3",
		Long: `Print the ` + shell + ` completion script for the plugin binary, kubectl-c5c3.

For "kubectl c5c3 <TAB>" use kubectl's own completion and the shim instead:
kubectl c5c3 completion install-shim.`,
		Example:           example,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The script completes the binary's own name, kubectl-c5c3.
			root := cmd.Root()
			use := root.Use
			root.Use = pluginBinary
			defer func() { root.Use = use }()
			return gen(root, cmd.OutOrStdout(), !noDesc)
		},
	}
	cmd.Flags().BoolVar(&noDesc, "no-descriptions", false, "Leave out completion descriptions")
	return cmd
}

// InstallShimOptions are the options of `kubectl c5c3 completion install-shim`.
type InstallShimOptions struct {
	*Options
	// Dir receives the shim; "" means the directory of kubectl-c5c3 on the
	// PATH (~/.krew/bin for krew), else the running binary's directory.
	Dir string
	// GOOS picks the shim flavour (sh script, or .cmd on windows).
	GOOS string
}

func newCmdInstallShim(common *Options) *cobra.Command {
	o := &InstallShimOptions{Options: common, GOOS: runtime.GOOS}
	cmd := &cobra.Command{
		Use:   "install-shim",
		Short: "Put the kubectl_complete-c5c3 shim next to kubectl-c5c3 on your PATH",
		Long: `Write the kubectl_complete-c5c3 shim, which kubectl 1.26 and newer run to
complete "kubectl c5c3 <TAB>". It goes into the directory that holds
kubectl-c5c3 on your PATH (~/.krew/bin when installed with krew), or --dir.
On Windows it writes kubectl_complete-c5c3.cmd.

Remove the shim when you uninstall the plugin; krew does not know about it.`,
		Example: `  kubectl c5c3 completion install-shim
  kubectl c5c3 completion install-shim --dir ~/bin`,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVar(&o.Dir, "dir", "", "Directory to write the shim to (default: where kubectl-c5c3 is on your PATH)")
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

// Complete picks the directory.
func (o *InstallShimOptions) Complete() error {
	if o.Dir != "" {
		return nil
	}
	if p, err := osexec.LookPath(pluginBinary); err == nil {
		o.Dir = filepath.Dir(p)
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("%s is not on your PATH and its own path is unknown (%w): use --dir", pluginBinary, err)
	}
	o.Dir = filepath.Dir(exe)
	return nil
}

// Run writes the shim.
func (o *InstallShimOptions) Run() error {
	name, content := shimName, shimScript
	if o.GOOS == "windows" {
		name, content = shimName+".cmd", shimCmd
	}
	p := filepath.Join(o.Dir, name)
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		return fmt.Errorf("writing the completion shim: %w (choose a writable directory on your PATH with --dir)", err)
	}
	// WriteFile keeps the mode of an existing file.
	if err := os.Chmod(p, 0o755); err != nil {
		return fmt.Errorf("making %s executable: %w", p, err)
	}
	_, err := fmt.Fprintf(o.Out, "wrote %s\n", p)
	if err != nil {
		return err
	}
	if !onPath(o.Dir) {
		fmt.Fprintf(o.ErrOut, "warning: %s is not on your PATH; kubectl will not find the shim there\n", o.Dir)
	}
	return nil
}

func onPath(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if da, err := filepath.Abs(d); err == nil && da == abs {
			return true
		}
	}
	return false
}

// completeClusterNames completes fleet cluster names (the hub and its
// spokes) for a --cluster flag. It asks the hub with a short timeout and
// completes nothing, silently, when the hub is unreachable.
func completeClusterNames(o *Options) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		f := discoverForCompletion(cmd.Context(), o)
		if f == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return clusterNames(f, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

func clusterNames(f *fleet.Fleet, prefix string) []string {
	var out []string
	for _, c := range f.Clusters {
		if strings.HasPrefix(c.Name, prefix) {
			out = append(out, c.Name)
		}
	}
	return out
}

func kustomizationNames(f *fleet.Fleet, prefix string) []string {
	seen := map[string]bool{}
	for _, c := range f.Clusters {
		for _, obj := range c.Objects {
			if obj.Kind != fleet.KindKustomization {
				continue
			}
			m := obj.Meta()
			if n := m.GetNamespace() + "/" + m.GetName(); strings.HasPrefix(n, prefix) {
				seen[n] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// discoverForCompletion discovers the fleet for a completion function, or
// returns nil. Completion output is parsed by the shell, so nothing may be
// logged: API warnings and klog are silenced, every request is bounded
// by completionTimeout (unless --request-timeout is set), and a hub that
// does not answer in time is given up on.
func discoverForCompletion(ctx context.Context, o *Options) *fleet.Fleet {
	ns, _ := o.Namespace()
	return discoverForCompletionIn(ctx, o, ns)
}

// discoverForCompletionIn is discoverForCompletion reading the Flux objects
// of hub namespace ns ("" = all), for commands whose -n is not a hub
// namespace (trace).
func discoverForCompletionIn(ctx context.Context, o *Options, ns string) *fleet.Fleet {
	if ctx == nil {
		ctx = context.Background()
	}
	// A completion process only completes: nothing else of it logs.
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	wrap := o.ConfigFlags.WrapConfigFn
	o.ConfigFlags.WrapConfigFn = func(c *rest.Config) *rest.Config {
		if wrap != nil {
			c = wrap(c)
		}
		c.WarningHandler = rest.NoWarnings{}
		return c
	}
	if o.ConfigFlags.Timeout == nil || *o.ConfigFlags.Timeout == "" || *o.ConfigFlags.Timeout == "0" {
		t := completionTimeout.String()
		o.ConfigFlags.Timeout = &t
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()

	type result struct {
		f   *fleet.Fleet
		err error
	}
	done := make(chan result, 1)
	go func() {
		hub, err := o.HubClient()
		if err != nil {
			done <- result{err: err}
			return
		}
		f, err := fleet.Discover(ctx, hub, fleet.Options{Namespace: ns, HubName: o.HubName})
		done <- result{f: f, err: err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil
		}
		return r.f
	case <-ctx.Done():
		// An exec credential plugin or a dead hub: give up, leave the
		// goroutine to the process exit.
		return nil
	}
}
