package diff_test

import (
	"context"
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// The engine's HelmRelease scenarios on the test fleet (moved from
// plugin's helm_*_test.go): each loads a gitops tree of its own as the
// sample, serves its charts, and calls diff.Run as the command does,
// checking the typed result and the text and markdown renderings.

// chartServers starts helm's test chart servers for a fleet test. The
// fleet comes first, so under -short the test skips before the charts are
// packaged and served (10-20 s a test on a loaded machine).
func chartServers(t *testing.T) *testfleet.ChartServers {
	t.Helper()
	testfleet.Get(t)
	return testfleet.StartChartServers(t)
}

// loadHelmScenario loads the gitops tree source (no FluxReport) for t,
// which runs in parallel; its runs keep their charts in a cache of t's own.
func loadHelmScenario(t *testing.T, source string) *scenario {
	t.Helper()
	sc := loadScenarioWith(t, testfleet.SampleOptions{Source: source, NoFluxReport: true})
	sc.chartCache = t.TempDir()
	return sc
}

// fleetCtx is a context for a test's requests before its sample loads.
func fleetCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return c
}

// text is the result as -o text prints it (colour off).
func text(t *testing.T, res *diff.Result) string {
	t.Helper()
	var b strings.Builder
	expect.NoError(t, diff.WriteText(&b, res, printers.Palette{}))
	return b.String()
}

// markdown is the result as -o markdown prints it.
func markdown(t *testing.T, res *diff.Result) string {
	t.Helper()
	var b strings.Builder
	expect.NoError(t, diff.WriteMarkdown(&b, res, diff.MarkdownLimit))
	return b.String()
}

func hrsOf(r *diff.Result) map[string]diff.HelmReleaseResult {
	out := map[string]diff.HelmReleaseResult{}
	for _, h := range r.HelmReleases {
		out[h.Name] = h
	}
	return out
}

// helmObjects are the objects of r rendered for HelmRelease hr
// (namespace/name), by kind.
func helmObjects(r *diff.Result, hr string) map[string]diff.ObjectResult {
	out := map[string]diff.ObjectResult{}
	for _, o := range r.Objects {
		if o.HelmRelease == hr {
			out[o.Kind] = o
		}
	}
	return out
}

// TestRunHelmRelease renders a HelmRelease from helm's repotest chart
// repository with values from a hub ConfigMap and spec.values, and diffs
// the rendered objects on the control-plane spoke: all created there (in
// the namespace install.createNamespace makes), under
// the HelmRelease, Secret values masked; the HelmRelease whose chart does
// not resolve is an error (exit 2) without hiding the other; NoHelm
// (--helm=false) shows no rendered objects.
func TestRunHelmRelease(t *testing.T) {
	t.Parallel()
	charts := chartServers(t)
	target := "helm-" + testfleet.Namespace(t)
	sc := loadHelmScenario(t, fixture.HelmGitops(t, charts.HTTP.URL(), target))
	s := sc.s

	res := sc.run(t, 0, diff.Options{})
	wantOutcome(t, "one HelmRelease's chart does not resolve", res, 2)
	if strings.Contains(asJSON(t, res), "s3cr3t-do-not-print") {
		t.Fatal("a Secret value of the render was printed")
	}
	hrs := hrsOf(res)
	for _, part := range []string{">=9", s.Namespace + "/broken"} {
		if !strings.Contains(hrs["broken"].Error, part) {
			t.Errorf("broken HelmRelease: error %q lacks %q", hrs["broken"].Error, part)
		}
	}
	// The plan says it is incomplete, naming the HelmRelease, its chart
	// (from the spec: it never loaded) and why.
	if res.Complete {
		t.Errorf("json: complete, want not")
	}
	if len(res.Incomplete) != 1 {
		t.Fatalf("json: incomplete %+v, want HelmRelease broken only", res.Incomplete)
	}
	if in := res.Incomplete[0]; in.Kind != "HelmRelease" || in.Name != "broken" {
		t.Errorf("json: incomplete %s %s, want HelmRelease broken", in.Kind, in.Name)
	}
	if in := res.Incomplete[0]; in.Chart != "webapp" {
		t.Errorf("json: incomplete chart %q, want webapp", in.Chart)
	}
	if in := res.Incomplete[0]; !strings.Contains(in.Reason, ">=9") {
		t.Errorf("json: incomplete reason %q, want it to name >=9", in.Reason)
	}
	w := hrs["webapp"]
	if w.Error != "" {
		t.Fatalf("webapp HelmRelease: error %q", w.Error)
	}
	if w.Cluster != "control-plane" {
		t.Fatalf("webapp HelmRelease: cluster %q, want control-plane", w.Cluster)
	}
	if w.Release != target+"-webapp" {
		t.Fatalf("webapp HelmRelease: release %q, want %s-webapp", w.Release, target)
	}
	if w.Prediction == nil {
		t.Fatalf("webapp HelmRelease: no prediction: %+v", w)
	}
	if w.Prediction.ToVersion != "0.1.0" || w.Prediction.Plan != "install" {
		t.Fatalf("webapp HelmRelease: prediction %s of %s, want install of 0.1.0", w.Prediction.Plan, w.Prediction.ToVersion)
	}
	got := map[string]diff.ObjectResult{}
	for _, o := range res.Objects {
		if o.HelmRelease == s.Namespace+"/webapp" {
			got[o.Kind] = o
			if o.Cluster != "control-plane" {
				t.Errorf("%s: on cluster %s, want control-plane", o.ID(), o.Cluster)
			}
			if o.Namespace != target {
				t.Errorf("%s: in namespace %s, want %s", o.ID(), o.Namespace, target)
			}
			if o.Action != diff.ActionCreated {
				t.Errorf("%s: %s, want created", o.ID(), o.Action)
			}
		}
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Secret", "Service", "PodDisruptionBudget"} {
		if _, ok := got[k]; !ok {
			t.Errorf("rendered %s missing; got %v", k, got)
		}
	}
	if r := got["ConfigMap"].Reason; !strings.Contains(r, "install.createNamespace") {
		t.Errorf("the target namespace does not exist yet: reason %q", r)
	}
	if d := got["ConfigMap"].Diff; !strings.Contains(d, "greeting: from-configmap") {
		t.Errorf("valuesFrom ConfigMap not applied:\n%s", d)
	}
	expect.Contains(t, "Deployment diff (spec.values over valuesFrom, origin labels)", got["Deployment"].Diff, "replicas: 3", "helm.toolkit.fluxcd.io/name: webapp")
	if w.Counts.Created != 5 {
		t.Errorf("webapp counts %+v, want 5 created", w.Counts)
	}

	txt := text(t, res)
	if !strings.Contains(txt, "► ConfigMap/"+target+"/"+target+"-webapp created via HelmRelease/"+s.Namespace+"/webapp") {
		t.Errorf("text output lacks the via line:\n%s", txt)
	}
	for _, want := range []string{
		"Plan incomplete: 1 Kustomization or HelmRelease could not be rendered or diffed; what it would change is unknown:\n" +
			"  HelmRelease/" + s.Namespace + "/broken on cluster control-plane (chart webapp): HelmRelease " + s.Namespace + "/broken",
		"HelmRelease/" + s.Namespace + "/broken", "(chart webapp)",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("text output lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "(chart )") {
		t.Errorf("the summary names no chart:\n%s", txt)
	}
	// Markdown: the HelmReleases table and the rendered objects in the
	// target cluster's block, under their HelmRelease.
	md := markdown(t, res)
	for _, want := range []string{
		"| HelmRelease | Cluster | Release | Chart | Version | Plan |",
		"| `" + s.Namespace + "/webapp` | control-plane | " + target + "/" + target + "-webapp | webapp | (none) → 0.1.0 | install (no deployed release in Helm storage on the target), server-side apply | 5 | 0 | 0 | 0 | 0 |",
		"| `" + s.Namespace + "/broken` | control-plane |",
		"<details><summary>control-plane:",
		"**► ConfigMap/" + target + "/" + target + "-webapp created** (HelmRelease `" + s.Namespace + "/webapp`)",
		"**HelmRelease `" + s.Namespace + "/broken`**: :x: HelmRelease " + s.Namespace + "/broken",
		"> :warning: **Plan incomplete: 1 Kustomization or HelmRelease could not be rendered or diffed; what it would change is unknown**",
		"> - HelmRelease/" + s.Namespace + "/broken on cluster control-plane (chart webapp): ",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "s3cr3t-do-not-print") {
		t.Fatal("a Secret value of the render was printed in markdown")
	}

	// The chart is cached: a second, offline run needs no repository.
	charts.HTTP.Stop()
	if res := sc.run(t, 0, diff.Options{Offline: true}); len(res.HelmReleases) != 2 {
		t.Errorf("offline: %d HelmReleases", len(res.HelmReleases))
	} else if off := hrsOf(res)["webapp"]; off.Error != "" || off.Counts.Created != 5 {
		t.Errorf("offline webapp from the cache: %+v", off)
	}

	if no := sc.run(t, 0, diff.Options{NoHelm: true}); len(no.HelmReleases) != 0 || no.HasErrors() {
		t.Errorf("NoHelm: errors %t, %d HelmReleases rendered", no.HasErrors(), len(no.HelmReleases))
	}
}

// TestRunHelmReleaseNoDoubleReport: a HelmRelease applied to the hub whose
// chart renders an object that the same Kustomization's build also applies
// to the hub (ConfigMap <ns>/webapp) reports that object once, under the
// Kustomization; the chart's other objects are reported under the
// HelmRelease.
func TestRunHelmReleaseNoDoubleReport(t *testing.T) {
	t.Parallel()
	charts := chartServers(t)
	ns := "dup-" + testfleet.Namespace(t)
	dir := t.TempDir()
	fixture.WriteFiles(t, dir, map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - repo.yaml\n  - configmap.yaml\n  - webapp.yaml\n",
		"clusters/management/repo.yaml":          fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: %s\n", charts.HTTP.URL()),
		"clusters/management/configmap.yaml":     fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: webapp\n  namespace: %s\ndata:\n  GREETING: from-the-kustomization\n", ns),
		"clusters/management/webapp.yaml": fixture.NewHelmRelease("webapp").ReleaseName("webapp").Target(ns).
			Chart("webapp", "0.1.0", "HelmRepository", "charts").YAML(),
	})
	expect.NoError(t, testfleet.Get(t).Hub.Client.Create(fleetCtx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	sc := loadHelmScenario(t, dir)
	s := sc.s
	// An unpushed edit of the Kustomization's ConfigMap: it drifts.
	sc.edit(t, "clusters/management/configmap.yaml", "from-the-kustomization", "edited")

	res := sc.run(t, 0, diff.Options{})
	wantOutcome(t, "the Kustomization's ConfigMap drifts", res, 1)
	var cms []diff.ObjectResult
	kinds := map[string]bool{}
	for _, o := range res.Objects {
		if o.Kind == "ConfigMap" && o.Namespace == ns && o.Name == "webapp" {
			cms = append(cms, o)
		}
		if o.HelmRelease == s.Namespace+"/webapp" {
			kinds[o.Kind] = true
		}
	}
	if len(cms) != 1 {
		t.Errorf("ConfigMap %s/webapp reported %d times, want once: %+v", ns, len(cms), cms)
	} else {
		if cms[0].HelmRelease != "" || cms[0].Kustomization != s.Namespace+"/flux-system" {
			t.Errorf("ConfigMap %s/webapp reported under HelmRelease %q, Kustomization %q; want under the Kustomization %s/flux-system only",
				ns, cms[0].HelmRelease, cms[0].Kustomization, s.Namespace)
		}
		if cms[0].Action != diff.ActionDrifted {
			t.Errorf("ConfigMap %s/webapp: %s, want drifted", ns, cms[0].Action)
		}
	}
	for _, k := range []string{"Deployment", "Secret", "Service", "PodDisruptionBudget"} {
		if !kinds[k] {
			t.Errorf("rendered %s missing under the HelmRelease; got %v", k, kinds)
		}
	}
	if h := hrsOf(res)["webapp"]; h.Error != "" || h.Counts.Created != 4 {
		t.Errorf("webapp HelmRelease %+v, want 4 created (the ConfigMap counted under the Kustomization)", h)
	}
}

// TestRunHelmReleaseValuesFromOtherBuild: a HelmRelease's valuesFrom
// ConfigMap applied to the hub by another Kustomization of the checkout
// is taken from that Kustomization's build (an unpushed edit shows up in
// the render), and one made out of band, only live on the hub, is read
// live.
func TestRunHelmReleaseValuesFromOtherBuild(t *testing.T) {
	t.Parallel()
	charts := chartServers(t)
	target := "vf-" + testfleet.Namespace(t)
	dir := t.TempDir()
	fixture.WriteFiles(t, dir, map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - repo.yaml\n  - values-ks.yaml\n  - webapp.yaml\n",
		"clusters/management/repo.yaml":          fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: %s\n", charts.HTTP.URL()),
		"clusters/management/values-ks.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: webapp-values
  namespace: flux-system
spec:
  interval: 10m
  path: ./values
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
		"values/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - configmap.yaml\n",
		"values/configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: webapp-values\n  namespace: flux-system\ndata:\n  values.yaml: |\n    greeting: as-pushed\n",
		"clusters/management/webapp.yaml": fixture.NewHelmRelease("webapp").Target(target).Spoke("control-plane").
			Chart("webapp", "0.1.0", "HelmRepository", "charts").CreateNamespace().ValuesFrom("webapp-values", "webapp-out-of-band").YAML(),
	})
	sc := loadHelmScenario(t, dir)
	s := sc.s
	expect.NoError(t, s.Fleet.Hub.Client.Create(sc.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "webapp-out-of-band"},
		Data: map[string]string{"values.yaml": "replicas: 7\n"}}))
	// An unpushed edit of the other Kustomization's ConfigMap.
	sc.edit(t, "values/configmap.yaml", "as-pushed", "edited-in-git")

	res := sc.run(t, 0, diff.Options{})
	wantOutcome(t, "values edited", res, 1)
	if h := hrsOf(res)["webapp"]; h.Error != "" || h.Kustomization != s.Namespace+"/flux-system" {
		t.Fatalf("webapp HelmRelease %+v", h)
	}
	got := helmObjects(res, s.Namespace+"/webapp")
	if d := got["ConfigMap"].Diff; !strings.Contains(d, "+  greeting: edited-in-git") {
		t.Errorf("valuesFrom ConfigMap of the Kustomization webapp-values not taken from its build:\n%s", d)
	}
	if d := got["Deployment"].Diff; !strings.Contains(d, "+  replicas: 7") {
		t.Errorf("valuesFrom ConfigMap made out of band not read from the hub:\n%s", d)
	}
	var edited bool
	for _, o := range res.Objects {
		edited = edited || (o.Kustomization == s.Namespace+"/webapp-values" && o.Kind == "ConfigMap" && o.Name == "webapp-values" && o.Action == diff.ActionDrifted)
	}
	if !edited {
		t.Errorf("the edit of ConfigMap webapp-values is not reported under Kustomization webapp-values: %+v", res.Objects)
	}
}
