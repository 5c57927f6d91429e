package plugin

import (
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// crdPolicySpokes gives each CRD policy its own cluster (CRDs are
// cluster-wide): "Create" leaves install.crds and upgrade.crds unset (both
// default to Create), "CreateCSA" is Create with client-side apply
// (install.serverSideApply false) on the hub, helm-controller's own cluster.
var crdPolicySpokes = map[string]string{"Skip": "control-plane", "Create": "hypervisor", "CreateReplace": "storage", "CreateCSA": ""}

// crdPolicyGitops is a gitops tree whose hub sync applies an OCIRepository
// for the crdpolicy chart and, per CRD policy, a HelmRelease of it on its
// own spoke with install.crds and upgrade.crds set to the policy.
func crdPolicyGitops(t *testing.T, charts *testfleet.ChartServers, targetNS string) string {
	dir := t.TempDir()
	resources := "  - source.yaml\n"
	for policy, spoke := range crdPolicySpokes {
		name := "crdpol-" + strings.ToLower(policy)
		resources += "  - " + name + ".yaml\n"
		kubeConfig, install, upgrade := "", "", ""
		if spoke != "" {
			kubeConfig = "  kubeConfig:\n    secretRef:\n      name: " + spoke + "-kubeconfig\n"
		}
		switch policy {
		case "Create": // the defaults
		case "CreateCSA":
			install = "    crds: Create\n    serverSideApply: false\n"
			upgrade = "    crds: Create\n"
		default:
			install, upgrade = "    crds: "+policy+"\n", "    crds: "+policy+"\n"
		}
		writeFile(t, dir, "clusters/management/"+name+".yaml", fmt.Sprintf(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 10m
  targetNamespace: %s
  storageNamespace: %s
%s  chartRef:
    kind: OCIRepository
    name: crdpolicy
  install:
%s    createNamespace: true
    disableWait: true   # envtest has no kubelet
  upgrade:
%s    disableWait: true
`, name, targetNS, targetNS, kubeConfig, install, upgrade))
	}
	writeFile(t, dir, "clusters/management/kustomization.yaml",
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"+resources)
	writeFile(t, dir, "clusters/management/source.yaml", fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: crdpolicy
  namespace: flux-system
spec:
  interval: 1h
  url: oci://%s/charts/crdpolicy
  insecure: true
  secretRef:
    name: registry-auth
  ref:
    tag: "1.0.0"
`, charts.OCIHost))
	return dir
}

// TestE2EHelmCRDPolicy checks the install.crds and upgrade.crds policies
// for a chart's crds/ against the real helm-controller, one spoke per
// policy: what diff predicts for each CRD before helm-controller installs
// crdpolicy 1.0.0 (one CRD) and before it upgrades to 2.0.0 (that CRD
// changed, a second one added) is what helm-controller then does — Skip
// applies none; CreateReplace creates the missing ones and updates the
// changed one; Create (also as the default of both) with server-side apply,
// helm-controller's default, too, since its create is an apply; Create
// with client-side apply leaves the changed one as it is — and afterwards
// diff finds nothing to change.
func TestE2EHelmCRDPolicy(t *testing.T) {
	parallelHelmE2E(t)
	fl := testfleet.Get(t)
	charts := testfleet.StartChartServers(t)
	ns := testfleet.Namespace(t)
	target := "crd-" + ns
	s, flags := loadSample(t, testfleet.SampleOptions{Source: crdPolicyGitops(t, charts, target), NoFluxReport: true})
	useChartCache(t, t.TempDir())
	c := ctx(t)
	hub := fl.Hub.Client
	const gadgets, sprockets = "gadgets.crdpolicy.c5c3.io", "sprockets.crdpolicy.c5c3.io"
	clusterClient := func(spoke string) client.Client {
		if spoke == "" {
			return hub
		}
		return fl.Spokes[spoke].Client
	}
	crd := func(spoke, name string) *unstructured.Unstructured {
		t.Helper()
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("apiextensions.k8s.io/v1")
		u.SetKind("CustomResourceDefinition")
		err := clusterClient(spoke).Get(c, client.ObjectKey{Name: name}, u)
		if apierrors.IsNotFound(err) {
			return nil
		}
		expect.NoError(t, err)
		return u
	}
	t.Cleanup(func() {
		for _, spoke := range crdPolicySpokes {
			for _, name := range []string{gadgets, sprockets} {
				u := &unstructured.Unstructured{}
				u.SetAPIVersion("apiextensions.k8s.io/v1")
				u.SetKind("CustomResourceDefinition")
				u.SetName(name)
				if err := clusterClient(spoke).Delete(ctx(t), u); err != nil && !apierrors.IsNotFound(err) {
					t.Errorf("deleting CRD %s on %s: %v", name, spoke, err)
				}
			}
		}
	})
	arts := ociChartSource(t, c, hub, s.Namespace, charts)
	source := client.ObjectKey{Namespace: s.Namespace, Name: "crdpolicy"}
	expect.NoError(t, fl.PublishChartArtifact(c, arts, source, charts.Charts["crdpolicy-1.0.0"]))

	// crdActions are diff's actions on the chart's CRDs per policy ("" for
	// a CRD diff does not report: not applied, or unchanged).
	crdActions := func() map[string]map[string]diff.Action {
		t.Helper()
		r := run(t, diffArgs(s, flags, "-o", "json")...)
		if r.code == 2 {
			t.Fatalf("diff: exit 2\nstderr: %s", r.stderr)
		}
		res := decodeDiff(t, r.stdout)
		out := map[string]map[string]diff.Action{}
		for policy := range crdPolicySpokes {
			out[policy] = map[string]diff.Action{}
			for _, o := range res.Objects {
				if o.HelmRelease == s.Namespace+"/crdpol-"+strings.ToLower(policy) && o.Kind == "CustomResourceDefinition" {
					out[policy][o.Name] = o.Action
				}
			}
		}
		return out
	}
	check := func(step string, got map[string]map[string]diff.Action, want map[string]map[string]diff.Action) {
		t.Helper()
		for policy := range crdPolicySpokes {
			for _, name := range []string{gadgets, sprockets} {
				if g, w := got[policy][name], want[policy][name]; g != w {
					t.Errorf("%s, %s: diff says CRD %s %q, want %q", step, policy, name, g, w)
				}
			}
		}
	}

	// Install: Skip applies no CRD, Create and CreateReplace create it.
	check("before install", crdActions(), map[string]map[string]diff.Action{
		"Create": {gadgets: diff.ActionCreated}, "CreateReplace": {gadgets: diff.ActionCreated}, "CreateCSA": {gadgets: diff.ActionCreated}})

	hc := startHelmController(t, fl, s.Namespace)
	for policy := range crdPolicySpokes {
		waitReleased(t, hc, hub, client.ObjectKey{Namespace: s.Namespace, Name: "crdpol-" + strings.ToLower(policy)}, "1.0.0", 1)
	}
	for policy, spoke := range crdPolicySpokes {
		if got, want := crd(spoke, gadgets) != nil, policy != "Skip"; got != want {
			t.Errorf("helm-controller install with %s: CRD %s present %t, diff predicted %t", policy, gadgets, got, want)
		}
	}
	check("after install", crdActions(), nil)

	// Upgrade to 2.0.0: gadgets gains a field, sprockets is new.
	fixture.EditFile(t, s.RepoDir, "clusters/management/source.yaml", `tag: "1.0.0"`, `tag: "2.0.0"`)
	check("before upgrade", crdActions(), map[string]map[string]diff.Action{
		"Create":        {gadgets: diff.ActionDrifted, sprockets: diff.ActionCreated},
		"CreateReplace": {gadgets: diff.ActionDrifted, sprockets: diff.ActionCreated},
		"CreateCSA":     {sprockets: diff.ActionCreated}})

	expect.NoError(t, fl.PublishChartArtifact(c, arts, source, charts.Charts["crdpolicy-2.0.0"]))
	for policy := range crdPolicySpokes {
		waitReleased(t, hc, hub, client.ObjectKey{Namespace: s.Namespace, Name: "crdpol-" + strings.ToLower(policy)}, "2.0.0", 2)
	}
	for policy, spoke := range crdPolicySpokes {
		if got, want := crd(spoke, sprockets) != nil, policy != "Skip"; got != want {
			t.Errorf("helm-controller upgrade with %s: added CRD %s present %t, diff predicted %t", policy, sprockets, got, want)
		}
		g := crd(spoke, gadgets)
		if g == nil {
			continue
		}
		vs, _, _ := unstructured.NestedSlice(g.Object, "spec", "versions")
		colour := false
		if len(vs) == 1 {
			_, colour, _ = unstructured.NestedMap(vs[0].(map[string]any), "schema", "openAPIV3Schema", "properties", "spec", "properties", "colour")
		}
		if want := policy == "Create" || policy == "CreateReplace"; colour != want {
			t.Errorf("helm-controller upgrade with %s: changed CRD %s updated %t, diff predicted %t", policy, gadgets, colour, want)
		}
	}
	check("after upgrade", crdActions(), nil)

	// No upgrade due: helm-controller applies a chart's crds/ only when it
	// installs or upgrades, whatever the policy. A CRD deleted on the
	// CreateReplace spoke stays deleted through a reconcile, and diff
	// predicts nothing for it.
	spoke := crdPolicySpokes["CreateReplace"]
	expect.NoError(t, clusterClient(spoke).Delete(c, crd(spoke, sprockets)))
	check("no upgrade due, a CRD deleted on the spoke", crdActions(), nil)
	key := client.ObjectKey{Namespace: s.Namespace, Name: "crdpol-createreplace"}
	hr := &helmv2.HelmRelease{}
	expect.NoError(t, hub.Get(c, key, hr))
	requested := time.Now().Format(time.RFC3339Nano)
	patch := client.MergeFrom(hr.DeepCopy())
	hr.SetAnnotations(map[string]string{meta.ReconcileRequestAnnotation: requested})
	expect.NoError(t, hub.Patch(c, hr, patch))
	deadline := time.Now().Add(2 * time.Minute)
	for hr.Status.LastHandledReconcileAt != requested {
		if time.Now().After(deadline) {
			t.Fatalf("helm-controller did not handle the reconcile request of %s", key)
		}
		time.Sleep(200 * time.Millisecond)
		expect.NoError(t, hub.Get(c, key, hr))
	}
	if crd(spoke, sprockets) != nil {
		t.Errorf("helm-controller recreated CRD %s without an upgrade; diff predicted nothing", sprockets)
	}
}
