package plugin

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestTraceSpokeDeployment: a Deployment on the control-plane spoke leads,
// through its owner labels, to the hub Kustomization control-plane-apps
// (kubeConfig → control-plane-kubeconfig), its GitRepository and revision,
// then to flux-system, which applied control-plane-apps and is the
// FluxReport's sync. Every kubectl spelling of the kind gives the same
// trace; --diff finds it clean, then a hand edit on the spoke as drift.
func TestTraceSpokeDeployment(t *testing.T) {
	t.Parallel()
	s, _ := loadSample(t, testfleet.SampleOptions{})
	sns := s.SpokeNamespace
	r := run(t, traceArgs(s, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane")...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("healthy chain: exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	golden.Assert(t, "trace-spoke.tree", r.stdout)
	tree := r.stdout
	for _, args := range [][]string{
		{"deployment", "keystone-api"}, {"deployments.apps/keystone-api"}, {"Deployment/keystone-api"}, {"deployments.v1.apps", "keystone-api"},
	} {
		r := run(t, traceArgs(s, append(args, "-n", sns("openstack"), "--cluster", "control-plane")...)...)
		if r.code != 0 || r.stdout != tree {
			t.Errorf("trace %v: exit %d, stderr %q, output differs from deploy/keystone-api:\n%s", args, r.code, r.stderr, r.stdout)
		}
	}

	r = run(t, traceArgs(s, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane", "-o", "json")...)
	golden.Assert(t, "trace-spoke.json", r.stdout) // the documented schema
	tr := decodeTrace(t, r.stdout)
	ns := s.Namespace
	if want := "Kustomization/" + ns + "/control-plane-apps ← Kustomization/" + ns + "/flux-system"; chainIDs(tr) != want {
		t.Fatalf("chain %s, want %s", chainIDs(tr), want)
	}
	o := tr.Object
	if !tr.Managed {
		t.Fatalf("managed false, want true")
	}
	if !tr.Summary.Healthy {
		t.Fatalf("summary %+v, want healthy", tr.Summary)
	}
	if !o.Found {
		t.Fatalf("object not found, want found")
	}
	if o.Cluster != "control-plane" {
		t.Fatalf("object on cluster %q, want control-plane", o.Cluster)
	}
	if o.APIVersion != "apps/v1" {
		t.Fatalf("object's apiVersion %q, want apps/v1", o.APIVersion)
	}
	if o.KubeConfig != "Secret/"+ns+"/control-plane-kubeconfig" {
		t.Fatalf("object's kubeconfig %q, want Secret/%s/control-plane-kubeconfig", o.KubeConfig, ns)
	}
	if o.Owner != "Kustomization/"+ns+"/control-plane-apps" {
		t.Fatalf("object's owner %q, want Kustomization/%s/control-plane-apps", o.Owner, ns)
	}
	app, root := tr.Chain[0], tr.Chain[1]
	if app.Cluster != "control-plane" {
		t.Errorf("applier step on cluster %q, want control-plane", app.Cluster)
	}
	if app.KubeConfig != "Secret/"+ns+"/control-plane-kubeconfig" {
		t.Errorf("applier step through %q, want Secret/%s/control-plane-kubeconfig", app.KubeConfig, ns)
	}
	if app.InInventory == nil || !*app.InInventory {
		t.Errorf("applier step: inInventory %v, want true", app.InInventory)
	}
	if app.Revision != s.Revision {
		t.Errorf("applier step: revision %q, want %s", app.Revision, s.Revision)
	}
	if app.SourceRevision != s.Revision {
		t.Errorf("applier step: source revision %q, want %s", app.SourceRevision, s.Revision)
	}
	if app.Source != "GitRepository/"+ns+"/flux-system" {
		t.Errorf("applier step: source %q, want GitRepository/%s/flux-system", app.Source, ns)
	}
	if app.SourceStatus == nil {
		t.Fatalf("applier step: no source status, want Ready at %s", testfleet.SampleURL)
	}
	if app.SourceStatus.URL != testfleet.SampleURL {
		t.Errorf("applier step: source URL %q, want %s", app.SourceStatus.URL, testfleet.SampleURL)
	}
	if app.SourceStatus.Ready != "True" {
		t.Errorf("applier step: source Ready %q, want True", app.SourceStatus.Ready)
	}
	if app.Root {
		t.Errorf("applier step is the root")
	}
	if want := "Deployment/" + sns("openstack") + "/keystone-api"; app.Applies != want {
		t.Errorf("applier step applies %q, want %s", app.Applies, want)
	}
	if !root.Root {
		t.Errorf("root step: root false, want true")
	}
	if root.Cluster != "management" {
		t.Errorf("root step on cluster %q, want management", root.Cluster)
	}
	if root.InInventory == nil || !*root.InInventory {
		t.Errorf("root step: inInventory %v, want true", root.InInventory)
	}
	if root.Applies != app.ID() {
		t.Errorf("root step applies %q, want %s", root.Applies, app.ID())
	}
	if tr.Sync != root.ID() {
		t.Errorf("sync %q, want the root step %s", tr.Sync, root.ID())
	}
	r = run(t, traceArgs(s, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane", "-o", "yaml")...)
	var y trace.Trace
	if err := yaml.UnmarshalStrict([]byte(r.stdout), &y); err != nil {
		t.Fatalf("yaml: %v\n%s", err, r.stdout)
	}
	if chainIDs(&y) != chainIDs(tr) {
		t.Errorf("yaml chain %s, want the json's %s", chainIDs(&y), chainIDs(tr))
	}
	if !y.Summary.Healthy {
		t.Errorf("yaml summary %+v, want healthy", y.Summary)
	}

	// --diff: nothing changed since the reconcile.
	r = run(t, traceArgs(s, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane", "--diff", "--repo", s.RepoDir, "-o", "json")...)
	tr = decodeTrace(t, r.stdout)
	wantExit(t, "--diff on a clean fleet", r, 0)
	if tr.Object.Drift == nil {
		t.Fatalf("--diff on a clean fleet: no drift result, want unchanged")
	}
	if tr.Object.Drift.Action != "unchanged" {
		t.Errorf("--diff on a clean fleet: action %q, want unchanged", tr.Object.Drift.Action)
	}
	if tr.Object.Drift.Kustomization != ns+"/control-plane-apps" {
		t.Errorf("--diff on a clean fleet: Kustomization %q, want %s/control-plane-apps", tr.Object.Drift.Kustomization, ns)
	}
	// Scaled by hand on the spoke: drifted, exit 1, the diff shows it.
	c := ctx(t)
	cp := f(t).Spokes["control-plane"].Client
	dep := &appsv1.Deployment{}
	must(t, cp.Get(c, client.ObjectKey{Namespace: sns("openstack"), Name: "keystone-api"}, dep))
	five := int32(5)
	dep.Spec.Replicas = &five
	must(t, cp.Update(c, dep, client.FieldOwner("kubectl-scale")))
	r = run(t, traceArgs(s, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane", "--diff", "--repo", s.RepoDir)...)
	wantExit(t, "hand-scaled Deployment", r, 1)
	wantContains(t, "hand-scaled Deployment", r.stdout, "git: drifted (Kustomization "+ns+"/control-plane-apps)",
		"-  replicas: 5", "+  replicas: 2", "Deployment/"+sns("openstack")+"/keystone-api drifted from git")
	golden.Assert(t, "trace-drift.tree", r.stdout)
}

// TestTraceHelmRelease: an object on a spoke labelled by a HelmRelease
// (as helm-controller labels what it renders) leads to the HelmRelease
// memcached, which deploys to control-plane, its HelmChart from the
// HelmRepository, then to management-apps, which applied the
// HelmRelease, and to the root sync. The inventory check follows
// status.inventory once helm-controller records one.
func TestTraceHelmRelease(t *testing.T) {
	t.Parallel()
	s, _ := loadSample(t, testfleet.SampleOptions{})
	sns := s.SpokeNamespace
	c := ctx(t)
	ns := s.Namespace
	cp := f(t).Spokes["control-plane"].Client
	must(t, client.IgnoreAlreadyExists(cp.Create(c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sns("memcached")}})))
	name := "memcached-config-" + ns // the spokes are shared between tests
	must(t, cp.Create(c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: sns("memcached"),
		Labels: map[string]string{"helm.toolkit.fluxcd.io/name": "memcached", "helm.toolkit.fluxcd.io/namespace": ns}}}))

	r := run(t, traceArgs(s, "cm", name, "-n", sns("memcached"), "--cluster", "control-plane", "-o", "json")...)
	tr := decodeTrace(t, r.stdout)
	want := "HelmRelease/" + ns + "/memcached ← Kustomization/" + ns + "/management-apps ← Kustomization/" + ns + "/flux-system"
	wantExit(t, "trace of a HelmRelease's ConfigMap", r, 0)
	if chainIDs(tr) != want {
		t.Fatalf("chain %s, want %s", chainIDs(tr), want)
	}
	if !tr.Chain[2].Root {
		t.Fatalf("last step %s is not the root", tr.Chain[2].ID())
	}
	hr := tr.Chain[0]
	if hr.Cluster != "control-plane" {
		t.Fatalf("HelmRelease step on %q, want control-plane", hr.Cluster)
	}
	if hr.Source != "HelmChart/"+ns+"/"+ns+"-memcached" {
		t.Fatalf("HelmRelease step: source %q, want HelmChart/%s/%s-memcached", hr.Source, ns, ns)
	}
	if hr.SourceRevision != "7.4.16" {
		t.Errorf("HelmRelease step: source revision %q, want 7.4.16", hr.SourceRevision)
	}
	if hr.Revision != "7.4.16" {
		t.Errorf("HelmRelease step: revision %q, want 7.4.16", hr.Revision)
	}
	if hr.Chart != "memcached@7.4.16" {
		t.Errorf("HelmRelease step: chart %q, want memcached@7.4.16", hr.Chart)
	}
	if hr.SourceStatus == nil || hr.SourceStatus.From != "HelmRepository/"+ns+"/bitnami" {
		t.Fatalf("HelmRelease step: source status %+v, want from HelmRepository/%s/bitnami", hr.SourceStatus, ns)
	}
	if hr.InInventory != nil {
		t.Fatalf("HelmRelease step: inInventory %v, want unset", *hr.InInventory)
	}
	if mgmt := tr.Chain[1]; mgmt.InInventory == nil || !*mgmt.InInventory {
		t.Errorf("management-apps step: inInventory %v, want true", mgmt.InInventory)
	}
	if mgmt := tr.Chain[1]; mgmt.Applies != hr.ID() {
		t.Errorf("management-apps step applies %q, want %s", mgmt.Applies, hr.ID())
	}

	// helm-controller v1.6 records what it applied in status.inventory.
	hub := f(t).Hub.Client
	rel := &helmv2.HelmRelease{}
	must(t, hub.Get(c, client.ObjectKey{Namespace: ns, Name: "memcached"}, rel))
	rel.Status.Inventory = &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{{ID: sns("memcached") + "_memcached_apps_StatefulSet", Version: "v1"}}}
	must(t, hub.Status().Update(c, rel))
	r = run(t, traceArgs(s, "configmap/"+name, "-n", sns("memcached"), "--cluster", "control-plane")...)
	wantExit(t, "object missing from the HelmRelease's inventory", r, 1)
	wantContains(t, "object missing from the HelmRelease's inventory", r.stdout, "HelmRelease/"+ns+"/memcached · Ready · applied 7.4.16 · not in inventory",
		"ConfigMap/"+sns("memcached")+"/"+name+" is not in the inventory of HelmRelease/"+ns+"/memcached")
	rel.Status.Inventory.Entries = append(rel.Status.Inventory.Entries, helmv2.ResourceRef{ID: sns("memcached") + "_" + name + "__ConfigMap", Version: "v1"})
	must(t, hub.Status().Update(c, rel))
	r = run(t, traceArgs(s, "configmap/"+name, "-n", sns("memcached"), "--cluster", "control-plane")...)
	if r.code != 0 {
		t.Fatalf("listed in the inventory: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden.Assert(t, "trace-helmrelease.tree", r.stdout)

	// Just applied by management-apps, before helm-controller's first
	// reconcile: no status, no HelmChart yet. The step says where the
	// chart is to come from instead of a source.
	must(t, hub.Delete(c, &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ns + "-memcached"}}))
	must(t, hub.Get(c, client.ObjectKey{Namespace: ns, Name: "memcached"}, rel))
	rel.Status = helmv2.HelmReleaseStatus{}
	must(t, hub.Status().Update(c, rel))
	r = run(t, traceArgs(s, "configmap/"+name, "-n", sns("memcached"), "--cluster", "control-plane", "-o", "json")...)
	tr = decodeTrace(t, r.stdout)
	wantExit(t, "no HelmChart yet", r, 1)
	if chainIDs(tr) != want {
		t.Fatalf("no HelmChart yet: chain %s, want %s", chainIDs(tr), want)
	}
	hr = tr.Chain[0]
	if hr.Source != "" {
		t.Errorf("HelmRelease step without a HelmChart: source %q, want none", hr.Source)
	}
	if hr.SourceStatus == nil || hr.SourceStatus.From != "HelmRepository/"+ns+"/bitnami" {
		t.Errorf("HelmRelease step without a HelmChart: source status %+v, want from HelmRepository/%s/bitnami", hr.SourceStatus, ns)
	}
	if hr.Revision != "" {
		t.Errorf("HelmRelease step without a HelmChart: revision %q, want none", hr.Revision)
	}
	if hr.InInventory != nil {
		t.Errorf("HelmRelease step without a HelmChart: inInventory %v, want unset", *hr.InInventory)
	}
	r = run(t, traceArgs(s, "configmap/"+name, "-n", sns("memcached"), "--cluster", "control-plane")...)
	wantExit(t, "no HelmChart yet (tree)", r, 1)
	wantContains(t, "no HelmChart yet (tree)", r.stdout, "source: no HelmChart yet, chart from HelmRepository/"+ns+"/bitnami")
	golden.Assert(t, "trace-helmrelease-nochart.tree", r.stdout)
}

// TestTraceUnmanaged: an object nothing in Flux applied says so, exit 1.
func TestTraceUnmanaged(t *testing.T) {
	t.Parallel()
	s, _ := loadSample(t, testfleet.SampleOptions{})
	sns := s.SpokeNamespace
	name := "by-hand-" + s.Namespace
	must(t, f(t).Spokes["control-plane"].Client.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: sns("openstack")}}))
	r := run(t, traceArgs(s, "configmap/"+name, "-n", sns("openstack"), "--cluster", "control-plane", "-o", "json")...)
	tr := decodeTrace(t, r.stdout)
	wantExit(t, "unmanaged", r, 1)
	if tr.Managed {
		t.Errorf("unmanaged: managed true, want false")
	}
	if len(tr.Chain) != 0 {
		t.Errorf("unmanaged: chain %s, want none", chainIDs(tr))
	}
	if !tr.Object.Found {
		t.Errorf("unmanaged: object not found, want found")
	}
	if tr.Summary.Healthy {
		t.Errorf("unmanaged: summary healthy, want not")
	}
	if want := []string{"ConfigMap/" + sns("openstack") + "/" + name + " is not managed by Flux"}; !slices.Equal(tr.Summary.Problems, want) {
		t.Errorf("unmanaged: problems %q, want %q", tr.Summary.Problems, want)
	}
	r = run(t, traceArgs(s, "configmap/"+name, "-n", sns("openstack"), "--cluster", "control-plane")...)
	wantExit(t, "unmanaged (tree)", r, 1)
	wantContains(t, "unmanaged (tree)", r.stdout, "is not managed by Flux: it has no kustomize.toolkit.fluxcd.io/name or helm.toolkit.fluxcd.io/name labels")
	// Labels naming an applier the hub does not have: not managed either.
	must(t, f(t).Spokes["control-plane"].Client.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name + "-orphan", Namespace: sns("openstack"),
		Labels: map[string]string{"kustomize.toolkit.fluxcd.io/name": "gone", "kustomize.toolkit.fluxcd.io/namespace": s.Namespace}}}))
	r = run(t, traceArgs(s, "configmap/"+name+"-orphan", "-n", sns("openstack"), "--cluster", "control-plane", "-o", "json")...)
	tr = decodeTrace(t, r.stdout)
	wantExit(t, "orphan", r, 1)
	if tr.Managed {
		t.Errorf("orphan: managed true, want false")
	}
	if len(tr.Chain) != 1 {
		t.Fatalf("orphan: chain %s, want one step", chainIDs(tr))
	}
	if tr.Chain[0].Found {
		t.Errorf("orphan: applier %s found, want not", tr.Chain[0].ID())
	}
	if !strings.Contains(tr.Chain[0].Error, "which the hub does not have") {
		t.Errorf("orphan: applier error %q, want it to say the hub does not have it", tr.Chain[0].Error)
	}
	// Labels naming an applier that deploys to another cluster.
	must(t, f(t).Spokes["hypervisor"].Client.Create(ctx(t), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name + "-elsewhere", Namespace: "default",
		Labels: map[string]string{"kustomize.toolkit.fluxcd.io/name": "control-plane-apps", "kustomize.toolkit.fluxcd.io/namespace": s.Namespace}}}))
	r = run(t, traceArgs(s, "configmap/"+name+"-elsewhere", "-n", "default", "--cluster", "hypervisor", "-o", "json")...)
	tr = decodeTrace(t, r.stdout)
	wantExit(t, "applier of another cluster", r, 1)
	if tr.Managed {
		t.Errorf("applier of another cluster: managed true, want false")
	}
	if len(tr.Chain) != 2 {
		t.Fatalf("applier of another cluster: chain %s, want two steps", chainIDs(tr))
	}
	if want := "Kustomization/" + s.Namespace + "/control-plane-apps deploys to cluster control-plane, not to cluster hypervisor where ConfigMap/default/" + name + "-elsewhere is"; tr.Chain[0].Error != want {
		t.Errorf("applier of another cluster: error %q, want %q", tr.Chain[0].Error, want)
	}
	// A Secret is traced by its metadata only: the kubeconfig Secret the
	// test made by hand is unmanaged, and nothing of it is printed.
	for _, o := range []string{"json", "tree"} {
		r = run(t, traceArgs(s, "secret/control-plane-kubeconfig", "-n", s.Namespace, "-o", o)...)
		wantExit(t, "Secret -o "+o, r, 1)
		wantContains(t, "Secret -o "+o, r.stdout, "Secret/"+s.Namespace+"/control-plane-kubeconfig")
		for _, leak := range []string{"BEGIN CERTIFICATE", "client-key-data", "certificate-authority-data", "LS0t"} {
			if strings.Contains(r.stdout+r.stderr, leak) {
				t.Fatalf("trace of a kubeconfig Secret prints its contents (%q)", leak)
			}
		}
	}
}

// TestTraceStale: the GitRepository moved on and control-plane-apps did
// not apply the new revision: stale, exit 1.
func TestTraceStale(t *testing.T) {
	t.Parallel()
	s, _ := loadSample(t, testfleet.SampleOptions{})
	sns := s.SpokeNamespace
	const newRev = "main@sha1:1111111111111111111111111111111111111111"
	must(t, s.AdvanceSource(ctx(t), newRev, "control-plane-apps"))
	r := run(t, traceArgs(s, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane")...)
	if r.code != 1 {
		t.Fatalf("stale: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden.Assert(t, "trace-stale.tree", r.stdout)
	r = run(t, traceArgs(s, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane", "-o", "json")...)
	tr := decodeTrace(t, r.stdout)
	app := tr.Chain[0]
	if !app.Stale {
		t.Errorf("applier step not stale, want stale")
	}
	if app.Revision != s.Revision {
		t.Errorf("applier step: revision %q, want %s", app.Revision, s.Revision)
	}
	if app.SourceRevision != newRev {
		t.Errorf("applier step: source revision %q, want %s", app.SourceRevision, newRev)
	}
	if tr.Chain[1].Stale {
		t.Errorf("root step stale, want not")
	}
	if tr.Summary.Healthy {
		t.Errorf("summary healthy, want not")
	}
	if len(tr.Summary.Problems) != 1 || !strings.Contains(tr.Summary.Problems[0], "control-plane-apps is stale") {
		t.Errorf("problems %q, want one saying control-plane-apps is stale", tr.Summary.Problems)
	}
}

// TestTraceSpokeDown: the spoke cannot be reached, or its Secret is gone:
// exit 2 with the cluster and Secret named, and the chain still shown from
// the hub (control-plane-apps lists the Deployment in its inventory).
func TestTraceSpokeDown(t *testing.T) {
	t.Parallel()
	s, _ := loadSample(t, testfleet.SampleOptions{})
	sns := s.SpokeNamespace
	ns := s.Namespace
	must(t, s.BreakKubeconfig(ctx(t), "control-plane", testfleet.FaultUnreachable))
	r := run(t, traceArgs(s, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane", "--request-timeout", "5s")...)
	wantExit(t, "spoke down", r, 2)
	if want := "error: cannot read Deployment/" + sns("openstack") + "/keystone-api on cluster control-plane (through Secret/" + ns + "/control-plane-kubeconfig)"; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("spoke down: stderr %q, want it to start with %q", r.stderr, want)
	}
	wantContains(t, "spoke down: stderr", r.stderr, "127.0.0.1:1")
	golden.Assert(t, "trace-spoke-down.tree", r.stdout)
	if strings.Contains(r.stdout+r.stderr, "unreachable-token-must-never-be-printed") {
		t.Fatal("output leaks the kubeconfig's token")
	}
	r = run(t, traceArgs(s, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane", "-o", "json")...)
	tr := decodeTrace(t, r.stdout)
	wantExit(t, "spoke down json", r, 2)
	if tr.Object.Found {
		t.Errorf("spoke down json: object found, want not")
	}
	if !tr.Managed {
		t.Errorf("spoke down json: managed false, want true")
	}
	if want := "Kustomization/" + ns + "/control-plane-apps ← Kustomization/" + ns + "/flux-system"; chainIDs(tr) != want {
		t.Errorf("spoke down json: chain %s, want %s", chainIDs(tr), want)
	}
	if tr.Summary.Error == "" {
		t.Errorf("spoke down json: no summary error, want one")
	}
	if tr.Summary.Healthy {
		t.Errorf("spoke down json: summary healthy, want not")
	}

	must(t, s.BreakKubeconfig(ctx(t), "control-plane", testfleet.FaultMissing))
	r = run(t, traceArgs(s, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane")...)
	wantExit(t, "Secret missing", r, 2)
	wantContains(t, "Secret missing: stderr", r.stderr, "kubeconfig Secret "+ns+"/control-plane-kubeconfig not found in the hub")
	wantContains(t, "Secret missing: stdout", r.stdout, "Kustomization/"+ns+"/control-plane-apps")
}

// TestTraceBadInput: what cannot be traced is exit 2 with an error that
// says what to do; nothing goes to stdout.
func TestTraceBadInput(t *testing.T) {
	t.Parallel()
	s, _ := sharedSample(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicators/x", "--cluster", "control-plane"}, `unknown resource type "frobnicators" on cluster control-plane: list its types with kubectl api-resources`},
		{[]string{"deploy/nope", "-n", "openstack", "--cluster", "control-plane"}, `Deployment/openstack/nope not found on cluster control-plane: check the kind, name, namespace and cluster`},
		{[]string{"deploy/keystone-api", "--cluster", "nowhere"}, `no cluster "nowhere" in the fleet (clusters: management, control-plane, hypervisor, storage)`},
		{[]string{"keystone-api"}, `"keystone-api" is not KIND/NAME`},
		{[]string{}, "trace takes one object"},
		{[]string{"deploy/", "-n", "openstack"}, "the kind or name is empty"},
		{[]string{"deploy/keystone-api", "--repo", "."}, "--repo is only used with --diff"},
		{[]string{"deploy/keystone-api", "-o", "table"}, "must be one of tree|json|yaml"},
	} {
		r := run(t, traceArgs(s, tc.args...)...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2", tc.args, r.code)
		}
		if !strings.HasPrefix(r.stderr, "error: ") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: stderr %q, want \"error: \" and %q", tc.args, r.stderr, tc.want)
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", tc.args, r.stdout)
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

// TestTraceRealController: what the real kustomize-controller writes —
// owner labels on what it applies to the spokes and the hub, inventories
// and revisions in the hub's status — is what trace follows.
func TestTraceRealController(t *testing.T) {
	t.Parallel()
	if !testing.Short() {
		if _, err := testfleet.FluxBinDir(); err != nil {
			t.Fatal(err) // before starting the fleet: fail fast
		}
	}
	fl := testfleet.Get(t)
	setup, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := fl.LoadSampleWithController(setup, testfleet.SampleOptions{Namespace: testfleet.Namespace(t), OwnNamespaces: true})
	if err != nil {
		t.Fatalf("real kustomize-controller: %v", err)
	}
	sns := s.SpokeNamespace
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kustomize-controller log %s (tail):\n%s", s.Controller.LogFile, s.Controller.LogTail(60))
		}
		if err := s.Close(); err != nil {
			t.Errorf("stopping kustomize-controller: %v", err)
		}
	})
	must(t, s.WriteFluxReport(ctx(t)))
	ns := s.Namespace

	r := run(t, traceArgs(s.Sample, "deploy/keystone-api", "-n", sns("openstack"), "--cluster", "control-plane", "-o", "json")...)
	tr := decodeTrace(t, r.stdout)
	wantExit(t, "trace after the real controller", r, 0)
	if want := "Kustomization/" + ns + "/control-plane-apps ← Kustomization/" + ns + "/flux-system"; chainIDs(tr) != want {
		t.Fatalf("chain %s, want %s", chainIDs(tr), want)
	}
	for _, st := range tr.Chain {
		if st.Revision != s.Revision {
			t.Errorf("step %s: revision %q, want %s", st.ID(), st.Revision, s.Revision)
		}
		if st.InInventory == nil || !*st.InInventory {
			t.Errorf("step %s: inInventory %v, want true", st.ID(), st.InInventory)
		}
		if st.State != "Ready" {
			t.Errorf("step %s: state %q, want Ready", st.ID(), st.State)
		}
		if st.Stale {
			t.Errorf("step %s: stale, want not", st.ID())
		}
	}
	if want := "Kustomization/" + ns + "/control-plane-apps"; tr.Object.Owner != want {
		t.Errorf("owner %q, want %s", tr.Object.Owner, want)
	}
	if !tr.Chain[1].Root {
		t.Errorf("step %s is not the root", tr.Chain[1].ID())
	}

	// A hub object: the Kustomization control-plane-apps itself.
	r = run(t, traceArgs(s.Sample, "kustomizations.kustomize.toolkit.fluxcd.io/control-plane-apps", "-n", ns, "-o", "json")...)
	tr = decodeTrace(t, r.stdout)
	wantExit(t, "hub Kustomization", r, 0)
	if want := "Kustomization/" + ns + "/flux-system"; chainIDs(tr) != want {
		t.Fatalf("hub Kustomization: chain %s, want %s", chainIDs(tr), want)
	}
	if !tr.Object.Hub {
		t.Errorf("hub Kustomization: object not on the hub")
	}
	if !tr.Chain[0].Root {
		t.Errorf("hub Kustomization: step %s is not the root", tr.Chain[0].ID())
	}
	if tr.Chain[0].Cluster != "management" {
		t.Errorf("hub Kustomization: root on cluster %q, want management", tr.Chain[0].Cluster)
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
	must(t, cp.Create(c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: target}}))
	name := target + "-webapp"
	must(t, cp.Create(c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: target,
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
	wantContains(t, "drift diff", d.Diff, "-  greeting: edited-by-hand", "+  greeting: from-configmap")
}
