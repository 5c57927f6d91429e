package plugin

import (
	"context"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestDisplayNameFor(t *testing.T) {
	for _, tc := range []struct{ argv0, want string }{
		{"kubectl-c5c3", "kubectl c5c3"},
		{"/home/u/.krew/bin/kubectl-c5c3", "kubectl c5c3"},
		{"/home/u/.fluxcd/plugins/flux-c5c3", "flux c5c3"},
		{"flux-c5c3", "flux c5c3"},
		{"flux-c5c3.exe", "flux c5c3"},
		{"FLUX-C5C3.EXE", "kubectl c5c3"}, // flux looks for lower-case flux-
		{"flux-fleet", "flux fleet"},      // a symlink named for another plugin name
		{"flux-", "kubectl c5c3"},
		{"kubectl-c5c3.exe", "kubectl c5c3"},
		{"c5c3.test", "kubectl c5c3"},
		{"", "kubectl c5c3"},
	} {
		if got := DisplayNameFor(tc.argv0); got != tc.want {
			t.Errorf("DisplayNameFor(%q) = %q, want %q", tc.argv0, got, tc.want)
		}
	}
}

// TestHelpSaysFluxC5c3 runs the help of every command as the flux CLI's
// plugin: usage lines, descriptions, examples and flag usages say
// `flux c5c3`, never `kubectl c5c3` — except the completion command, whose
// text is about kubectl and which tells flux users they need no setup.
func TestHelpSaysFluxC5c3(t *testing.T) {
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := NewOptions(streams)
	o.DisplayName = "flux c5c3"
	var paths [][]string
	for _, c := range NewRootCmd(o).Commands() {
		if c.Name() == "completion" || c.Name() == "help" {
			continue
		}
		paths = append(paths, []string{c.Name(), "--help"})
		for _, sub := range c.Commands() {
			paths = append(paths, []string{c.Name(), sub.Name(), "--help"})
		}
	}
	paths = append(paths, []string{"--help"})
	for _, args := range paths {
		r := runAs(t, "flux c5c3", args...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%v: %+v", args, r)
		}
		if strings.Contains(r.stdout, "kubectl c5c3") {
			t.Errorf("%v: help still says `kubectl c5c3`:\n%s", args, r.stdout)
		}
		if !strings.Contains(r.stdout, "Usage:\n  flux c5c3 ") {
			t.Errorf("%v: usage does not say `flux c5c3`:\n%s", args, r.stdout)
		}
	}
	r := runAs(t, "flux c5c3", "--help")
	for _, want := range []string{"flux c5c3 shows and changes", "  flux c5c3 status --failing -o table", `Use "flux c5c3 [command] --help"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("root help lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runAs(t, "flux c5c3", "completion", "--help")
	expect.Contains(t, "completion help as flux c5c3", r.stdout, `"flux c5c3 <TAB>" needs no setup`, "kubectl c5c3 completion install-shim")
	// The kubectl invocation is unchanged.
	r = runAs(t, DisplayName, "completion", "--help")
	if strings.Contains(r.stdout, "flux c5c3") || strings.Contains(r.stdout, "needs no setup") {
		t.Errorf("completion help as kubectl c5c3 is about flux:\n%s", r.stdout)
	}
}

// runAs executes the command tree in-process, its help naming displayName.
func runAs(t *testing.T, displayName string, args ...string) result {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := NewOptions(streams)
	o.DisplayName = displayName
	cmd := NewRootCmd(o)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return result{code: execute(ctx, cmd, streams), stdout: out.String(), stderr: errOut.String()}
}
