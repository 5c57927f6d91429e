package printers

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// ColorMode is the value of the --color flag.
type ColorMode string

// The values --color accepts.
const (
	ColorAuto   ColorMode = "auto"
	ColorAlways ColorMode = "always"
	ColorNever  ColorMode = "never"
)

// ColorModes lists the accepted --color values, for help and completion.
var ColorModes = []string{string(ColorAuto), string(ColorAlways), string(ColorNever)}

// String implements pflag.Value.
func (m *ColorMode) String() string { return string(*m) }

// Set implements pflag.Value.
func (m *ColorMode) Set(s string) error {
	switch ColorMode(s) {
	case ColorAuto, ColorAlways, ColorNever:
		*m = ColorMode(s)
		return nil
	}
	return fmt.Errorf("must be one of %s", strings.Join(ColorModes, "|"))
}

// Type implements pflag.Value.
func (m *ColorMode) Type() string { return "string" }

// Enabled reports whether colour should be used when writing to w:
// always → yes, never → no, auto → only on a terminal, with NO_COLOR unset
// and TERM not "dumb".
func (m ColorMode) Enabled(w io.Writer) bool {
	switch m {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// Palette paints strings with ANSI colours, or leaves them alone when
// colour is off.
type Palette struct{ On bool }

func (p Palette) paint(code, s string) string {
	if !p.On || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Green paints s green (healthy, added lines).
func (p Palette) Green(s string) string { return p.paint("32", s) }

// Red paints s red (failing, removed lines).
func (p Palette) Red(s string) string { return p.paint("31", s) }

// Yellow paints s yellow (suspended, progressing, stale).
func (p Palette) Yellow(s string) string { return p.paint("33", s) }

// Cyan paints s cyan (hunk headers).
func (p Palette) Cyan(s string) string { return p.paint("36", s) }

// Bold makes s bold.
func (p Palette) Bold(s string) string { return p.paint("1", s) }

// Faint dims s.
func (p Palette) Faint(s string) string { return p.paint("2", s) }
