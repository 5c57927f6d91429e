package plugin

import (
	"context"
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
	must(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
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
		must(t, s.WriteStaticProviderStatus(ctx, p))
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
	if rs := res.ResourceSets[0]; rs.ID() != rsID || rs.Cluster != "management" || rs.Error != "" || rs.Inputs != 2 || rs.Generated != 6 ||
		strings.Join(rs.Providers, ",") != s.Namespace+"/spoke-control-plane,"+s.Namespace+"/spoke-storage" {
		t.Errorf("resourceSet: %+v; want %s on management, 2 inputs from both providers, 6 objects", rs, rsID)
	}
	// dependsOn: the CRD exists, the ConfigMap gate does not.
	if w := res.ResourceSets[0].Waiting; len(w) != 1 || w[0] != "ConfigMap/"+s.Namespace+"/gate: not found" {
		t.Errorf("waiting: %q, want only the ConfigMap gate, not found", w)
	}
	hub := map[string]diff.ObjectResult{}
	spokes := map[string]int{}
	for _, o := range res.Objects {
		switch {
		case o.ResourceSet == rsID:
			hub[o.ID()] = o
		case o.HelmRelease != "":
			if o.Action != diff.ActionCreated || o.Namespace != target {
				t.Errorf("%s via %s on %s: %s in %s, want created in %s", o.ID(), o.HelmRelease, o.Cluster, o.Action, o.Namespace, target)
			}
			spokes[o.Cluster+" "+o.HelmRelease]++
		}
	}
	for _, id := range []string{
		"ConfigMap/" + s.Namespace + "/spoke-control-plane", "ConfigMap/" + s.Namespace + "/spoke-storage",
		"HelmRelease/" + s.Namespace + "/webapp-control-plane", "HelmRelease/" + s.Namespace + "/webapp-storage",
		"Kustomization/" + s.Namespace + "/config-control-plane", "Kustomization/" + s.Namespace + "/config-storage",
	} {
		if o, ok := hub[id]; !ok || o.Action != diff.ActionCreated || o.Cluster != "management" {
			t.Errorf("%s: %+v, want created on management via ResourceSet %s", id, o, rsID)
		}
	}
	if o := hub["ConfigMap/"+s.Namespace+"/spoke-control-plane"]; !strings.Contains(o.Diff, "resourceset.fluxcd.controlplane.io/name: spoke-apps") ||
		!strings.Contains(o.Diff, `replicas: "2"`) || !strings.Contains(o.Diff, "app.kubernetes.io/part-of: spoke-apps") {
		t.Errorf("ConfigMap spoke-control-plane diff lacks the ownership label, commonMetadata or the input:\n%s", o.Diff)
	}
	for _, spoke := range []string{"control-plane", "storage"} {
		hr := s.Namespace + "/webapp-" + spoke
		if spokes[spoke+" "+hr] == 0 {
			t.Errorf("no objects of %s rendered onto %s (got %v)", hr, spoke, spokes)
		}
		if h := hrsOf(res)["webapp-"+spoke]; h.Cluster != spoke || h.Error != "" || h.Prediction == nil || h.Prediction.Plan != "install" {
			t.Errorf("HelmRelease webapp-%s: %+v, want an install on %s", spoke, h, spoke)
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
		if ks == nil || ks.Cluster != spoke || !ks.New || ks.Error != "" || ks.Counts.Created != 2 {
			t.Errorf("Kustomization config-%s: %+v, want new, diffed on %s with 2 objects created", spoke, ks, spoke)
			continue
		}
		for _, o := range res.Objects {
			if o.Kustomization == s.Namespace+"/config-"+spoke && o.Kind == "ConfigMap" && !strings.Contains(o.Diff, "cluster: "+spoke) {
				t.Errorf("ConfigMap spoke-info on %s lacks its substituted cluster:\n%s", spoke, o.Diff)
			}
		}
	}
	text := run(t, diffArgs(s, flags)...)
	if !strings.Contains(text.stdout, "ResourceSet "+rsID+": 2 input sets (providers "+s.Namespace+"/spoke-control-plane, "+s.Namespace+"/spoke-storage) → 6 objects\n  waits for ConfigMap/"+s.Namespace+"/gate: not found\n") ||
		!strings.Contains(text.stdout, "► ConfigMap/"+s.Namespace+"/spoke-storage created via ResourceSet/"+rsID) {
		t.Errorf("text output lacks the generated ConfigMap under its ResourceSet:\n%s", text.stdout)
	}

	// The operator applied the control-plane ConfigMap and, earlier, one
	// for a spoke no provider exports any more.
	must(t, s.ApplyAsResourceSet(ctx, "spoke-apps",
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
	if srs.ID() != rsID || srs.State != "Ready" || srs.Generated != 3 || len(srs.Providers) != 2 || len(srs.Problems) != 0 {
		t.Errorf("status of %s: %+v, want Ready, 3 objects, 2 providers, no problem", rsID, srs)
	} else if p := srs.Providers[0]; p.Name != "spoke-control-plane" || p.Type != "Static" || p.State != "Ready" ||
		len(p.ExportedInputs) != 1 || p.ExportedInputs[0]["cluster"] != "control-plane" {
		t.Errorf("provider: %+v, want spoke-control-plane, Static, Ready, exporting cluster control-plane", p)
	}
	tree := run(t, append([]string{"status"}, flags...)...).stdout
	if !strings.Contains(tree, "ResourceSet "+rsID+" · Ready · 3 objects") ||
		!strings.Contains(tree, "ResourceSetInputProvider "+s.Namespace+"/spoke-storage (Static) · Ready · 1 input set") {
		t.Errorf("status tree lacks the ResourceSet and its provider:\n%s", tree)
	}

	// trace: a spoke object of the generated HelmRelease → the HelmRelease
	// → the ResourceSet (its ownership labels) with its providers → the
	// Kustomization that applied the ResourceSet.
	spoke := s.Fleet.Spokes["control-plane"].Client
	must(t, client.IgnoreAlreadyExists(spoke.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: target}})))
	must(t, spoke.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "webapp-probe", Namespace: target, Labels: map[string]string{
		"helm.toolkit.fluxcd.io/name": "webapp-control-plane", "helm.toolkit.fluxcd.io/namespace": s.Namespace}}}))
	tr := decodeTrace(t, run(t, traceArgs(s, "configmap/webapp-probe", "-n", target, "--cluster", "control-plane", "-o", "json")...).stdout)
	var chain []string
	for _, st := range tr.Chain {
		chain = append(chain, st.ID())
	}
	if want := "HelmRelease/" + s.Namespace + "/webapp-control-plane ResourceSet/" + rsID + " Kustomization/" + s.Namespace + "/flux-system"; strings.Join(chain, " ") != want {
		t.Fatalf("trace chain %v, want %s", chain, want)
	}
	if st := tr.Chain[1]; !st.Found || st.State != "Ready" || st.InInventory == nil || !*st.InInventory || len(st.Providers) != 2 || st.Error != "" {
		t.Errorf("ResourceSet step: %+v, want found, Ready, the HelmRelease in its inventory, 2 providers", st)
	}
	if !tr.Managed {
		t.Errorf("trace: not managed")
	}
	// An object the ResourceSet applied to the hub itself.
	tr = decodeTrace(t, run(t, traceArgs(s, "configmap/spoke-control-plane", "-n", s.Namespace, "--cluster", "management", "-o", "json")...).stdout)
	if len(tr.Chain) != 2 || tr.Object.Owner != "ResourceSet/"+rsID || tr.Chain[0].ID() != "ResourceSet/"+rsID || !tr.Managed {
		t.Errorf("trace of the generated ConfigMap: owner %q, chain %+v; want ResourceSet %s then its Kustomization", tr.Object.Owner, tr.Chain, rsID)
	}
	ttree := run(t, traceArgs(s, "configmap/spoke-control-plane", "-n", s.Namespace, "--cluster", "management")...).stdout
	if !strings.Contains(ttree, "inputs from ResourceSetInputProvider/"+s.Namespace+"/spoke-storage (Static) · Ready · 1 input set") {
		t.Errorf("trace tree lacks the ResourceSet's providers:\n%s", ttree)
	}

	// The ResourceSet removed from the build: kustomize-controller prunes
	// it, and the operator deletes what it applied.
	editFile(t, s.RepoDir, "clusters/management/kustomization.yaml", "  - resourceset.yaml\n", "")
	res = decodeDiff(t, run(t, diffArgs(s, flags, "-o", "json")...).stdout)
	got = map[string]diff.Action{}
	for _, o := range res.Objects {
		got[o.Kind+"/"+o.Name+" "+o.ResourceSet] = o.Action
	}
	if got["ResourceSet/spoke-apps "] != diff.ActionDeleted || got["ConfigMap/spoke-control-plane "+rsID] != diff.ActionDeleted ||
		got["ConfigMap/spoke-retired "+rsID] != diff.ActionDeleted || len(res.ResourceSets) != 0 {
		t.Errorf("ResourceSet pruned: %v, resourceSets %+v; want it and both ConfigMaps of its inventory deleted", got, res.ResourceSets)
	}
	editFile(t, s.RepoDir, "clusters/management/kustomization.yaml", "  - providers.yaml\n", "  - providers.yaml\n  - resourceset.yaml\n")

	// A provider that does not exist, then a template error: exit 2, the
	// ResourceSet named, the plan incomplete.
	editFile(t, s.RepoDir, "clusters/management/resourceset.yaml", "  inputsFrom:\n", "  inputsFrom:\n    - name: absent\n")
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	if r.code != 2 || res.Complete || len(res.Incomplete) != 1 || res.Incomplete[0].Kind != "ResourceSet" ||
		!strings.Contains(res.Incomplete[0].Reason, "ResourceSetInputProvider "+s.Namespace+"/absent not found") {
		t.Errorf("missing provider: exit %d, incomplete %+v; want 2 and ResourceSet %s naming the provider", r.code, res.Incomplete, rsID)
	}
	editFile(t, s.RepoDir, "clusters/management/resourceset.yaml", "    - name: absent\n", "")
	editFile(t, s.RepoDir, "clusters/management/resourceset.yaml", "<< inputs.replicas | quote >>", "<< inputs.replica | quote >>")
	r = run(t, diffArgs(s, flags)...)
	if r.code != 2 || !strings.Contains(r.stdout, "ResourceSet/"+s.Namespace+"/spoke-apps on cluster management: ResourceSet "+rsID) ||
		!strings.Contains(r.stdout, `"replica"`) {
		t.Errorf("template error: exit %d, want 2 naming the ResourceSet and the input\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}
