package trace_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/fakefleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/status"
	"github.com/c5c3/kubectl-c5c3/trace"
)

// The fake fleet of these tests: the hub's flux-system Kustomization (the
// FluxReport's sync) applies control-plane-apps (to the control-plane
// spoke, listing Deployment openstack/keystone-api), management-apps (on
// the hub, listing the HelmRelease memcached, which deploys chart
// memcached 7.4.16 from HelmRepository bitnami to control-plane) and
// hypervisor (to the hypervisor spoke).
const (
	ns      = "flux-system"
	rev     = "main@sha1:0123456789012345678901234567890123456789"
	newRev  = "main@sha1:1111111111111111111111111111111111111111"
	repoURL = "https://git.example.com/c5c3-gitops.git"
)

var readyTrue = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: "ReconciliationSucceeded", Message: "Applied"}}

func fluxLabels(kind, name string) map[string]string {
	group := kustomizev1.GroupVersion.Group
	if kind == fleet.KindHelmRelease {
		group = helmv2.GroupVersion.Group
	}
	return map[string]string{group + "/name": name, group + "/namespace": ns}
}

// kustomization is the hub Kustomization name, applied by parent (itself
// for the root), deploying through secret ("" for the hub), at rev and
// listing inventory.
func kustomization(name, parent, secret string, inventory ...string) *kustomizev1.Kustomization {
	k := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: fluxLabels(fleet.KindKustomization, parent)},
		Spec: kustomizev1.KustomizationSpec{Path: "./clusters/" + name,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}}
	if secret != "" {
		k.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: secret}}
	}
	k.Status.LastAppliedRevision, k.Status.LastAttemptedRevision = rev, rev
	k.Status.Conditions = readyTrue
	k.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}}
	for _, id := range inventory {
		k.Status.Inventory.Entries = append(k.Status.Inventory.Entries, kustomizev1.ResourceRef{ID: id, Version: "v1"})
	}
	return k
}

// memcached is the HelmRelease as helm-controller leaves it after
// installing 7.4.16 from its HelmChart (without status.inventory).
func memcached() *helmv2.HelmRelease {
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "memcached", Labels: fluxLabels(fleet.KindKustomization, "management-apps")},
		Spec: helmv2.HelmReleaseSpec{
			KubeConfig: &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "control-plane-kubeconfig"}},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "memcached", Version: "7.4.16",
				SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "bitnami"}}}}}
	hr.Status.HelmChart = ns + "/" + ns + "-memcached"
	hr.Status.LastAttemptedRevision = "7.4.16"
	hr.Status.History = helmv2.Snapshots{{Name: "memcached", Namespace: "memcached", Version: 1, ChartName: "memcached", ChartVersion: "7.4.16", Status: "deployed"}}
	hr.Status.Conditions = readyTrue
	return hr
}

// source is a Ready source-controller object with an artifact at revision.
func source(kind, name, revision string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec, "status": map[string]any{
		"artifact":   map[string]any{"revision": revision},
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "stored artifact"}}}}}
	u.SetAPIVersion("source.toolkit.fluxcd.io/v1")
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func fluxReport() *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{
		"sync": map[string]any{"id": "kustomization/flux-system", "path": "clusters/management", "ready": true, "source": repoURL}}}}
	u.SetGroupVersionKind(fleet.FluxReportGVK)
	u.SetNamespace(ns)
	u.SetName("flux")
	return u
}

func configMap(namespace, name string, labels map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}}
}

// hubObjects is the healthy hub; spoke objects are the control-plane's.
func hubObjects() (objs []client.Object, root, cpApps, mgmtApps *kustomizev1.Kustomization, hr *helmv2.HelmRelease, gitRepo *unstructured.Unstructured, helmChart *unstructured.Unstructured) {
	root = kustomization("flux-system", "flux-system", "",
		ns+"_control-plane-apps_kustomize.toolkit.fluxcd.io_Kustomization", ns+"_management-apps_kustomize.toolkit.fluxcd.io_Kustomization",
		ns+"_hypervisor_kustomize.toolkit.fluxcd.io_Kustomization")
	cpApps = kustomization("control-plane-apps", "flux-system", "control-plane-kubeconfig", "openstack_keystone-api_apps_Deployment")
	mgmtApps = kustomization("management-apps", "flux-system", "", ns+"_memcached_helm.toolkit.fluxcd.io_HelmRelease")
	hr = memcached()
	gitRepo = source("GitRepository", "flux-system", rev, map[string]any{"url": repoURL})
	helmChart = source("HelmChart", ns+"-memcached", "7.4.16", map[string]any{"chart": "memcached", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "bitnami"}})
	objs = []client.Object{root, cpApps, mgmtApps, kustomization("hypervisor", "flux-system", "hypervisor-kubeconfig"), hr, gitRepo, helmChart,
		source("HelmRepository", "bitnami", "sha256:abc", map[string]any{"url": "https://charts.example.com"}), fluxReport()}
	return
}

func spokeObjects() (controlPlane, hypervisor []client.Object) {
	controlPlane = []client.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "openstack", Name: "keystone-api", Labels: fluxLabels(fleet.KindKustomization, "control-plane-apps")}},
		configMap("memcached", "memcached-config", fluxLabels(fleet.KindHelmRelease, "memcached")),
		configMap("openstack", "by-hand", nil),
		configMap("openstack", "orphan", fluxLabels(fleet.KindKustomization, "gone")),
	}
	hypervisor = []client.Object{configMap("default", "elsewhere", fluxLabels(fleet.KindKustomization, "control-plane-apps"))}
	return
}

// chainOf is the chain's step IDs, applier first.
func chainOf(tr *trace.Trace) string {
	var ids []string
	for _, st := range tr.Chain {
		ids = append(ids, st.ID())
	}
	return strings.Join(ids, " ← ")
}

func inInventory(st trace.Step) string {
	if st.InInventory == nil {
		return "unset"
	}
	if *st.InInventory {
		return "true"
	}
	return "false"
}

// TestTraceChains traces objects of the fake fleet, one situation each:
// the chain (applier first, up to the root), whether Flux manages the
// object, and what the trace says about each step.
func TestTraceChains(t *testing.T) {
	cpApps, mgmtApps, root := "Kustomization/"+ns+"/control-plane-apps", "Kustomization/"+ns+"/management-apps", "Kustomization/"+ns+"/flux-system"
	hrID := "HelmRelease/" + ns + "/memcached"
	type fleetEdit struct {
		root, cpApps, mgmtApps *kustomizev1.Kustomization
		hr                     *helmv2.HelmRelease
		gitRepo, helmChart     *unstructured.Unstructured
		drop                   []client.Object // hub objects to leave out
		down                   map[string]error
	}
	for _, tc := range []struct {
		name                     string
		edit                     func(*fleetEdit)
		typ, object, on, cluster string
		chain                    string
		managed, found, healthy  bool
		problems                 []string
		check                    func(t *testing.T, tr *trace.Trace)
	}{{
		name: "a spoke Deployment: its applier, then the root sync",
		typ:  "deploy", object: "keystone-api", on: "openstack", cluster: "control-plane",
		chain: cpApps + " ← " + root, managed: true, found: true, healthy: true, problems: []string{},
		check: func(t *testing.T, tr *trace.Trace) {
			o := tr.Object
			for _, c := range []struct{ what, got, want string }{
				{"object's cluster", o.Cluster, "control-plane"},
				{"object's apiVersion", o.APIVersion, "apps/v1"},
				{"object's kubeconfig", o.KubeConfig, "Secret/" + ns + "/control-plane-kubeconfig"},
				{"object's owner", o.Owner, cpApps},
				{"sync", tr.Sync, root},
			} {
				if c.got != c.want {
					t.Errorf("%s %q, want %q", c.what, c.got, c.want)
				}
			}
			app, top := tr.Chain[0], tr.Chain[1]
			for _, c := range []struct{ what, got, want string }{
				{"applier step: cluster", app.Cluster, "control-plane"},
				{"applier step: kubeconfig", app.KubeConfig, "Secret/" + ns + "/control-plane-kubeconfig"},
				{"applier step: inInventory", inInventory(app), "true"},
				{"applier step: revision", app.Revision, rev},
				{"applier step: source revision", app.SourceRevision, rev},
				{"applier step: source", app.Source, "GitRepository/" + ns + "/flux-system"},
				{"applier step: applies", app.Applies, "Deployment/openstack/keystone-api"},
				{"root step: cluster", top.Cluster, "management"},
				{"root step: inInventory", inInventory(top), "true"},
				{"root step: applies", top.Applies, app.ID()},
			} {
				if c.got != c.want {
					t.Errorf("%s %q, want %q", c.what, c.got, c.want)
				}
			}
			if app.Root {
				t.Errorf("applier step is the root")
			}
			if !top.Root {
				t.Errorf("root step: root false, want true")
			}
			if app.SourceStatus == nil {
				t.Fatalf("applier step: no source status, want Ready at %s", repoURL)
			}
			if app.SourceStatus.URL != repoURL {
				t.Errorf("applier step: source URL %q, want %s", app.SourceStatus.URL, repoURL)
			}
			if app.SourceStatus.Ready != "True" {
				t.Errorf("applier step: source Ready %q, want True", app.SourceStatus.Ready)
			}
		},
	}, {
		name: "every kubectl spelling of the kind gives the same chain (deployments.v1.apps)",
		typ:  "deployments.v1.apps", object: "keystone-api", on: "openstack", cluster: "control-plane",
		chain: cpApps + " ← " + root, managed: true, found: true, healthy: true, problems: []string{},
	}, {
		name: "every kubectl spelling of the kind gives the same chain (Deployment)",
		typ:  "Deployment", object: "keystone-api", on: "openstack", cluster: "control-plane",
		chain: cpApps + " ← " + root, managed: true, found: true, healthy: true, problems: []string{},
	}, {
		name: "every kubectl spelling of the kind gives the same chain (deployments.apps)",
		typ:  "deployments.apps", object: "keystone-api", on: "openstack", cluster: "control-plane",
		chain: cpApps + " ← " + root, managed: true, found: true, healthy: true, problems: []string{},
	}, {
		name: "a chart's object: the HelmRelease, its HelmChart from the HelmRepository, the Kustomization applying it",
		typ:  "cm", object: "memcached-config", on: "memcached", cluster: "control-plane",
		chain: hrID + " ← " + mgmtApps + " ← " + root, managed: true, found: true, healthy: true, problems: []string{},
		check: func(t *testing.T, tr *trace.Trace) {
			hr, mgmt := tr.Chain[0], tr.Chain[1]
			for _, c := range []struct{ what, got, want string }{
				{"HelmRelease step: cluster", hr.Cluster, "control-plane"},
				{"HelmRelease step: source", hr.Source, "HelmChart/" + ns + "/" + ns + "-memcached"},
				{"HelmRelease step: source revision", hr.SourceRevision, "7.4.16"},
				{"HelmRelease step: revision", hr.Revision, "7.4.16"},
				{"HelmRelease step: chart", hr.Chart, "memcached@7.4.16"},
				{"HelmRelease step: inInventory (no status.inventory)", inInventory(hr), "unset"},
				{"management-apps step: inInventory", inInventory(mgmt), "true"},
				{"management-apps step: applies", mgmt.Applies, hr.ID()},
			} {
				if c.got != c.want {
					t.Errorf("%s %q, want %q", c.what, c.got, c.want)
				}
			}
			if hr.SourceStatus == nil {
				t.Fatalf("HelmRelease step: no source status, want from HelmRepository/%s/bitnami", ns)
			}
			if hr.SourceStatus.From != "HelmRepository/"+ns+"/bitnami" {
				t.Errorf("HelmRelease step: source from %q, want HelmRepository/%s/bitnami", hr.SourceStatus.From, ns)
			}
			if !tr.Chain[2].Root {
				t.Errorf("last step %s is not the root", tr.Chain[2].ID())
			}
		},
	}, {
		name: "a chart's object missing from the HelmRelease's status.inventory",
		edit: func(e *fleetEdit) {
			e.hr.Status.Inventory = &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{{ID: "memcached_memcached_apps_StatefulSet", Version: "v1"}}}
		},
		typ: "configmap", object: "memcached-config", on: "memcached", cluster: "control-plane",
		chain: hrID + " ← " + mgmtApps + " ← " + root, managed: true, found: true,
		problems: []string{"ConfigMap/memcached/memcached-config is not in the inventory of " + hrID +
			": it was left behind (no longer in git, not pruned) or carries copied labels"},
		check: func(t *testing.T, tr *trace.Trace) {
			if got := inInventory(tr.Chain[0]); got != "false" {
				t.Errorf("HelmRelease step: inInventory %s, want false", got)
			}
			var tree strings.Builder
			if err := trace.WriteTree(&tree, tr, status.RenderOptions{}); err != nil {
				t.Fatal(err)
			}
			if want := hrID + " · Ready · applied 7.4.16 · not in inventory"; !strings.Contains(tree.String(), want) {
				t.Errorf("tree lacks %q:\n%s", want, tree.String())
			}
		},
	}, {
		name: "a chart's object listed in the HelmRelease's status.inventory",
		edit: func(e *fleetEdit) {
			e.hr.Status.Inventory = &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{
				{ID: "memcached_memcached_apps_StatefulSet", Version: "v1"}, {ID: "memcached_memcached-config__ConfigMap", Version: "v1"}}}
		},
		typ: "configmap", object: "memcached-config", on: "memcached", cluster: "control-plane",
		chain: hrID + " ← " + mgmtApps + " ← " + root, managed: true, found: true, healthy: true, problems: []string{},
		check: func(t *testing.T, tr *trace.Trace) {
			if got := inInventory(tr.Chain[0]); got != "true" {
				t.Errorf("HelmRelease step: inInventory %s, want true", got)
			}
		},
	}, {
		name: "a HelmRelease just applied, before helm-controller made its HelmChart: where the chart is to come from",
		edit: func(e *fleetEdit) {
			e.hr.Status = helmv2.HelmReleaseStatus{}
			e.drop = append(e.drop, e.helmChart)
		},
		typ: "configmap", object: "memcached-config", on: "memcached", cluster: "control-plane",
		chain: hrID + " ← " + mgmtApps + " ← " + root, managed: true, found: true,
		problems: []string{hrID + " is not Ready"},
		check: func(t *testing.T, tr *trace.Trace) {
			hr := tr.Chain[0]
			if hr.Source != "" {
				t.Errorf("HelmRelease step without a HelmChart: source %q, want none", hr.Source)
			}
			if hr.SourceStatus == nil {
				t.Fatalf("HelmRelease step without a HelmChart: no source status, want from HelmRepository/%s/bitnami", ns)
			}
			if hr.SourceStatus.From != "HelmRepository/"+ns+"/bitnami" {
				t.Errorf("HelmRelease step without a HelmChart: source from %q, want HelmRepository/%s/bitnami", hr.SourceStatus.From, ns)
			}
			if hr.Revision != "" {
				t.Errorf("HelmRelease step without a HelmChart: revision %q, want none", hr.Revision)
			}
			if got := inInventory(hr); got != "unset" {
				t.Errorf("HelmRelease step without a HelmChart: inInventory %s, want unset", got)
			}
		},
	}, {
		name: "an object nothing in Flux applied",
		typ:  "configmap", object: "by-hand", on: "openstack", cluster: "control-plane",
		chain: "", found: true,
		problems: []string{"ConfigMap/openstack/by-hand is not managed by Flux"},
		check: func(t *testing.T, tr *trace.Trace) {
			want := "ConfigMap/openstack/by-hand is not managed by Flux: it has no kustomize.toolkit.fluxcd.io/name or helm.toolkit.fluxcd.io/name labels"
			if !slices.ContainsFunc(tr.Notices, func(n string) bool { return strings.HasPrefix(n, want) }) {
				t.Errorf("notices %q, want one starting %q", tr.Notices, want)
			}
		},
	}, {
		name: "labels naming an applier the hub does not have",
		typ:  "configmap", object: "orphan", on: "openstack", cluster: "control-plane",
		chain: "Kustomization/" + ns + "/gone", found: true,
		problems: []string{"the labels of ConfigMap/openstack/orphan name Kustomization/" + ns + "/gone, which the hub does not have " +
			"(deleted, in a hub namespace not read, or the labels were copied)"},
		check: func(t *testing.T, tr *trace.Trace) {
			if tr.Chain[0].Found {
				t.Errorf("applier %s found, want not", tr.Chain[0].ID())
			}
		},
	}, {
		name: "labels naming an applier that deploys to another cluster",
		typ:  "configmap", object: "elsewhere", on: "default", cluster: "hypervisor",
		chain: cpApps + " ← " + root, found: true,
		problems: []string{cpApps + " deploys to cluster control-plane, not to cluster hypervisor where ConfigMap/default/elsewhere is"},
		check: func(t *testing.T, tr *trace.Trace) {
			want := cpApps + " deploys to cluster control-plane, not to cluster hypervisor where ConfigMap/default/elsewhere is"
			if tr.Chain[0].Error != want {
				t.Errorf("applier error %q, want %q", tr.Chain[0].Error, want)
			}
		},
	}, {
		name: "the source moved on and the applier did not apply the new revision: stale",
		edit: func(e *fleetEdit) {
			e.gitRepo.Object["status"].(map[string]any)["artifact"] = map[string]any{"revision": newRev}
			e.root.Status.LastAppliedRevision = newRev // only control-plane-apps lags behind
		},
		typ: "deploy", object: "keystone-api", on: "openstack", cluster: "control-plane",
		chain: cpApps + " ← " + root, managed: true, found: true,
		problems: []string{cpApps + " is stale: applied " + rev + ", its source GitRepository/" + ns + "/flux-system has " + newRev},
		check: func(t *testing.T, tr *trace.Trace) {
			app := tr.Chain[0]
			if !app.Stale {
				t.Errorf("applier step not stale, want stale")
			}
			if app.Revision != rev {
				t.Errorf("applier step: revision %q, want %s", app.Revision, rev)
			}
			if app.SourceRevision != newRev {
				t.Errorf("applier step: source revision %q, want %s", app.SourceRevision, newRev)
			}
			if tr.Chain[1].Stale {
				t.Errorf("root step stale, want not")
			}
		},
	}, {
		name: "the spoke cannot be reached: the chain from the hub's inventories",
		edit: func(e *fleetEdit) {
			e.down = map[string]error{"control-plane": errors.New("dial tcp 127.0.0.1:1: connection refused")}
		},
		typ: "deploy", object: "keystone-api", on: "openstack", cluster: "control-plane",
		chain: cpApps + " ← " + root, managed: true,
		problems: []string{},
		check: func(t *testing.T, tr *trace.Trace) {
			want := "cannot read Deployment/openstack/keystone-api: cluster control-plane: dial tcp 127.0.0.1:1: connection refused"
			if tr.Summary.Error != want {
				t.Errorf("summary error %q, want %q", tr.Summary.Error, want)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			hub, rootKs, cpKs, mgmtKs, hr, gitRepo, helmChart := hubObjects()
			e := &fleetEdit{root: rootKs, cpApps: cpKs, mgmtApps: mgmtKs, hr: hr, gitRepo: gitRepo, helmChart: helmChart}
			if tc.edit != nil {
				tc.edit(e)
			}
			hub = slices.DeleteFunc(hub, func(o client.Object) bool { return slices.Contains(e.drop, o) })
			cp, hv := spokeObjects()
			d := &fakefleet.Dialer{Spokes: map[string]*kube.Client{"control-plane": fakefleet.Client("v1.37.2", cp...), "hypervisor": fakefleet.Client("v1.37.2", hv...)},
				Errors: e.down}
			f, err := fakefleet.Discover(ctx, fakefleet.Client("v1.37.2", hub...), d)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := trace.Run(ctx, f, trace.Options{Type: tc.typ, Name: tc.object, Namespace: tc.on, Cluster: tc.cluster, FluxNamespace: ns})
			if err != nil {
				t.Fatal(err)
			}
			if got := chainOf(tr); got != tc.chain {
				t.Fatalf("chain %q, want %q", got, tc.chain)
			}
			if tr.Managed != tc.managed {
				t.Errorf("managed %v, want %v", tr.Managed, tc.managed)
			}
			if tr.Object.Found != tc.found {
				t.Errorf("object found %v, want %v", tr.Object.Found, tc.found)
			}
			if tr.Summary.Healthy != tc.healthy {
				t.Errorf("summary healthy %v, want %v", tr.Summary.Healthy, tc.healthy)
			}
			if !slices.Equal(tr.Summary.Problems, tc.problems) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(tr.Summary.Problems, "\n"), strings.Join(tc.problems, "\n"))
			}
			if tc.check != nil {
				tc.check(t, tr)
			}
		})
	}
}
