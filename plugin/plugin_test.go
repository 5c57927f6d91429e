package plugin

import (
	"context"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

func TestMain(m *testing.M) {
	// Tests must not depend on (or be disturbed by) the developer's git
	// configuration: CI has none. Set for the whole run, not per test
	// (t.Setenv), so that the git tests can run in parallel.
	os.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	code := testfleet.Run(m)
	removePluginBinary()
	os.Exit(code)
}

// result is what one CLI run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// run executes `kubectl c5c3 args...` in-process, with a fixed clock and
// the test's chart cache (useChartCache), if it has one.
func run(t *testing.T, args ...string) result {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := NewOptions(streams)
	o.Clock = func() time.Time { return time.Now().Add(48 * time.Hour) }
	if dir, ok := chartCaches.Load(topLevel(t)); ok {
		o.chartCacheDir = dir.(string)
	}
	if env, ok := testEnvs.Load(topLevel(t)); ok {
		o.getenv = func(key string) string {
			if v, ok := env.(map[string]string)[key]; ok {
				return v
			}
			return os.Getenv(key)
		}
	}
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
	expect.Contains(t, "version", r.stdout, `"version": "dev"`)
	if r.stderr != "" {
		t.Fatalf("version: stderr %q, want nothing", r.stderr)
	}
	r = run(t, "version", "-o", "xml")
	wantExit(t, "version -o xml", r, 2)
	expect.Contains(t, "version -o xml: stderr", r.stderr, "must be one of text|json|yaml")
	if r.stdout != "" {
		t.Fatalf("version -o xml: stdout %q, want nothing", r.stdout)
	}
}

func TestHelpSaysKubectlC5c3(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"status", "--help"}, {"version", "--help"}} {
		r := run(t, args...)
		what := strings.Join(args, " ")
		wantExit(t, what, r, 0)
		expect.Contains(t, what+": help", r.stdout, "kubectl c5c3 ")
		if strings.Contains(r.stdout, "\n  c5c3 ") {
			t.Errorf("%v: help shows bare `c5c3`", args)
		}
	}
}

// chartCaches maps a top-level test's name to the chart cache its
// commands use (useChartCache).
var chartCaches sync.Map

// useChartCache makes the commands that t and its subtests run keep their
// charts in dir from now on (Options.chartCacheDir), as XDG_CACHE_HOME
// would for the whole process: unlike t.Setenv, this lets t run in
// parallel with other tests.
func useChartCache(t *testing.T, dir string) {
	t.Helper()
	name := topLevel(t)
	chartCaches.Store(name, dir)
	t.Cleanup(func() { chartCaches.Delete(name) })
}

// testEnvs maps a top-level test's name to the environment variables its
// commands see in place of the process's (useEnv).
var testEnvs sync.Map

// useEnv makes the commands that t and its subtests run see the variables
// vars (for --publish and --open-pr: Options.getenv) until t ends, as
// t.Setenv would for the whole process: unlike t.Setenv, this lets t run
// in parallel with other tests. Subtests that call it run one after the
// other.
func useEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	name := topLevel(t)
	prev, had := testEnvs.Load(name)
	env := map[string]string{}
	if had {
		for k, v := range prev.(map[string]string) {
			env[k] = v
		}
	}
	for k, v := range vars {
		env[k] = v
	}
	testEnvs.Store(name, env)
	t.Cleanup(func() {
		if had {
			testEnvs.Store(name, prev)
		} else {
			testEnvs.Delete(name)
		}
	})
}

// topLevel is the name of t's top-level test.
func topLevel(t *testing.T) string {
	name, _, _ := strings.Cut(t.Name(), "/")
	return name
}
