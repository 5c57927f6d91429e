package plugin

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
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
func loadSample(t *testing.T, opts testfleet.SampleOptions) (*testfleet.Sample, []string) {
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
var shared struct {
	once  sync.Once
	s     *testfleet.Sample
	flags []string
	err   error
}

// sharedSample is one sample, loaded (as loadSample does) by the first
// test that asks for it, for the tests that only read it: they never edit
// its checkout, its objects in the hub or on the spokes, or the fleet.
// Such a test calls t.Parallel first: parallel tests start after the
// others have finished, so no later sample takes over what this one
// installed (the rook-ceph chart's cluster-scoped CRD).
func sharedSample(t *testing.T) (*testfleet.Sample, []string) {
	t.Helper()
	f := testfleet.Get(t)
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		ns := testfleet.Namespace(t)
		if shared.s, shared.err = f.LoadSample(ctx, testfleet.SampleOptions{Namespace: ns, OwnNamespaces: true}); shared.err == nil {
			shared.flags = sampleFlags(f, shared.s)
		}
	})
	if shared.err != nil {
		t.Fatalf("loading the shared sample: %v", shared.err)
	}
	return shared.s, shared.flags
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
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
	if !rep.Summary.Healthy || rep.Summary.Objects != 12 || rep.Summary.Ready != 12 || len(rep.Clusters) != 4 {
		t.Fatalf("summary %+v, %d clusters", rep.Summary, len(rep.Clusters))
	}
	if rep.Hub.Flux == nil || rep.Hub.Flux.Version != testfleet.FluxVersion || rep.Hub.Flux.Operator.Version != testfleet.FluxOperatorVersion || len(rep.Hub.Flux.Components) != 4 {
		t.Fatalf("flux: %+v", rep.Hub.Flux)
	}
	for _, c := range rep.Clusters {
		if !c.Reachable || c.ServerVersion != "v1.37.2" || c.Nodes == nil {
			t.Errorf("cluster %s: reachable=%v version=%q nodes=%v", c.Name, c.Reachable, c.ServerVersion, c.Nodes)
		}
		if !c.Hub && *c.Nodes != 3 {
			t.Errorf("cluster %s: %d nodes, want 3", c.Name, *c.Nodes)
		}
	}

	r = run(t, append([]string{"status", "-o", "yaml"}, flags...)...)
	var y status.Report
	if err := yaml.UnmarshalStrict([]byte(r.stdout), &y); err != nil || y.Kind != status.Kind || y.Summary != rep.Summary {
		t.Fatalf("yaml: %v %+v", err, y.Summary)
	}
}

func TestStatusFailingSuspendedStale(t *testing.T) {
	s, flags := loadSample(t, testfleet.SampleOptions{})
	c := ctx(t)
	must(t, s.Suspend(c, "Kustomization", "storage-apps"))
	must(t, s.AdvanceSource(c, "main@sha1:1111111111111111111111111111111111111111", "storage-apps"))
	must(t, s.Fail(c, "Kustomization", "control-plane-infrastructure", "HealthCheckFailed", "timeout waiting for: [Namespace/openstack status: 'InProgress']"))
	must(t, s.BlockOnDependency(c, "control-plane-apps", "control-plane-infrastructure"))
	must(t, s.Fail(c, "HelmRelease", "libvirt", "UpgradeFailed", "Helm upgrade failed for release nova-compute/libvirt with chart libvirt@0.3.1: context deadline exceeded"))

	r := run(t, append([]string{"status"}, flags...)...)
	if r.code != 1 {
		t.Fatalf("failing fleet: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden.Assert(t, "status-failing.tree", r.stdout)
	for _, want := range []string{"HealthCheckFailed", "waiting for " + s.Namespace + "/control-plane-infrastructure", "Suspended · stale", "UpgradeFailed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("tree lacks %q", want)
		}
	}

	r = run(t, append([]string{"status", "--failing", "-o", "table"}, flags...)...)
	if r.code != 1 {
		t.Fatalf("--failing: exit %d", r.code)
	}
	golden.Assert(t, "status-failing.table", r.stdout)
	if strings.Contains(r.stdout, "hypervisor-apps") || strings.Contains(r.stdout, "management-apps") {
		t.Errorf("--failing shows ready objects:\n%s", r.stdout)
	}

	r = run(t, append([]string{"status", "-o", "json"}, flags...)...)
	golden.Assert(t, "status-failing.json", r.stdout)
	rep := decode(t, r.stdout)
	if rep.Summary.Healthy || rep.Summary.Failed != 3 || rep.Summary.Suspended != 1 || rep.Summary.Stale != 1 {
		t.Fatalf("summary %+v", rep.Summary)
	}
}

func TestStatusSuspendedButCurrentIsHealthy(t *testing.T) {
	s, flags := loadSample(t, testfleet.SampleOptions{})
	must(t, s.Suspend(ctx(t), "HelmRelease", "memcached"))
	r := run(t, append([]string{"status", "-o", "json"}, flags...)...)
	rep := decode(t, r.stdout)
	if r.code != 0 || !rep.Summary.Healthy || rep.Summary.Suspended != 1 {
		t.Fatalf("suspended but not stale must be healthy: exit %d %+v", r.code, rep.Summary)
	}
}

func TestStatusBrokenSpokes(t *testing.T) {
	s, flags := loadSample(t, testfleet.SampleOptions{})
	c := ctx(t)
	must(t, s.BreakKubeconfig(c, "hypervisor", testfleet.FaultUnreachable))
	must(t, s.BreakKubeconfig(c, "storage", testfleet.FaultGarbage))

	r := run(t, append([]string{"status"}, flags...)...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden.Assert(t, "status-broken-spokes.tree", r.stdout)
	for _, leak := range []string{"unreachable-token-must-never-be-printed", "garbage-kubeconfig-bytes", "BEGIN CERTIFICATE", "client-key-data"} {
		if strings.Contains(r.stdout+r.stderr, leak) {
			t.Fatalf("output leaks kubeconfig contents (%q)", leak)
		}
	}
	r = run(t, append([]string{"status", "-o", "json"}, flags...)...)
	rep := decode(t, r.stdout)
	byName := map[string]status.Cluster{}
	for _, cl := range rep.Clusters {
		byName[cl.Name] = cl
	}
	if cp := byName["control-plane"]; !cp.Reachable || len(cp.Objects) != 3 {
		t.Errorf("control-plane must still render: %+v", cp)
	}
	if hv := byName["hypervisor"]; hv.Reachable || !strings.Contains(hv.Error, "127.0.0.1:1") {
		t.Errorf("hypervisor: %+v", hv)
	}
	if st := byName["storage"]; st.Reachable || !strings.Contains(st.Error, "not a kubeconfig") || len(st.Objects) != 3 {
		t.Errorf("storage: %+v", st)
	}
	if rep.Summary.Unreachable != 2 || rep.Summary.Healthy {
		t.Errorf("summary %+v", rep.Summary)
	}
}

func TestStatusKubeconfigSecretFaults(t *testing.T) {
	for _, tc := range []struct {
		fault testfleet.KubeconfigFault
		want  string
	}{
		{testfleet.FaultMissing, "kubeconfig Secret fleet-tNNNN/control-plane-kubeconfig not found in the hub"},
		{testfleet.FaultWrongKey, `has neither key "value" nor "value.yaml"`},
		{testfleet.FaultExec, "user.exec plugin"},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			s, flags := loadSample(t, testfleet.SampleOptions{})
			must(t, s.BreakKubeconfig(ctx(t), "control-plane", tc.fault))
			r := run(t, append([]string{"status", "--cluster", "control-plane", "-o", "json"}, flags...)...)
			rep := decode(t, r.stdout)
			if r.code != 1 || len(rep.Clusters) != 1 || rep.Clusters[0].Reachable {
				t.Fatalf("exit %d clusters %+v", r.code, rep.Clusters)
			}
			if got := golden.Normalize(rep.Clusters[0].Error); !strings.Contains(got, tc.want) {
				t.Fatalf("error %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStatusWithoutFluxReport(t *testing.T) {
	_, flags := loadSample(t, testfleet.SampleOptions{NoFluxReport: true})
	r := run(t, append([]string{"status", "--cluster", "management"}, flags...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden.Assert(t, "status-no-fluxreport.tree", r.stdout)
	if !strings.Contains(r.stdout, "no FluxReport") {
		t.Errorf("missing FluxReport not said")
	}
}

func TestStatusHubErrors(t *testing.T) {
	f := testfleet.Get(t)
	// A spoke has no Flux CRDs: pointing the CLI at it is a hub without Flux.
	spokeKubeconfig := f.Dir + "/control-plane.kubeconfig"
	r := run(t, "status", "--kubeconfig", spokeKubeconfig, "--color", "never")
	if r.code != 2 || !strings.Contains(r.stderr, "the Flux CRDs are not installed on the hub") || r.stdout != "" {
		t.Fatalf("no Flux CRDs: %+v", r)
	}
	r = run(t, "status", "--kubeconfig", f.HubKubeconfig, "--server", "https://127.0.0.1:1", "--request-timeout", "5s")
	if r.code != 2 || !strings.Contains(r.stderr, "cannot read the fleet from the hub https://127.0.0.1:1") {
		t.Fatalf("hub down: %+v", r)
	}
	r = run(t, "status", "--kubeconfig", f.HubKubeconfig, "--cluster", "nowhere")
	if r.code != 2 || !strings.Contains(r.stderr, `no cluster "nowhere"`) {
		t.Fatalf("unknown cluster: %+v", r)
	}
}

// TestCompletionFromHub: cluster and Kustomization names complete from the
// real hub, for status --cluster and diff's arguments.
func TestCompletionFromHub(t *testing.T) {
	t.Parallel()
	s, flags := sharedSample(t)
	r := run(t, append(append([]string{"__complete", "status"}, flags...), "--cluster", "c")...)
	if r.code != 0 || !strings.Contains(r.stdout, "control-plane\n") || strings.Contains(r.stdout, "storage") {
		t.Fatalf("status --cluster c<TAB>: %+v", r)
	}
	r = run(t, append(append([]string{"__complete", "diff"}, flags...), "")...)
	for _, want := range []string{"management\n", "hypervisor\n", s.Namespace + "/control-plane-apps\n", s.Namespace + "/storage-rook-operator\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff <TAB> lacks %q:\n%s", want, r.stdout)
		}
	}
}
