package plugin

import (
	"context"
	"encoding/json"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/status"
)

// loadSample loads the sample gitops repo into a fresh hub namespace, with
// workload namespaces of its own (openstack → s.SpokeNamespace("openstack"),
// see testfleet.SampleOptions.OwnNamespaces), and returns it with the flags
// that point the CLI at it.
func loadSample(t testing.TB, opts testfleet.SampleOptions) (*testfleet.Sample, []string) {
	t.Helper()
	f := testfleet.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts.Namespace = testfleet.Namespace(t)
	opts.OwnNamespaces = true
	s, err := f.LoadSample(ctx, opts)
	if err != nil {
		t.Fatalf("loading sample: %v", err)
	}
	return s, sampleFlags(f, s)
}

// sampleFlags point the CLI at the sample s.
func sampleFlags(f *testfleet.Fleet, s *testfleet.Sample) []string {
	return []string{"--kubeconfig", f.HubKubeconfig, "-n", s.Namespace, "--flux-namespace", s.Namespace, "--color", "never"}
}

// shared is the sample of sharedSample, loaded once per run of the package.
var shared testfleet.SharedSample

// sharedSample is one sample, loaded (as loadSample does) by the first
// test that asks for it, for the tests that only read it: they never edit
// its checkout, its objects in the hub or on the spokes, or the fleet.
// Such a test calls t.Parallel first, unless it changes the process
// (TestDiffFromWorkingDirectory).
//
// Parallel tests: every sample has namespaces of its own and its own
// cluster-scoped objects (the hub's ClusterRole c5c3-operator-tNNNN, the
// rook-ceph chart's CRD in a group named after the release namespace), so
// a parallel test may load the sample, edit it and diff the whole of it.
// It must not change the process (t.Setenv, t.Chdir; useChartCache
// instead of XDG_CACHE_HOME) or the fleet as a whole.
func sharedSample(t *testing.T) (*testfleet.Sample, []string) {
	t.Helper()
	s := shared.Get(t)
	return s, sampleFlags(s.Fleet, s)
}

// ctx is a context for the test's own requests to the fleet, ended with
// the test. Its limit is a safety net only: parallel tests (several
// controllers each) share 2 cores, so it is generous.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return c
}

// terminalEnv is the test's environment for a command under script(1),
// with a TERM that draws and no NO_COLOR: the runner's own TERM may be
// "dumb" or unset, which turns progress and redraws off on a real terminal
// too.
func terminalEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TERM=") && !strings.HasPrefix(kv, "NO_COLOR=") {
			env = append(env, kv)
		}
	}
	return append(env, "TERM=xterm")
}

// decode parses -o json output into a Report and checks the schema header.
func decode(t *testing.T, out string) *status.Report {
	t.Helper()
	var r status.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("status -o json is not a FleetStatus: %v\n%s", err, out)
	}
	if r.APIVersion != status.APIVersion || r.Kind != status.Kind {
		t.Fatalf("schema header %s/%s", r.APIVersion, r.Kind)
	}
	return &r
}

func TestStatusHealthy(t *testing.T) {
	t.Parallel()
	_, flags := sharedSample(t)

	r := run(t, append([]string{"status"}, flags...)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("healthy fleet: exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	golden.Assert(t, "status-healthy.tree", r.stdout)

	r = run(t, append([]string{"status", "-o", "table"}, flags...)...)
	if r.code != 0 {
		t.Fatalf("table: exit %d %s", r.code, r.stderr)
	}
	golden.Assert(t, "status-healthy.table", r.stdout)

	r = run(t, append([]string{"status", "-o", "json"}, flags...)...)
	golden.Assert(t, "status-healthy.json", r.stdout) // the documented schema
	rep := decode(t, r.stdout)
	if !rep.Summary.Healthy {
		t.Errorf("summary %+v, want healthy", rep.Summary)
	}
	if rep.Summary.Objects != 12 {
		t.Errorf("summary: %d objects, want 12", rep.Summary.Objects)
	}
	if rep.Summary.Ready != 12 {
		t.Errorf("summary: %d ready, want 12", rep.Summary.Ready)
	}
	if len(rep.Clusters) != 4 {
		t.Fatalf("%d clusters, want 4", len(rep.Clusters))
	}
	if rep.Hub.Flux == nil {
		t.Fatalf("no Flux on the hub, want %s", testfleet.FluxVersion)
	}
	if rep.Hub.Flux.Version != testfleet.FluxVersion {
		t.Errorf("Flux version %q, want %s", rep.Hub.Flux.Version, testfleet.FluxVersion)
	}
	if rep.Hub.Flux.Operator.Version != testfleet.FluxOperatorVersion {
		t.Errorf("Flux Operator version %q, want %s", rep.Hub.Flux.Operator.Version, testfleet.FluxOperatorVersion)
	}
	if len(rep.Hub.Flux.Components) != 4 {
		t.Errorf("Flux components %+v, want 4", rep.Hub.Flux.Components)
	}
	for _, c := range rep.Clusters {
		if !c.Reachable {
			t.Errorf("cluster %s not reachable", c.Name)
		}
		if c.ServerVersion != "v1.37.2" {
			t.Errorf("cluster %s: version %q, want v1.37.2", c.Name, c.ServerVersion)
		}
		if c.Nodes == nil {
			t.Fatalf("cluster %s: no node count", c.Name)
		}
		if !c.Hub && *c.Nodes != 3 {
			t.Errorf("cluster %s: %d nodes, want 3", c.Name, *c.Nodes)
		}
	}

	r = run(t, append([]string{"status", "-o", "yaml"}, flags...)...)
	var y status.Report
	if err := yaml.UnmarshalStrict([]byte(r.stdout), &y); err != nil {
		t.Fatalf("yaml: %v\n%s", err, r.stdout)
	}
	if y.Kind != status.Kind {
		t.Errorf("yaml kind %q, want %s", y.Kind, status.Kind)
	}
	if y.Summary != rep.Summary {
		t.Errorf("yaml summary %+v, want the json's %+v", y.Summary, rep.Summary)
	}
}

// statusCase is one `kubectl c5c3 status` run: its arguments, exit code
// and output. What status.Build makes of a fleet (states, counts,
// unreachable spokes, broken kubeconfig Secrets) is tested in status/ and
// fleet/ on fakes; these rows test the command on the test fleet.
type statusCase struct {
	name string
	// args follow "status" (and the sample's flags when the group has a
	// sample); {hub} is the hub's kubeconfig, {dir} the fleet's directory.
	args []string
	code int
	// golden is the expected stdout (testdata/golden); without it stdout
	// holds each of stdout, and is empty when stdout is nil too.
	golden    string
	stdout    []string
	notStdout []string
	// stderr starts with stderr[0] and holds the others; nil: empty.
	stderr []string
}

// statusGroup is rows run on one sample, loaded with opts and changed by
// setup; without sample the rows get no sample flags.
type statusGroup struct {
	name   string
	sample bool
	opts   testfleet.SampleOptions
	setup  func(t *testing.T, s *testfleet.Sample)
	rows   []statusCase
}

// TestStatusCommand runs `kubectl c5c3 status` row after row: bad flags
// and hubs that cannot be read (exit 2, nothing on stdout), a failing
// fleet in each output format and with --failing, broken spokes (exit 1,
// no kubeconfig contents printed) and a hub without a FluxReport. The
// healthy fleet is TestStatusHealthy's, on the shared sample.
func TestStatusCommand(t *testing.T) {
	t.Parallel()
	leaks := []string{"unreachable-token-must-never-be-printed", "garbage-kubeconfig-bytes", "BEGIN CERTIFICATE", "client-key-data"}
	for _, g := range []statusGroup{{
		name: "bad flags",
		rows: []statusCase{
			{name: "-o wide", args: []string{"-o", "wide"}, code: 2, stderr: []string{"error: ", "must be one of tree|table|json|yaml"}},
			{name: "--color sometimes", args: []string{"--color", "sometimes"}, code: 2, stderr: []string{"error: ", "must be one of auto|always|never"}},
			{name: "an argument", args: []string{"extra-arg"}, code: 2, stderr: []string{"error: ", "unknown command"}},
			{name: "no kubeconfig", args: []string{"--kubeconfig", "/does/not/exist"}, code: 2, stderr: []string{"error: ", "does/not/exist"}},
			{name: "bad --request-timeout", args: []string{"--request-timeout", "soon"}, code: 2, stderr: []string{"error: ", "invalid --request-timeout"}},
		},
	}, {
		name: "hub errors",
		rows: []statusCase{
			// A spoke has no Flux CRDs: pointing the CLI at it is a hub without Flux.
			{name: "no Flux CRDs", args: []string{"--kubeconfig", "{dir}/control-plane.kubeconfig", "--color", "never"}, code: 2,
				stderr: []string{"error: ", "the Flux CRDs are not installed on the hub"}},
			{name: "hub down", args: []string{"--kubeconfig", "{hub}", "--server", "https://127.0.0.1:1", "--request-timeout", "5s"}, code: 2,
				stderr: []string{"error: ", "cannot read the fleet from the hub https://127.0.0.1:1"}},
			{name: "unknown cluster", args: []string{"--kubeconfig", "{hub}", "--cluster", "nowhere"}, code: 2,
				stderr: []string{"error: ", `no cluster "nowhere"`}},
		},
	}, {
		name: "failing, suspended and stale", sample: true,
		setup: func(t *testing.T, s *testfleet.Sample) {
			c := ctx(t)
			expect.NoError(t, s.Suspend(c, "Kustomization", "storage-apps"))
			expect.NoError(t, s.AdvanceSource(c, "main@sha1:1111111111111111111111111111111111111111", "storage-apps"))
			expect.NoError(t, s.Fail(c, "Kustomization", "control-plane-infrastructure", "HealthCheckFailed", "timeout waiting for: [Namespace/openstack status: 'InProgress']"))
			expect.NoError(t, s.BlockOnDependency(c, "control-plane-apps", "control-plane-infrastructure"))
			expect.NoError(t, s.Fail(c, "HelmRelease", "libvirt", "UpgradeFailed", "Helm upgrade failed for release nova-compute/libvirt with chart libvirt@0.3.1: context deadline exceeded"))
		},
		rows: []statusCase{
			{name: "tree", code: 1, golden: "status-failing.tree"},
			{name: "--failing -o table", args: []string{"--failing", "-o", "table"}, code: 1, golden: "status-failing.table",
				notStdout: []string{"hypervisor-apps", "management-apps"}},
			{name: "-o json", args: []string{"-o", "json"}, code: 1, golden: "status-failing.json"},
		},
	}, {
		name: "broken spokes", sample: true,
		setup: func(t *testing.T, s *testfleet.Sample) {
			expect.NoError(t, s.BreakKubeconfig(ctx(t), "hypervisor", testfleet.FaultUnreachable))
			expect.NoError(t, s.BreakKubeconfig(ctx(t), "storage", testfleet.FaultGarbage))
		},
		rows: []statusCase{
			{name: "tree", code: 1, golden: "status-broken-spokes.tree"},
			{name: "-o json", args: []string{"-o", "json"}, code: 1, stdout: []string{`"unreachable": 2`, "127.0.0.1:1", "not a kubeconfig"}},
		},
	}, {
		name: "no FluxReport", sample: true, opts: testfleet.SampleOptions{NoFluxReport: true},
		rows: []statusCase{
			{name: "management", args: []string{"--cluster", "management"}, golden: "status-no-fluxreport.tree"},
		},
	}} {
		t.Run(g.name, func(t *testing.T) {
			var s *testfleet.Sample
			var flags []string
			if g.sample {
				s, flags = loadSample(t, g.opts)
				if g.setup != nil {
					g.setup(t, s)
				}
			}
			for _, tc := range g.rows {
				t.Run(tc.name, func(t *testing.T) {
					args := append([]string{"status"}, tc.args...)
					if strings.Contains(strings.Join(args, " "), "{") {
						fl := f(t)
						r := strings.NewReplacer("{hub}", fl.HubKubeconfig, "{dir}", fl.Dir)
						for i := range args {
							args[i] = r.Replace(args[i])
						}
					}
					r := run(t, append(args, flags...)...)
					wantExit(t, "status "+tc.name, r, tc.code)
					for _, leak := range leaks {
						if strings.Contains(r.stdout+r.stderr, leak) {
							t.Errorf("output leaks kubeconfig contents (%q)", leak)
						}
					}
					switch {
					case tc.golden != "":
						golden.Assert(t, tc.golden, r.stdout)
					case tc.stdout == nil && r.stdout != "":
						t.Errorf("stdout %q, want nothing", r.stdout)
					default:
						expect.Contains(t, "stdout", r.stdout, tc.stdout...)
					}
					for _, not := range tc.notStdout {
						if strings.Contains(r.stdout, not) {
							t.Errorf("stdout shows %q:\n%s", not, r.stdout)
						}
					}
					wantStderr(t, r.stderr, tc.stderr)
				})
			}
		})
	}
}

// TestCompletionFromHub: cluster and Kustomization names complete from the
// real hub, for status --cluster and diff's arguments.
func TestCompletionFromHub(t *testing.T) {
	t.Parallel()
	s, flags := sharedSample(t)
	r := run(t, append(append([]string{"__complete", "status"}, flags...), "--cluster", "c")...)
	wantExit(t, "status --cluster c<TAB>", r, 0)
	expect.Contains(t, "status --cluster c<TAB>", r.stdout, "control-plane\n")
	if strings.Contains(r.stdout, "storage") {
		t.Fatalf("status --cluster c<TAB> offers storage:\n%s", r.stdout)
	}
	r = run(t, append(append([]string{"__complete", "diff"}, flags...), "")...)
	for _, want := range []string{"management\n", "hypervisor\n", s.Namespace + "/control-plane-apps\n", s.Namespace + "/storage-rook-operator\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff <TAB> lacks %q:\n%s", want, r.stdout)
		}
	}
}
