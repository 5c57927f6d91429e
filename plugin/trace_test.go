package plugin

import (
	"encoding/json"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"slices"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/trace"
)

// traceArgs are `kubectl c5c3 trace args...` pointed at a loaded sample:
// its hub namespace holds the Flux objects, Secrets and FluxReport.
func traceArgs(s *testfleet.Sample, args ...string) []string {
	out := append([]string{"trace"}, args...)
	return append(out, "--kubeconfig", s.Fleet.HubKubeconfig, "--hub-namespace", s.Namespace, "--flux-namespace", s.Namespace, "--color", "never")
}

// decodeTrace parses -o json output strictly.
func decodeTrace(t *testing.T, out string) *trace.Trace {
	t.Helper()
	var tr trace.Trace
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tr); err != nil {
		t.Fatalf("trace -o json is not an ObjectTrace: %v\n%s", err, out)
	}
	if tr.APIVersion != trace.APIVersion || tr.Kind != trace.Kind {
		t.Fatalf("schema header %s/%s", tr.APIVersion, tr.Kind)
	}
	return &tr
}

func chainIDs(tr *trace.Trace) string {
	var ids []string
	for _, st := range tr.Chain {
		ids = append(ids, st.ID())
	}
	return strings.Join(ids, " ← ")
}

// traceCase is one `kubectl c5c3 trace` run: its arguments, exit code and
// output. What the trace engine finds (chains, inventories, staleness,
// unmanaged objects, unreachable spokes) is tested in trace/ on a fake
// fleet; these rows test the command on the test fleet.
type traceCase struct {
	name string
	// setup changes the sample's fleet for this row and the rows after it.
	setup func(t *testing.T, s *testfleet.Sample)
	// args follow "trace"; {ns} is the sample's hub namespace, {openstack}
	// and {memcached} its spoke namespaces, {repo} its checkout.
	args []string
	code int
	// golden is the expected stdout (testdata/golden); without it stdout
	// holds each of stdout, and is empty when stdout is nil too.
	golden string
	stdout []string
	// stderr starts with stderr[0] and holds the others; nil: empty.
	stderr []string
	// check looks further into stdout (-o json|yaml).
	check func(t *testing.T, s *testfleet.Sample, out string)
}

// expand fills the sample's names into a row's words.
func expand(s *testfleet.Sample, words ...string) []string {
	r := strings.NewReplacer("{ns}", s.Namespace, "{openstack}", s.SpokeNamespace("openstack"),
		"{memcached}", s.SpokeNamespace("memcached"), "{repo}", s.RepoDir)
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = r.Replace(w)
	}
	return out
}

// secretLeaks are what a kubeconfig Secret holds and no output may show.
var secretLeaks = []string{"BEGIN CERTIFICATE", "client-key-data", "certificate-authority-data", "LS0t", "unreachable-token-must-never-be-printed"}

// TestTraceCommand runs `kubectl c5c3 trace` on two samples of the test
// fleet, row after row: bad input (exit 2, nothing on stdout), a
// Deployment on the control-plane spoke in every output format and
// spelling of its kind, an unmanaged ConfigMap and a kubeconfig Secret
// (exit 1), --diff clean then after a hand edit (exit 1), an object a
// chart rendered through its HelmRelease, then before helm-controller made
// the HelmChart, a stale applier; on the second sample the spoke
// unreachable and its kubeconfig Secret gone (exit 2).
func TestTraceCommand(t *testing.T) {
	t.Parallel()
	deploy := []string{"deploy/keystone-api", "-n", "{openstack}", "--cluster", "control-plane"}
	hrConfigMap := []string{"configmap/memcached-config-{ns}", "-n", "{memcached}", "--cluster", "control-plane"}
	with := func(base []string, more ...string) []string { return append(slices.Clone(base), more...) }
	for _, group := range [][]traceCase{{
		{name: "unknown resource type", args: []string{"frobnicators/x", "--cluster", "control-plane"}, code: 2,
			stderr: []string{"error: ", `unknown resource type "frobnicators" on cluster control-plane: list its types with kubectl api-resources`}},
		{name: "no such object", args: []string{"deploy/nope", "-n", "openstack", "--cluster", "control-plane"}, code: 2,
			stderr: []string{"error: ", `Deployment/openstack/nope not found on cluster control-plane: check the kind, name, namespace and cluster`}},
		{name: "no such cluster", args: []string{"deploy/keystone-api", "--cluster", "nowhere"}, code: 2,
			stderr: []string{"error: ", `no cluster "nowhere" in the fleet (clusters: management, control-plane, hypervisor, storage)`}},
		{name: "not KIND/NAME", args: []string{"keystone-api"}, code: 2, stderr: []string{"error: ", `"keystone-api" is not KIND/NAME`}},
		{name: "no object", args: []string{}, code: 2, stderr: []string{"error: ", "trace takes one object"}},
		{name: "empty name", args: []string{"deploy/", "-n", "openstack"}, code: 2, stderr: []string{"error: ", "the kind or name is empty"}},
		{name: "--repo without --diff", args: []string{"deploy/keystone-api", "--repo", "."}, code: 2, stderr: []string{"error: ", "--repo is only used with --diff"}},
		{name: "-o table", args: []string{"deploy/keystone-api", "-o", "table"}, code: 2, stderr: []string{"error: ", "must be one of tree|json|yaml"}},

		{name: "spoke Deployment", args: deploy, golden: "trace-spoke.tree"},
		{name: "spoke Deployment as deployment NAME", args: []string{"deployment", "keystone-api", "-n", "{openstack}", "--cluster", "control-plane"}, golden: "trace-spoke.tree"},
		{name: "spoke Deployment as deployments.apps/NAME", args: []string{"deployments.apps/keystone-api", "-n", "{openstack}", "--cluster", "control-plane"}, golden: "trace-spoke.tree"},
		{name: "spoke Deployment as Deployment/NAME", args: []string{"Deployment/keystone-api", "-n", "{openstack}", "--cluster", "control-plane"}, golden: "trace-spoke.tree"},
		{name: "spoke Deployment as deployments.v1.apps NAME", args: []string{"deployments.v1.apps", "keystone-api", "-n", "{openstack}", "--cluster", "control-plane"}, golden: "trace-spoke.tree"},
		{name: "spoke Deployment -o json", args: with(deploy, "-o", "json"), golden: "trace-spoke.json", // the documented schema
			check: func(t *testing.T, _ *testfleet.Sample, out string) { decodeTrace(t, out) }},
		{name: "spoke Deployment -o yaml", args: with(deploy, "-o", "yaml"), stdout: []string{"kind: ObjectTrace"},
			check: func(t *testing.T, s *testfleet.Sample, out string) {
				var y trace.Trace
				if err := yaml.UnmarshalStrict([]byte(out), &y); err != nil {
					t.Fatalf("yaml: %v\n%s", err, out)
				}
				if want := "Kustomization/" + s.Namespace + "/control-plane-apps ← Kustomization/" + s.Namespace + "/flux-system"; chainIDs(&y) != want {
					t.Errorf("yaml chain %s, want %s", chainIDs(&y), want)
				}
				if !y.Summary.Healthy {
					t.Errorf("yaml summary %+v, want healthy", y.Summary)
				}
			}},
		{name: "unmanaged ConfigMap", code: 1,
			setup: func(t *testing.T, s *testfleet.Sample) {
				expect.NoError(t, f(t).Spokes["control-plane"].Client.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "by-hand-" + s.Namespace, Namespace: s.SpokeNamespace("openstack")}}))
			},
			args:   []string{"configmap/by-hand-{ns}", "-n", "{openstack}", "--cluster", "control-plane"},
			stdout: []string{"is not managed by Flux: it has no kustomize.toolkit.fluxcd.io/name or helm.toolkit.fluxcd.io/name labels"}},
		{name: "kubeconfig Secret -o json", args: []string{"secret/control-plane-kubeconfig", "-n", "{ns}", "-o", "json"}, code: 1,
			stdout: []string{"Secret/{ns}/control-plane-kubeconfig"}},
		{name: "kubeconfig Secret", args: []string{"secret/control-plane-kubeconfig", "-n", "{ns}"}, code: 1,
			stdout: []string{"Secret/{ns}/control-plane-kubeconfig"}},
		{name: "--diff on a clean fleet", args: with(deploy, "--diff", "--repo", "{repo}", "-o", "json"), stdout: []string{`"drift"`},
			check: func(t *testing.T, s *testfleet.Sample, out string) {
				tr := decodeTrace(t, out)
				if tr.Object.Drift == nil {
					t.Fatalf("no drift result, want unchanged")
				}
				if tr.Object.Drift.Action != "unchanged" {
					t.Errorf("action %q, want unchanged", tr.Object.Drift.Action)
				}
				if tr.Object.Drift.Kustomization != s.Namespace+"/control-plane-apps" {
					t.Errorf("Kustomization %q, want %s/control-plane-apps", tr.Object.Drift.Kustomization, s.Namespace)
				}
			}},
		{name: "--diff on a Deployment scaled by hand", code: 1, golden: "trace-drift.tree",
			setup: func(t *testing.T, s *testfleet.Sample) {
				cp := f(t).Spokes["control-plane"].Client
				dep := &appsv1.Deployment{}
				expect.NoError(t, cp.Get(ctx(t), client.ObjectKey{Namespace: s.SpokeNamespace("openstack"), Name: "keystone-api"}, dep))
				five := int32(5)
				dep.Spec.Replicas = &five
				expect.NoError(t, cp.Update(ctx(t), dep, client.FieldOwner("kubectl-scale")))
			},
			args: with(deploy, "--diff", "--repo", "{repo}")},
		{name: "a chart's ConfigMap listed in its HelmRelease's inventory", golden: "trace-helmrelease.tree",
			setup: func(t *testing.T, s *testfleet.Sample) {
				c, ns, mns := ctx(t), s.Namespace, s.SpokeNamespace("memcached")
				cp := f(t).Spokes["control-plane"].Client
				expect.NoError(t, client.IgnoreAlreadyExists(cp.Create(c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: mns}})))
				name := "memcached-config-" + ns
				expect.NoError(t, cp.Create(c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mns,
					Labels: map[string]string{"helm.toolkit.fluxcd.io/name": "memcached", "helm.toolkit.fluxcd.io/namespace": ns}}}))
				// helm-controller v1.6 records what it applied in status.inventory.
				hub := f(t).Hub.Client
				rel := &helmv2.HelmRelease{}
				expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: ns, Name: "memcached"}, rel))
				rel.Status.Inventory = &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{
					{ID: mns + "_memcached_apps_StatefulSet", Version: "v1"}, {ID: mns + "_" + name + "__ConfigMap", Version: "v1"}}}
				expect.NoError(t, hub.Status().Update(c, rel))
			},
			args: hrConfigMap},
		{name: "a chart's ConfigMap before helm-controller made the HelmChart", code: 1, golden: "trace-helmrelease-nochart.tree",
			setup: func(t *testing.T, s *testfleet.Sample) {
				c, ns, hub := ctx(t), s.Namespace, f(t).Hub.Client
				expect.NoError(t, hub.Delete(c, &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ns + "-memcached"}}))
				rel := &helmv2.HelmRelease{}
				expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: ns, Name: "memcached"}, rel))
				rel.Status = helmv2.HelmReleaseStatus{}
				expect.NoError(t, hub.Status().Update(c, rel))
			},
			args: hrConfigMap},
		{name: "stale applier", code: 1, golden: "trace-stale.tree",
			setup: func(t *testing.T, s *testfleet.Sample) {
				expect.NoError(t, s.AdvanceSource(ctx(t), "main@sha1:1111111111111111111111111111111111111111", "control-plane-apps"))
			},
			args: deploy},
	}, {
		{name: "spoke unreachable", code: 2, golden: "trace-spoke-down.tree",
			setup: func(t *testing.T, s *testfleet.Sample) {
				expect.NoError(t, s.BreakKubeconfig(ctx(t), "control-plane", testfleet.FaultUnreachable))
			},
			args:   with(deploy, "--request-timeout", "5s"),
			stderr: []string{"error: cannot read Deployment/{openstack}/keystone-api on cluster control-plane (through Secret/{ns}/control-plane-kubeconfig)", "127.0.0.1:1"}},
		{name: "spoke unreachable -o json", code: 2, args: with(deploy, "-o", "json"), stdout: []string{`"managed": true`},
			stderr: []string{"error: "}},
		{name: "kubeconfig Secret missing", code: 2,
			setup: func(t *testing.T, s *testfleet.Sample) {
				expect.NoError(t, s.BreakKubeconfig(ctx(t), "control-plane", testfleet.FaultMissing))
			},
			args:   deploy,
			stdout: []string{"Kustomization/{ns}/control-plane-apps"},
			stderr: []string{"error: ", "kubeconfig Secret {ns}/control-plane-kubeconfig not found in the hub"}},
	}} {
		s, _ := loadSample(t, testfleet.SampleOptions{})
		for _, tc := range group {
			t.Run(tc.name, func(t *testing.T) {
				if tc.setup != nil {
					tc.setup(t, s)
				}
				r := run(t, traceArgs(s, expand(s, tc.args...)...)...)
				wantExit(t, "trace "+tc.name, r, tc.code)
				for _, leak := range secretLeaks {
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
					expect.Contains(t, "stdout", r.stdout, expand(s, tc.stdout...)...)
				}
				wantStderr(t, r.stderr, expand(s, tc.stderr...))
				if tc.check != nil {
					tc.check(t, s, r.stdout)
				}
			})
		}
	}
}

// TestTraceCompletion: kinds complete from the cluster's discovery, names
// from the objects of that kind in -n, clusters from the hub.
func TestTraceCompletion(t *testing.T) {
	t.Parallel()
	s, _ := sharedSample(t)
	sns := s.SpokeNamespace
	comp := func(words ...string) string {
		args := append([]string{"__complete"}, traceArgs(s, "--cluster", "control-plane", "-n", sns("openstack"))...)
		return run(t, append(args, words...)...).stdout
	}
	if out := comp("deployments.a"); !strings.Contains(out, "deployments.apps\n") || strings.Contains(out, "pods") {
		t.Errorf("kinds: %s", out)
	}
	if out := comp("deploy/keys"); !strings.Contains(out, "deploy/keystone-api\n") || strings.Contains(out, "glance") {
		t.Errorf("KIND/NAME: %s", out)
	}
	if out := comp("deployment", "g"); !strings.Contains(out, "glance-api\n") || strings.Contains(out, "keystone") {
		t.Errorf("KIND NAME: %s", out)
	}
	r := run(t, "__complete", "trace", "--kubeconfig", s.Fleet.HubKubeconfig, "--hub-namespace", s.Namespace, "--cluster", "h")
	if !strings.Contains(r.stdout, "hypervisor\n") || strings.Contains(r.stdout, "storage") {
		t.Errorf("--cluster: %s", r.stdout)
	}
}

// TestTraceHelmReleaseDiff: --diff on an object a chart renders renders
// its HelmRelease (from helm's repotest chart repository) from the build
// of the Kustomization that applies the HelmRelease, and dry-runs it on
// the spoke: a hand edit of the live ConfigMap is drift.
func TestTraceHelmReleaseDiff(t *testing.T) {
	t.Parallel()
	charts := chartServers(t)
	target := "helm-" + testfleet.Namespace(t)
	s, _ := loadSample(t, testfleet.SampleOptions{Source: helmGitops(t, charts.HTTP.URL(), target)})
	useChartCache(t, t.TempDir())
	c := ctx(t)
	ns := s.Namespace
	cp := f(t).Spokes["control-plane"].Client
	expect.NoError(t, cp.Create(c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: target}}))
	name := target + "-webapp"
	expect.NoError(t, cp.Create(c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: target,
		Labels: map[string]string{"helm.toolkit.fluxcd.io/name": "webapp", "helm.toolkit.fluxcd.io/namespace": ns}},
		Data: map[string]string{"greeting": "edited-by-hand"}}))

	r := run(t, traceArgs(s, "configmap/"+name, "-n", target, "--cluster", "control-plane", "--diff", "--repo", s.RepoDir, "-o", "json")...)
	tr := decodeTrace(t, r.stdout)
	if want := "HelmRelease/" + ns + "/webapp ← Kustomization/" + ns + "/flux-system"; chainIDs(tr) != want {
		t.Fatalf("exit %d stderr %q chain %s, want %s", r.code, r.stderr, chainIDs(tr), want)
	}
	wantExit(t, "--diff of a chart's ConfigMap edited by hand", r, 1)
	d := tr.Object.Drift
	if d == nil {
		t.Fatalf("no drift result, want drifted")
	}
	if d.Action != "drifted" {
		t.Errorf("drift action %q, want drifted", d.Action)
	}
	if d.HelmRelease != ns+"/webapp" {
		t.Errorf("drift HelmRelease %q, want %s/webapp", d.HelmRelease, ns)
	}
	if d.Kustomization != ns+"/flux-system" {
		t.Errorf("drift Kustomization %q, want %s/flux-system", d.Kustomization, ns)
	}
	expect.Contains(t, "drift diff", d.Diff, "-  greeting: edited-by-hand", "+  greeting: from-configmap")
}
