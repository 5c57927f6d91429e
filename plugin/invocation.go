package plugin

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// fluxPluginPrefix starts the file name of every flux CLI plugin: for
// `flux <name>` the flux CLI runs flux-<name> from its plugin directory
// (~/.fluxcd/plugins, or $FLUXCD_PLUGINS), with that path as argv[0] and
// the rest of the command line unchanged. It sets no environment variable
// for the plugin, so argv[0] is how the binary learns it runs under flux.
const fluxPluginPrefix = "flux-"

// DisplayNameFor returns how the user invoked the binary whose argv[0] is
// argv0, for the help text: "flux c5c3" when the flux CLI ran it as its
// plugin flux-c5c3 (installed by `flux plugin install c5c3`), else
// DisplayName. kubectl runs kubectl-c5c3 and krew links that name.
func DisplayNameFor(argv0 string) string {
	base := filepath.Base(argv0)
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".exe") {
		base = strings.TrimSuffix(base, ext)
	}
	if name, ok := strings.CutPrefix(base, fluxPluginPrefix); ok && name != "" {
		return "flux " + name
	}
	return DisplayName
}

// invokedByFlux reports whether displayName is a flux plugin invocation.
func invokedByFlux(displayName string) bool {
	return strings.HasPrefix(displayName, "flux ")
}

// renameHelp makes the help of cmd and its subcommands say displayName
// where it says DisplayName, in their descriptions, examples and flag usages; the usage
// lines follow the root's cobra.CommandDisplayNameAnnotation. The
// completion subtree is left as written: its text is about completing
// `kubectl c5c3` (NewCmdCompletion adds what flux users need).
func renameHelp(cmd *cobra.Command, displayName string) {
	if displayName == DisplayName || cmd.Name() == "completion" {
		return
	}
	r := strings.NewReplacer(DisplayName, displayName)
	cmd.Short = r.Replace(cmd.Short)
	cmd.Long = r.Replace(cmd.Long)
	cmd.Example = r.Replace(cmd.Example)
	cmd.Flags().VisitAll(func(f *pflag.Flag) { f.Usage = r.Replace(f.Usage) })
	for _, sub := range cmd.Commands() {
		renameHelp(sub, displayName)
	}
}
