package plugin

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/helmname"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// yamlEdgeGitops is a gitops tree whose hub sync applies an OCIRepository
// for the yamledge chart and two HelmReleases of it on the control-plane
// spoke: yamledge-plain with the chart's defaults, yamledge-fallback with
// fallback=true (an anchor, aliases, a merge key and a List).
func yamlEdgeGitops(t *testing.T, charts *testfleet.ChartServers, targetNS string) string {
	dir := t.TempDir()
	hr := func(name string, values map[string]any) string {
		b := fixture.NewHelmRelease(name).Target(targetNS).Spoke("control-plane").ChartRef("OCIRepository", "yamledge").CreateNamespace().
			With(func(hr *helmv2.HelmRelease) {
				hr.Spec.StorageNamespace = targetNS
				hr.Spec.Install.DisableWait = true
			})
		if values != nil {
			b = b.Values(values)
		}
		return b.YAML()
	}
	files := map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - source.yaml\n  - plain.yaml\n  - fallback.yaml\n",
		"clusters/management/source.yaml": fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: yamledge
  namespace: flux-system
spec:
  interval: 1h
  url: oci://%s/charts/yamledge
  insecure: true
  secretRef:
    name: registry-auth
  ref:
    tag: "0.1.0"
`, charts.OCIHost),
		"clusters/management/plain.yaml":    hr("yamledge-plain", nil),
		"clusters/management/fallback.yaml": hr("yamledge-fallback", map[string]any{"fallback": true}),
	}
	for rel, content := range files {
		writeFile(t, dir, rel, content)
	}
	return dir
}

// TestE2EHelmYAMLEdges proves the plugin's render of helm-controller's
// origin-label post-rendering against the real helm-controller: it
// installs the yamledge chart (YAML 1.1 booleans as keys and values,
// dates, timestamps, octal, hex, exponents, big integers, multi-line and
// folded strings, comments and empty documents) twice, as yamledge-plain
// (rendered by the plugin without the kustomize round trip) and
// yamledge-fallback (an anchor, aliases, a merge key and a List, which
// the plugin hands to kustomize); each release rendered again as it was
// installed gives exactly the objects helm-controller stored.
func TestE2EHelmYAMLEdges(t *testing.T) {
	parallelHelmE2E(t)
	charts := chartServers(t)
	fl := testfleet.Get(t)
	ns := testfleet.Namespace(t)
	target := "ye-" + ns
	s, _ := loadSample(t, testfleet.SampleOptions{Source: yamlEdgeGitops(t, charts, target), NoFluxReport: true})
	c := ctx(t)
	hub := fl.Hub.Client
	arts := ociChartSource(t, c, hub, s.Namespace, charts)
	archive := charts.Charts["yamledge-0.1.0"]
	expect.NoError(t, fl.PublishChartArtifact(c, arts, client.ObjectKey{Namespace: s.Namespace, Name: "yamledge"}, archive))
	hc := startHelmController(t, fl, s.Namespace)

	ch, err := loader.Load(archive.Archive)
	expect.NoError(t, err)
	spoke := fl.Spokes["control-plane"]
	cs, err := kubernetes.NewForConfig(spoke.Config)
	expect.NoError(t, err)
	caps, err := helmrender.TargetCapabilities(cs.Discovery())
	expect.NoError(t, err)
	for _, tc := range []struct {
		name string
		fast bool
	}{{"yamledge-plain", true}, {"yamledge-fallback", false}} {
		key := client.ObjectKey{Namespace: s.Namespace, Name: tc.name}
		waitReleased(t, hc, hub, key, "0.1.0", 1)
		hr := &helmv2.HelmRelease{}
		expect.NoError(t, hub.Get(c, key, hr))
		cur, err := helmrender.CurrentRelease(cs.CoreV1().Secrets(target), helmname.ReleaseName(hr))
		expect.NoError(t, err)
		values, err := helmrender.Values(c, hub, hr)
		expect.NoError(t, err)
		r, err := helmrender.Render(c, helmrender.Request{HelmRelease: hr, Chart: &helmrender.Loaded{Chart: ch}, Values: values,
			From: cur, Revision: cur.ManifestRevision, Capabilities: caps})
		expect.NoError(t, err)
		if r.FastPostRender != tc.fast {
			t.Errorf("%s: rendered with the fast post-render %t, want %t", tc.name, r.FastPostRender, tc.fast)
		}
		stored := helmrender.Deployed(hr, cur).Objects
		byID := func(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
			m := map[string]*unstructured.Unstructured{}
			for _, o := range objs {
				m[o.GetKind()+"/"+o.GetName()] = o
			}
			return m
		}
		got, want := byID(r.Objects), byID(stored)
		if len(r.Objects) != len(stored) || len(got) != len(want) {
			t.Errorf("%s: rendered %d objects, helm-controller stored %d", tc.name, len(r.Objects), len(stored))
		}
		for id, w := range want {
			g := got[id]
			if g == nil || !reflect.DeepEqual(g.Object, w.Object) {
				gj, _ := json.Marshal(g)
				wj, _ := json.Marshal(w.Object)
				t.Errorf("%s: %s rendered\n  %s\nhelm-controller stored\n  %s", tc.name, id, gj, wj)
			}
		}
		// What kustomize's YAML 1.2 reading made of the chart's YAML: YAML 1.1
		// booleans stay strings, 0o17 is 15, a date a timestamp.
		rel := target + "-" + tc.name
		cm := want["ConfigMap/"+rel+"-strings"]
		w := want["Widget/"+rel+"-numbers"]
		if cm == nil || w == nil {
			t.Fatalf("%s: stored objects %v lack the strings ConfigMap or the numbers Widget", tc.name, reflect.ValueOf(want).MapKeys())
		}
		data := cm.Object["data"].(map[string]any)
		for k, v := range map[string]any{"yes": "yes", "on": "on", "y": "n", "date": "2001-12-14T00:00:00Z", "multiLine": "first line\n  indented line\n\nafter a blank line\n"} {
			expect.Equal(t, tc.name+": ConfigMap data."+k, data[k], v)
		}
		spec := w.Object["spec"].(map[string]any)
		for k, v := range map[string]any{"octal": int64(15), "exponent": int64(1000), "date": "2001-12-14T00:00:00Z", "wholeFloat": int64(2)} {
			expect.Equal(t, tc.name+": Widget spec."+k, spec[k], v)
		}
		if !tc.fast {
			if want["ConfigMap/"+rel+"-listed"] == nil || want["Widget/"+rel+"-anchors"] == nil {
				t.Errorf("%s: stored objects %v lack the List's ConfigMap or the anchors Widget", tc.name, reflect.ValueOf(want).MapKeys())
			}
		}
	}
}
