package plugin

import (
	"context"
	"encoding/json"
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
var shared testfleet.SharedSample

// sharedSample is the package's one read-only sample (loaded as loadSample
// does, see testfleet.SharedSample): a test using it calls t.Parallel
// first and never edits the sample, its checkout or the fleet.
func sharedSample(t *testing.T) (*testfleet.Sample, []string) {
	t.Helper()
	s := shared.Get(t)
	return s, sampleFlags(s.Fleet, s)
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
	if rep.Summary.Healthy {
		t.Errorf("summary healthy, want not")
	}
	if rep.Summary.Failed != 3 {
		t.Errorf("summary: %d failed, want 3", rep.Summary.Failed)
	}
	if rep.Summary.Suspended != 1 {
		t.Errorf("summary: %d suspended, want 1", rep.Summary.Suspended)
	}
	if rep.Summary.Stale != 1 {
		t.Errorf("summary: %d stale, want 1", rep.Summary.Stale)
	}
}

func TestStatusSuspendedButCurrentIsHealthy(t *testing.T) {
	s, flags := loadSample(t, testfleet.SampleOptions{})
	must(t, s.Suspend(ctx(t), "HelmRelease", "memcached"))
	r := run(t, append([]string{"status", "-o", "json"}, flags...)...)
	rep := decode(t, r.stdout)
	wantExit(t, "suspended but not stale", r, 0)
	if !rep.Summary.Healthy {
		t.Errorf("suspended but not stale: summary %+v, want healthy", rep.Summary)
	}
	if rep.Summary.Suspended != 1 {
		t.Errorf("suspended but not stale: %d suspended, want 1", rep.Summary.Suspended)
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
	if cp := byName["control-plane"]; !cp.Reachable {
		t.Errorf("control-plane must still render: not reachable: %s", cp.Error)
	}
	if cp := byName["control-plane"]; len(cp.Objects) != 3 {
		t.Errorf("control-plane must still render: %d objects, want 3", len(cp.Objects))
	}
	if hv := byName["hypervisor"]; hv.Reachable {
		t.Errorf("hypervisor reachable, want not")
	}
	if hv := byName["hypervisor"]; !strings.Contains(hv.Error, "127.0.0.1:1") {
		t.Errorf("hypervisor error %q, want it to name 127.0.0.1:1", hv.Error)
	}
	if st := byName["storage"]; st.Reachable {
		t.Errorf("storage reachable, want not")
	}
	if st := byName["storage"]; !strings.Contains(st.Error, "not a kubeconfig") {
		t.Errorf("storage error %q, want it to say not a kubeconfig", st.Error)
	}
	if st := byName["storage"]; len(st.Objects) != 3 {
		t.Errorf("storage: %d objects, want 3 (read from the hub)", len(st.Objects))
	}
	if rep.Summary.Unreachable != 2 {
		t.Errorf("summary: %d unreachable, want 2", rep.Summary.Unreachable)
	}
	if rep.Summary.Healthy {
		t.Errorf("summary healthy, want not")
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
			wantExit(t, "status of a cluster with a broken Secret", r, 1)
			if len(rep.Clusters) != 1 {
				t.Fatalf("clusters %+v, want control-plane only", rep.Clusters)
			}
			if rep.Clusters[0].Reachable {
				t.Fatalf("cluster %s reachable, want not", rep.Clusters[0].Name)
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
	wantExit(t, "no Flux CRDs", r, 2)
	wantContains(t, "no Flux CRDs: stderr", r.stderr, "the Flux CRDs are not installed on the hub")
	if r.stdout != "" {
		t.Fatalf("no Flux CRDs: stdout %q, want nothing", r.stdout)
	}
	r = run(t, "status", "--kubeconfig", f.HubKubeconfig, "--server", "https://127.0.0.1:1", "--request-timeout", "5s")
	wantExit(t, "hub down", r, 2)
	wantContains(t, "hub down: stderr", r.stderr, "cannot read the fleet from the hub https://127.0.0.1:1")
	r = run(t, "status", "--kubeconfig", f.HubKubeconfig, "--cluster", "nowhere")
	wantExit(t, "unknown cluster", r, 2)
	wantContains(t, "unknown cluster: stderr", r.stderr, `no cluster "nowhere"`)
}

// TestCompletionFromHub: cluster and Kustomization names complete from the
// real hub, for status --cluster and diff's arguments.
func TestCompletionFromHub(t *testing.T) {
	t.Parallel()
	s, flags := sharedSample(t)
	r := run(t, append(append([]string{"__complete", "status"}, flags...), "--cluster", "c")...)
	wantExit(t, "status --cluster c<TAB>", r, 0)
	wantContains(t, "status --cluster c<TAB>", r.stdout, "control-plane\n")
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
