package plugin

import (
	"context"
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// resourceSetGitops copies testdata/resourceset (a hub build with two
// Static ResourceSetInputProviders, one per spoke, and a ResourceSet that
// generates a ConfigMap, a HelmRelease and a Kustomization per spoke) with the chart
// repository URL and the HelmReleases' target namespace filled in.
func resourceSetGitops(t *testing.T, chartsURL, target string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "resourceset")
	expect.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		writeFile(t, dir, rel, strings.NewReplacer("CHARTS_URL", chartsURL, "TARGET_NS", target).Replace(string(b)))
		return nil
	}))
	return dir
}

// generatedConfigMap is the ConfigMap the ResourceSet generates for a
// spoke, written by hand from the ResourceSet's template.
func generatedConfigMap(ns, cluster, replicas string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "spoke-" + cluster, "namespace": ns,
			"labels": map[string]any{"app.kubernetes.io/part-of": "spoke-apps"}},
		"data": map[string]any{"cluster": cluster, "replicas": replicas},
	}}
}

// generatedHelmRelease is the HelmRelease the ResourceSet generates for
// the control-plane spoke, written by hand from its template.
func generatedHelmRelease(ns, target string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": map[string]any{"name": "webapp-control-plane", "namespace": ns,
			"labels": map[string]any{"app.kubernetes.io/part-of": "spoke-apps"}},
		"spec": map[string]any{
			"interval": "10m", "targetNamespace": target, "releaseName": "webapp",
			"install":    map[string]any{"createNamespace": true},
			"kubeConfig": map[string]any{"secretRef": map[string]any{"name": "control-plane-kubeconfig"}},
			"chart": map[string]any{"spec": map[string]any{"chart": "webapp", "version": "0.1.x",
				"sourceRef": map[string]any{"kind": "HelmRepository", "name": "charts"}}},
			"values": map[string]any{"replicas": int64(2)},
		},
	}}
}

// TestDiffResourceSet expands a ResourceSet of the hub build with its
// providers' exported inputs from the live hub: the generated ConfigMaps
// and HelmReleases are diffed on the hub under the ResourceSet, and each
// HelmRelease is rendered onto its spoke; once the operator has applied a
// ConfigMap it is unchanged, and an object of the ResourceSet's
// status.inventory it no longer generates is deleted. status shows the
// ResourceSet and its providers; trace walks from a spoke object through
// the generated HelmRelease and the ResourceSet to its Kustomization. A provider that does not exist and a
// template error exit 2 naming the ResourceSet.
func TestDiffResourceSet(t *testing.T) {
	t.Parallel()
	charts := chartServers(t)
	ns := testfleet.Namespace(t)
	target := "rs-" + ns
	s, flags := loadSample(t, testfleet.SampleOptions{Source: resourceSetGitops(t, charts.HTTP.URL(), target), NoFluxReport: true})
	useChartCache(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range []string{"spoke-control-plane", "spoke-storage"} {
		expect.NoError(t, s.WriteStaticProviderStatus(ctx, p))
	}
	rsID := s.Namespace + "/spoke-apps"

	// Nothing generated yet: everything is created.
	r := run(t, diffArgs(s, flags, "-o", "json")...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr: %s\nstdout: %s", r.code, r.stderr, r.stdout)
	}
	res := decodeDiff(t, r.stdout)
	if len(res.ResourceSets) != 1 {
		t.Fatalf("resourceSets: %+v, want spoke-apps", res.ResourceSets)
	}
	rs := res.ResourceSets[0]
	expect.Equal(t, "resourceSet", rs.ID(), rsID)
	expect.Equal(t, "resourceSet cluster", rs.Cluster, "management")
	expect.Equal(t, "resourceSet error", rs.Error, "")
	expect.Equal(t, "resourceSet inputs", rs.Inputs, 2)
	expect.Equal(t, "resourceSet generated objects", rs.Generated, 6)
	expect.Equal(t, "resourceSet providers", strings.Join(rs.Providers, ","), s.Namespace+"/spoke-control-plane,"+s.Namespace+"/spoke-storage")
	// dependsOn: the CRD exists, the ConfigMap gate does not.
	expect.Equal(t, "waiting", strings.Join(rs.Waiting, "; "), "ConfigMap/"+s.Namespace+"/gate: not found")
	hub := map[string]diff.ObjectResult{}
	spokes := map[string]int{}
	for _, o := range res.Objects {
		switch {
		case o.ResourceSet == rsID:
			hub[o.ID()] = o
		case o.HelmRelease != "":
			what := o.ID() + " via " + o.HelmRelease + " on " + o.Cluster
			expect.Equal(t, what+": action", o.Action, diff.ActionCreated)
			expect.Equal(t, what+": namespace", o.Namespace, target)
			spokes[o.Cluster+" "+o.HelmRelease]++
		}
	}
	for _, id := range []string{
		"ConfigMap/" + s.Namespace + "/spoke-control-plane", "ConfigMap/" + s.Namespace + "/spoke-storage",
		"HelmRelease/" + s.Namespace + "/webapp-control-plane", "HelmRelease/" + s.Namespace + "/webapp-storage",
		"Kustomization/" + s.Namespace + "/config-control-plane", "Kustomization/" + s.Namespace + "/config-storage",
	} {
		o, ok := hub[id]
		if !ok {
			t.Errorf("%s: not in the plan, want created on management via ResourceSet %s", id, rsID)
			continue
		}
		expect.Equal(t, id+": action", o.Action, diff.ActionCreated)
		expect.Equal(t, id+": cluster", o.Cluster, "management")
	}
	expect.Contains(t, "ConfigMap spoke-control-plane diff (ownership label, input, commonMetadata)", hub["ConfigMap/"+s.Namespace+"/spoke-control-plane"].Diff,
		"resourceset.fluxcd.controlplane.io/name: spoke-apps", `replicas: "2"`, "app.kubernetes.io/part-of: spoke-apps")
	for _, spoke := range []string{"control-plane", "storage"} {
		hr := s.Namespace + "/webapp-" + spoke
		if spokes[spoke+" "+hr] == 0 {
			t.Errorf("no objects of %s rendered onto %s (got %v)", hr, spoke, spokes)
		}
		h := hrsOf(res)["webapp-"+spoke]
		expect.Equal(t, "HelmRelease webapp-"+spoke+": cluster", h.Cluster, spoke)
		expect.Equal(t, "HelmRelease webapp-"+spoke+": error", h.Error, "")
		if h.Prediction == nil {
			t.Errorf("HelmRelease webapp-%s: no prediction, want an install", spoke)
		} else {
			expect.Equal(t, "HelmRelease webapp-"+spoke+": plan", h.Prediction.Plan, "install")
		}
	}
	// The generated Kustomizations are built from the checkout and diffed
	// on their spokes, with the ResourceSet's postBuild values.
	for _, spoke := range []string{"control-plane", "storage"} {
		var ks *diff.KustomizationResult
		for i, k := range res.Kustomizations {
			if k.Name == "config-"+spoke {
				ks = &res.Kustomizations[i]
			}
		}
		if ks == nil {
			t.Errorf("no Kustomization config-%s in the plan", spoke)
			continue
		}
		expect.Equal(t, "Kustomization config-"+spoke+": cluster", ks.Cluster, spoke)
		expect.Equal(t, "Kustomization config-"+spoke+": new", ks.New, true)
		expect.Equal(t, "Kustomization config-"+spoke+": error", ks.Error, "")
		expect.Equal(t, "Kustomization config-"+spoke+": created", ks.Counts.Created, 2)
		for _, o := range res.Objects {
			if o.Kustomization == s.Namespace+"/config-"+spoke && o.Kind == "ConfigMap" && !strings.Contains(o.Diff, "cluster: "+spoke) {
				t.Errorf("ConfigMap spoke-info on %s lacks its substituted cluster:\n%s", spoke, o.Diff)
			}
		}
	}
	text := run(t, diffArgs(s, flags)...)
	expect.Contains(t, "text output", text.stdout,
		"ResourceSet "+rsID+": 2 input sets (providers "+s.Namespace+"/spoke-control-plane, "+s.Namespace+"/spoke-storage) → 6 objects\n  waits for ConfigMap/"+s.Namespace+"/gate: not found\n",
		"► ConfigMap/"+s.Namespace+"/spoke-storage created via ResourceSet/"+rsID)

	// The operator applied the control-plane ConfigMap and, earlier, one
	// for a spoke no provider exports any more.
	expect.NoError(t, s.ApplyAsResourceSet(ctx, "spoke-apps",
		generatedConfigMap(s.Namespace, "control-plane", "2"), generatedConfigMap(s.Namespace, "retired", "1"), generatedHelmRelease(s.Namespace, target)))
	res = decodeDiff(t, run(t, diffArgs(s, flags, "-o", "json")...).stdout)
	got := map[string]diff.Action{}
	for _, o := range res.Objects {
		if o.ResourceSet == rsID {
			got[o.Kind+"/"+o.Name] = o.Action
		}
	}
	if a, ok := got["ConfigMap/spoke-control-plane"]; ok {
		t.Errorf("ConfigMap spoke-control-plane: %s, want unchanged", a)
	}
	if got["ConfigMap/spoke-retired"] != diff.ActionDeleted {
		t.Errorf("ConfigMap spoke-retired (in the inventory, no longer generated): %q, want deleted", got["ConfigMap/spoke-retired"])
	}

	// status: the ResourceSet Ready with the 3 objects of its inventory, its
	// two providers Ready with what they exported.
	st := decode(t, run(t, append([]string{"status", "-o", "json"}, flags...)...).stdout)
	if len(st.Hub.ResourceSets) != 1 {
		t.Fatalf("status hub.resourceSets: %+v, want spoke-apps", st.Hub.ResourceSets)
	}
	srs := st.Hub.ResourceSets[0]
	expect.Equal(t, "status: ResourceSet", srs.ID(), rsID)
	expect.Equal(t, "status: ResourceSet state", srs.State, "Ready")
	expect.Equal(t, "status: ResourceSet objects", srs.Generated, 3)
	if len(srs.Problems) != 0 {
		t.Errorf("status: ResourceSet problems %q, want none", srs.Problems)
	}
	if len(srs.Providers) != 2 {
		t.Fatalf("status: ResourceSet providers %+v, want 2", srs.Providers)
	}
	p := srs.Providers[0]
	expect.Equal(t, "status: provider", p.Name, "spoke-control-plane")
	expect.Equal(t, "status: provider type", p.Type, "Static")
	expect.Equal(t, "status: provider state", p.State, "Ready")
	if len(p.ExportedInputs) != 1 {
		t.Fatalf("status: provider exported %v, want one input set", p.ExportedInputs)
	}
	expect.Equal(t, "status: provider's exported cluster", fmt.Sprint(p.ExportedInputs[0]["cluster"]), "control-plane")
	tree := run(t, append([]string{"status"}, flags...)...).stdout
	expect.Contains(t, "status tree", tree, "ResourceSet "+rsID+" · Ready · 3 objects",
		"ResourceSetInputProvider "+s.Namespace+"/spoke-storage (Static) · Ready · 1 input set")

	// trace: a spoke object of the generated HelmRelease → the HelmRelease
	// → the ResourceSet (its ownership labels) with its providers → the
	// Kustomization that applied the ResourceSet.
	spoke := s.Fleet.Spokes["control-plane"].Client
	expect.NoError(t, client.IgnoreAlreadyExists(spoke.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: target}})))
	expect.NoError(t, spoke.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "webapp-probe", Namespace: target, Labels: map[string]string{
		"helm.toolkit.fluxcd.io/name": "webapp-control-plane", "helm.toolkit.fluxcd.io/namespace": s.Namespace}}}))
	tr := decodeTrace(t, run(t, traceArgs(s, "configmap/webapp-probe", "-n", target, "--cluster", "control-plane", "-o", "json")...).stdout)
	var chain []string
	for _, st := range tr.Chain {
		chain = append(chain, st.ID())
	}
	if want := "HelmRelease/" + s.Namespace + "/webapp-control-plane ResourceSet/" + rsID + " Kustomization/" + s.Namespace + "/flux-system"; strings.Join(chain, " ") != want {
		t.Fatalf("trace chain %v, want %s", chain, want)
	}
	rsStep := tr.Chain[1]
	expect.Equal(t, "ResourceSet step: found", rsStep.Found, true)
	expect.Equal(t, "ResourceSet step: state", rsStep.State, "Ready")
	if rsStep.InInventory == nil || !*rsStep.InInventory {
		t.Errorf("ResourceSet step: inInventory %v, want true", rsStep.InInventory)
	}
	expect.Equal(t, "ResourceSet step: providers", len(rsStep.Providers), 2)
	expect.Equal(t, "ResourceSet step: error", rsStep.Error, "")
	if !tr.Managed {
		t.Errorf("trace: not managed")
	}
	// An object the ResourceSet applied to the hub itself.
	tr = decodeTrace(t, run(t, traceArgs(s, "configmap/spoke-control-plane", "-n", s.Namespace, "--cluster", "management", "-o", "json")...).stdout)
	expect.Equal(t, "trace of the generated ConfigMap: owner", tr.Object.Owner, "ResourceSet/"+rsID)
	expect.Equal(t, "trace of the generated ConfigMap: managed", tr.Managed, true)
	if len(tr.Chain) != 2 {
		t.Fatalf("trace of the generated ConfigMap: chain %s, want ResourceSet %s then its Kustomization", chainIDs(tr), rsID)
	}
	expect.Equal(t, "trace of the generated ConfigMap: first step", tr.Chain[0].ID(), "ResourceSet/"+rsID)
	ttree := run(t, traceArgs(s, "configmap/spoke-control-plane", "-n", s.Namespace, "--cluster", "management")...).stdout
	if !strings.Contains(ttree, "inputs from ResourceSetInputProvider/"+s.Namespace+"/spoke-storage (Static) · Ready · 1 input set") {
		t.Errorf("trace tree lacks the ResourceSet's providers:\n%s", ttree)
	}

	// The ResourceSet removed from the build: kustomize-controller prunes
	// it, and the operator deletes what it applied.
	fixture.EditFile(t, s.RepoDir, "clusters/management/kustomization.yaml", "  - resourceset.yaml\n", "")
	res = decodeDiff(t, run(t, diffArgs(s, flags, "-o", "json")...).stdout)
	got = map[string]diff.Action{}
	for _, o := range res.Objects {
		got[o.Kind+"/"+o.Name+" "+o.ResourceSet] = o.Action
	}
	for _, k := range []string{"ResourceSet/spoke-apps ", "ConfigMap/spoke-control-plane " + rsID, "ConfigMap/spoke-retired " + rsID} {
		expect.Equal(t, "ResourceSet pruned: "+k, got[k], diff.ActionDeleted)
	}
	if len(res.ResourceSets) != 0 {
		t.Errorf("ResourceSet pruned: resourceSets %+v, want none", res.ResourceSets)
	}
	fixture.EditFile(t, s.RepoDir, "clusters/management/kustomization.yaml", "  - providers.yaml\n", "  - providers.yaml\n  - resourceset.yaml\n")

	// A provider that does not exist, then a template error: exit 2, the
	// ResourceSet named, the plan incomplete.
	fixture.EditFile(t, s.RepoDir, "clusters/management/resourceset.yaml", "  inputsFrom:\n", "  inputsFrom:\n    - name: absent\n")
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	wantExit(t, "missing provider", r, 2)
	expect.Equal(t, "missing provider: complete", res.Complete, false)
	if len(res.Incomplete) != 1 {
		t.Fatalf("missing provider: incomplete %+v, want ResourceSet %s", res.Incomplete, rsID)
	}
	expect.Equal(t, "missing provider: incomplete kind", res.Incomplete[0].Kind, "ResourceSet")
	expect.Contains(t, "missing provider: incomplete reason", res.Incomplete[0].Reason, "ResourceSetInputProvider "+s.Namespace+"/absent not found")
	fixture.EditFile(t, s.RepoDir, "clusters/management/resourceset.yaml", "    - name: absent\n", "")
	fixture.EditFile(t, s.RepoDir, "clusters/management/resourceset.yaml", "<< inputs.replicas | quote >>", "<< inputs.replica | quote >>")
	r = run(t, diffArgs(s, flags)...)
	wantExit(t, "template error", r, 2)
	expect.Contains(t, "template error", r.stdout, "ResourceSet/"+s.Namespace+"/spoke-apps on cluster management: ResourceSet "+rsID, `"replica"`)
}
