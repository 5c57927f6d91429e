package plugin

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

func TestMain(m *testing.M) {
	code := testfleet.Run(m)
	removePluginBinary()
	os.Exit(code)
}

// result is what one CLI run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// run executes `kubectl c5c3 args...` in-process, with a fixed clock.
func run(t *testing.T, args ...string) result {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := NewOptions(streams)
	o.Clock = func() time.Time { return time.Now().Add(48 * time.Hour) }
	cmd := NewRootCmd(o)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := execute(ctx, cmd, streams)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

func TestVersion(t *testing.T) {
	r := run(t, "version", "-o", "json")
	wantExit(t, "version", r, 0)
	wantContains(t, "version", r.stdout, `"version": "dev"`)
	if r.stderr != "" {
		t.Fatalf("version: stderr %q, want nothing", r.stderr)
	}
	r = run(t, "version", "-o", "xml")
	wantExit(t, "version -o xml", r, 2)
	wantContains(t, "version -o xml: stderr", r.stderr, "must be one of text|json|yaml")
	if r.stdout != "" {
		t.Fatalf("version -o xml: stdout %q, want nothing", r.stdout)
	}
}

func TestHelpSaysKubectlC5c3(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"status", "--help"}, {"version", "--help"}} {
		r := run(t, args...)
		what := strings.Join(args, " ")
		wantExit(t, what, r, 0)
		wantContains(t, what+": help", r.stdout, "kubectl c5c3 ")
		if strings.Contains(r.stdout, "\n  c5c3 ") {
			t.Errorf("%v: help shows bare `c5c3`", args)
		}
	}
}
