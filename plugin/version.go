package plugin

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

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
	switch o.Output {
	case "json":
		b, err := json.MarshalIndent(info, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.Out, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(info)
		if err != nil {
			return err
		}
		_, err = o.Out.Write(b)
		return err
	}
	_, err := fmt.Fprintf(o.Out, "kubectl-c5c3 %s (commit %s, %s, %s)\n", info.Version, info.Commit, info.GoVersion, info.Platform)
	return err
}
