package plugin

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/c5c3/kubectl-c5c3/internal/buildinfo"
)

// VersionOptions are the options of `kubectl c5c3 version`.
type VersionOptions struct {
	*Options
	Output string
}

// NewCmdVersion builds `kubectl c5c3 version`.
func NewCmdVersion(common *Options) *cobra.Command {
	o := &VersionOptions{Options: common}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Long:  "Print the version, commit and build platform of kubectl c5c3. It does not contact any cluster.",
		Example: `  kubectl c5c3 version
  kubectl c5c3 version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run()
		},
	}
	addOutputFlag(cmd, &o.Output, "text", "json", "yaml")
	return cmd
}

// Run prints the version in the chosen format.
func (o *VersionOptions) Run() error {
	info := buildinfo.Get()
	if o.Output == "json" || o.Output == "yaml" {
		return printStructured(o.Out, info, o.Output)
	}
	_, err := fmt.Fprintf(o.Out, "kubectl-c5c3 %s (commit %s, %s, %s)\n", info.Version, info.Commit, info.GoVersion, info.Platform)
	return err
}
