package plugin

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// enumValue is a pflag.Value that accepts one of a fixed list of strings.
type enumValue struct {
	value   *string
	allowed []string
}

func newEnum(p *string, def string, allowed ...string) *enumValue {
	*p = def
	return &enumValue{value: p, allowed: allowed}
}

func (e *enumValue) String() string { return *e.value }

func (e *enumValue) Set(s string) error {
	for _, a := range e.allowed {
		if s == a {
			*e.value = s
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(e.allowed, "|"))
}

func (e *enumValue) Type() string { return "string" }

// addOutputFlag registers -o/--output with the given formats (the first is
// the default) and its completion.
func addOutputFlag(cmd *cobra.Command, p *string, formats ...string) {
	cmd.Flags().VarP(newEnum(p, formats[0], formats...), "output", "o",
		"Output format: "+strings.Join(formats, "|"))
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(formats))
}

// flagError turns a flag parsing error into a usage error with a hint.
func flagError(c *cobra.Command, err error) error {
	return &ExitError{Code: CodeError, Err: fmt.Errorf("%w\nSee '%s --help' for usage", err, c.CommandPath())}
}
