package plugin

import (
	"context"
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// helmRepoE2EGitops is a gitops tree whose hub sync applies a
// HelmRepository over HTTP (helm's test chart repository), a values
// ConfigMap and a HelmRelease with a chart template (spec.chart.spec:
// webapp 0.1.0) for the control-plane spoke, whose failed upgrades
// helm-controller remediates with a rollback.
func helmRepoE2EGitops(t *testing.T, charts *testfleet.ChartServers, targetNS string) string {
	dir := t.TempDir()
	files := map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - source.yaml\n  - values.yaml\n  - webapp.yaml\n",
		"clusters/management/source.yaml": fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 1h
  url: %s
`, charts.HTTP.URL()),
		"clusters/management/values.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: webapp-values
  namespace: flux-system
data:
  values.yaml: |
    greeting: from-configmap
`,
		// envtest has no kubelet: nothing ever becomes ready, so no waiting.
		"clusters/management/webapp.yaml": fixture.NewHelmRelease("webapp").Target(targetNS).Spoke("control-plane").
			Chart("webapp", "0.1.0", "HelmRepository", "charts").CreateNamespace().
			With(func(hr *helmv2.HelmRelease) {
				hr.Spec.StorageNamespace = targetNS
				hr.Spec.Install.DisableWait = true
				hr.Spec.Upgrade = &helmv2.Upgrade{DisableWait: true, Remediation: &helmv2.UpgradeRemediation{Retries: 0, RemediateLastFailure: ptr.To(true)}}
				hr.Spec.Rollback = &helmv2.Rollback{DisableWait: true}
			}).
			ValuesFrom("webapp-values").Values(map[string]any{"replicas": 2}).YAML(),
	}
	for rel, content := range files {
		writeFile(t, dir, rel, content)
	}
	return dir
}

// TestE2EHelmControllerHelmRepository runs the real helm-controller on
// the HelmRepository path: it makes a HelmChart for the HelmRelease's
// chart template, which the test serves as source-controller would
// (testfleet.ServeHelmCharts), and installs webapp 0.1.0 on the
// control-plane spoke. Then diff is clean; a chart version bump, a values
// change and a hand edit on the spoke are what it reports. Then a failed
// upgrade (0.2.0 with replicas -1, refused by the spoke's apiserver) is
// remediated by helm-controller with a rollback, so the deployed release
// is revision 3, a copy of revision 1: diff is clean against it again, and
// a bump renders revision 4 (the highest in storage + 1) with the
// PodDisruptionBudget 0.2.0 drops deleted from the rolled-back release.
func TestE2EHelmControllerHelmRepository(t *testing.T) {
	parallelHelmE2E(t)
	charts := chartServers(t)
	fl := testfleet.Get(t)
	ns := testfleet.Namespace(t)
	target := "hr-" + ns
	s, flags := loadSample(t, testfleet.SampleOptions{Source: helmRepoE2EGitops(t, charts, target), NoFluxReport: true, HelmController: true})
	useChartCache(t, t.TempDir())
	c := ctx(t)
	hub := fl.Hub.Client
	arts := testfleet.NewArtifactServer()
	t.Cleanup(arts.Close)
	fl.ServeHelmCharts(t, arts, s.Namespace, charts)

	hc := startHelmController(t, fl, s.Namespace)
	key := client.ObjectKey{Namespace: s.Namespace, Name: "webapp"}
	waitReleased(t, hc, hub, key, "0.1.0", 1)
	chart := &sourcev1.HelmChart{}
	expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: s.Namespace, Name: s.Namespace + "-webapp"}, chart))
	if chart.Spec.Chart != "webapp" {
		t.Errorf("helm-controller's HelmChart: chart %q, want webapp", chart.Spec.Chart)
	}
	if chart.Spec.Version != "0.1.0" {
		t.Errorf("helm-controller's HelmChart: version %q, want 0.1.0", chart.Spec.Version)
	}
	if chart.Spec.SourceRef.Name != "charts" {
		t.Errorf("helm-controller's HelmChart: source %q, want charts", chart.Spec.SourceRef.Name)
	}
	if chart.Status.Artifact.Revision != "0.1.0" {
		t.Fatalf("helm-controller's HelmChart: artifact %+v, want revision 0.1.0", chart.Status.Artifact)
	}

	r := run(t, diffArgs(s, flags, "-o", "json")...)
	res := decodeDiff(t, r.stdout)
	if r.code != 0 {
		t.Fatalf("right after helm-controller installed: exit %d, want 0\nstderr: %s\nobjects: %+v", r.code, r.stderr, res.Objects)
	}
	if len(res.HelmReleases) != 1 {
		t.Fatalf("right after helm-controller installed: %d HelmReleases, want 1: %+v", len(res.HelmReleases), res.HelmReleases)
	}
	if p := res.HelmReleases[0].Prediction; p == nil || p.Plan != "none" {
		t.Fatalf("right after helm-controller installed: prediction %+v, want none", p)
	}
	if c := res.HelmReleases[0].Counts; c.Unchanged < 5 {
		t.Fatalf("right after helm-controller installed: %d objects unchanged, want at least 5: %+v", c.Unchanged, c)
	}

	// A chart version bump in the checkout.
	fixture.EditFile(t, s.RepoDir, "clusters/management/webapp.yaml", `version: 0.1.0`, `version: 0.2.0`)
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	if r.code != 1 {
		t.Fatalf("chart bump: exit %d, want 1\nstderr: %s", r.code, r.stderr)
	}
	got := helmObjects(res, s.Namespace+"/webapp")
	if o := got["ConfigMap"]; o.Action != diff.ActionDrifted {
		t.Errorf("chart bump: ConfigMap %s, want %s", o.Action, diff.ActionDrifted)
	}
	expect.Contains(t, "chart bump: ConfigMap diff", got["ConfigMap"].Diff, "+  logLevel: info", revisionLines(1, false, "-"), revisionLines(2, true, "+"))
	expect.Equal(t, "chart bump: Deployment: action", got["Deployment"].Action, diff.ActionDrifted)
	expect.Contains(t, "chart bump: Deployment: diff", got["Deployment"].Diff, "+        image: registry.example.com/webapp:1.27.0")
	if o := got["PodDisruptionBudget"]; o.Action != diff.ActionDeleted {
		t.Errorf("chart bump: PodDisruptionBudget %q, want deleted", o.Action)
	}
	wantPrediction(t, "chart bump", res.HelmReleases[0].Prediction, "upgrade", "chart version 0.1.0 → 0.2.0")
	fixture.EditFile(t, s.RepoDir, "clusters/management/webapp.yaml", `version: 0.2.0`, `version: 0.1.0`)

	// A values change in the checkout: spec.values and the valuesFrom
	// ConfigMap the same build applies to the hub.
	fixture.EditFile(t, s.RepoDir, "clusters/management/webapp.yaml", "replicas: 2", "replicas: 3")
	fixture.EditFile(t, s.RepoDir, "clusters/management/values.yaml", "greeting: from-configmap", "greeting: from-checkout")
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	if r.code != 1 {
		t.Fatalf("values change: exit %d, want 1\nstderr: %s", r.code, r.stderr)
	}
	got = helmObjects(res, s.Namespace+"/webapp")
	if o := got["Deployment"]; o.Action != diff.ActionDrifted {
		t.Errorf("values change: Deployment %s, want %s", o.Action, diff.ActionDrifted)
	}
	expect.Contains(t, "values change: Deployment diff", got["Deployment"].Diff, "-  replicas: 2", "+  replicas: 3")
	expect.Equal(t, "values change: ConfigMap: action", got["ConfigMap"].Action, diff.ActionDrifted)
	expect.Contains(t, "values change: ConfigMap: diff", got["ConfigMap"].Diff, "+  greeting: from-checkout")
	wantPrediction(t, "values change", res.HelmReleases[0].Prediction, "upgrade", "values changed")
	fixture.EditFile(t, s.RepoDir, "clusters/management/webapp.yaml", "replicas: 3", "replicas: 2")
	fixture.EditFile(t, s.RepoDir, "clusters/management/values.yaml", "greeting: from-checkout", "greeting: from-configmap")

	// A hand edit of a chart-managed object on the spoke.
	spoke := fl.Spokes["control-plane"].Client
	cmKey := client.ObjectKey{Namespace: target, Name: target + "-webapp"}
	cm := &corev1.ConfigMap{}
	expect.NoError(t, spoke.Get(c, cmKey, cm))
	cm.Data["greeting"] = "hand-edited"
	expect.NoError(t, spoke.Update(c, cm))
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	got = helmObjects(res, s.Namespace+"/webapp")
	if r.code != 1 {
		t.Errorf("hand edit: exit %d, want 1", r.code)
	}
	if o := got["ConfigMap"]; o.Action != diff.ActionDrifted {
		t.Errorf("hand edit: ConfigMap %s, want drifted", o.Action)
	} else {
		expect.Contains(t, "hand edit: the ConfigMap's diff (hand-edited back to from-configmap)", o.Diff, "-  greeting: hand-edited", "+  greeting: from-configmap")
	}
	if p := res.HelmReleases[0].Prediction; p == nil || p.Plan != "none" {
		t.Errorf("hand edit: prediction %+v, want none (drift detection is off)", p)
	}
	expect.NoError(t, spoke.Get(c, cmKey, cm))
	cm.Data["greeting"] = "from-configmap"
	expect.NoError(t, spoke.Update(c, cm))

	// A failed upgrade, remediated by helm-controller with a rollback.
	live := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	expect.NoError(t, hub.Patch(c, live, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"chart":{"spec":{"version":"0.2.0"}},"values":{"replicas":-1}}}`))))
	waitHelmRelease(t, hc, hub, key, "rolled back to revision 1 as revision 3", func(hr *helmv2.HelmRelease) bool {
		h := hr.Status.History
		return len(h) >= 3 && h[0].Version == 3 && h[0].Status == "deployed" && h[0].ChartVersion == "0.1.0" && h[1].Version == 2 && h[1].Status == "failed"
	})
	expect.NoError(t, hub.Patch(c, live, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"chart":{"spec":{"version":"0.1.0"}},"values":{"replicas":2}}}`))))
	waitHelmRelease(t, hc, hub, key, "reconciled the restored spec without a new release", func(hr *helmv2.HelmRelease) bool {
		return hr.Status.ObservedGeneration == hr.Generation && apimeta.IsStatusConditionTrue(hr.Status.Conditions, "Ready") &&
			hr.Status.History.Latest().Version == 3
	})
	// What the spoke holds is revision 1's manifest, as the rollback
	// applied it.
	expect.NoError(t, spoke.Get(c, cmKey, cm))
	if a := cm.Annotations["webapp.example.c5c3.io/release-revision"]; a != "1" || cm.Data["logLevel"] != "" {
		t.Fatalf("after the rollback the spoke's ConfigMap has revision %q, data %v; want revision 1's", a, cm.Data)
	}

	// The checkout is the spec the release was rolled back to: clean.
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	if r.code != 0 {
		t.Fatalf("after the rollback: exit %d, want 0\nstderr: %s\nobjects: %+v", r.code, r.stderr, res.Objects)
	}
	if len(res.HelmReleases) != 1 {
		t.Fatalf("after the rollback: %d HelmReleases, want 1: %+v", len(res.HelmReleases), res.HelmReleases)
	}
	if p := res.HelmReleases[0].Prediction; p == nil || p.Plan != "none" {
		t.Fatalf("after the rollback: prediction %+v, want none", p)
	}

	// A bump after the rollback: revision 4, from revision 3 (= 1).
	fixture.EditFile(t, s.RepoDir, "clusters/management/webapp.yaml", `version: 0.1.0`, `version: 0.2.0`)
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	got = helmObjects(res, s.Namespace+"/webapp")
	if r.code != 1 {
		t.Errorf("bump after the rollback: exit %d, want 1", r.code)
	}
	expect.Contains(t, "bump after the rollback: ConfigMap diff", got["ConfigMap"].Diff, revisionLines(1, false, "-"), revisionLines(4, true, "+"))
	if o := got["PodDisruptionBudget"]; o.Action != diff.ActionDeleted {
		t.Errorf("bump after the rollback: PodDisruptionBudget %q, want deleted from the rolled-back release", o.Action)
	}
	wantPrediction(t, "bump after the rollback", res.HelmReleases[0].Prediction, "upgrade", "chart version 0.1.0 → 0.2.0")
}

// waitHelmRelease waits until ok holds for the HelmRelease key in the hub.
func waitHelmRelease(t *testing.T, hc *testfleet.Controller, hub client.Client, key client.ObjectKey, what string, ok func(*helmv2.HelmRelease) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		hr := &helmv2.HelmRelease{}
		if err := hub.Get(ctx, key, hr); err == nil && ok(hr) {
			return
		}
		if err := hc.Exited(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			hr := &helmv2.HelmRelease{}
			_ = hub.Get(context.Background(), key, hr)
			t.Fatalf("helm-controller has not %s (%s): history %+v, conditions %+v", what, key, hr.Status.History, hr.Status.Conditions)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
