package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

// TestDocsCommandsUpToDate regenerates the command reference and compares it
// with docs/commands, so that every command, flag and help text change shows
// in the reference.
func TestDocsCommandsUpToDate(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir); err != nil {
		t.Fatal(err)
	}
	want := pages(t, dir)
	have := pages(t, filepath.Join(root, "docs", "commands"))
	for name, page := range want {
		switch got, ok := have[name]; {
		case !ok:
			t.Errorf("docs/commands/%s is missing: run make docs", name)
		case got != page:
			t.Errorf("docs/commands/%s is out of date: run make docs", name)
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			t.Errorf("docs/commands/%s documents no command: run make docs", name)
		}
	}
}

// pages reads the generated pages in dir by file name.
func pages(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, pagePrefix+"*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}

// TestDocsEveryFlag checks that the committed reference has a page for every
// command and documents each of its flags, its own and inherited ones.
func TestDocsEveryFlag(t *testing.T) {
	have := pages(t, filepath.Join(root, "docs", "commands"))
	var check func(c *cobra.Command)
	check = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.HasParent() {
			return
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
		page, ok := have[name]
		if !ok {
			t.Errorf("docs/commands has no page %s for `%s`: run make docs", name, c.CommandPath())
		}
		for _, fs := range []*pflag.FlagSet{c.NonInheritedFlags(), c.InheritedFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if ok && !f.Hidden && !strings.Contains(page, "--"+f.Name+" ") {
					t.Errorf("docs/commands/%s does not document `%s --%s`: run make docs", name, c.CommandPath(), f.Name)
				}
			})
		}
		for _, sub := range c.Commands() {
			check(sub)
		}
	}
	check(rootCmd())
}
