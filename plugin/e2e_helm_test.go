package plugin

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// helmE2EGitops is a gitops tree whose hub sync applies an OCIRepository
// for the webapp chart in helm's test registry (with its credentials), a
// values ConfigMap and a HelmRelease with that chartRef for the
// control-plane spoke.
func helmE2EGitops(t *testing.T, charts *testfleet.ChartServers, targetNS string) string {
	dir := t.TempDir()
	files := map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - source.yaml\n  - values.yaml\n  - webapp.yaml\n",
		"clusters/management/source.yaml": fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: webapp
  namespace: flux-system
spec:
  interval: 1h
  url: oci://%s/charts/webapp
  insecure: true
  secretRef:
    name: registry-auth
  ref:
    tag: "0.1.0"
`, charts.OCIHost),
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
			ChartRef("OCIRepository", "webapp").CreateNamespace().
			With(func(hr *helmv2.HelmRelease) {
				hr.Spec.StorageNamespace = targetNS
				hr.Spec.Install.DisableWait = true
				hr.Spec.Upgrade = &helmv2.Upgrade{DisableWait: true}
			}).
			ValuesFrom("webapp-values").Values(map[string]any{"replicas": 2}).YAML(),
	}
	for rel, content := range files {
		writeFile(t, dir, rel, content)
	}
	return dir
}

// TestE2EHelmController runs the real helm-controller (built by `make
// flux-bins`): it installs a HelmRelease from an OCIRepository artifact
// onto the control-plane spoke, and then diff must find nothing to change,
// from the stored manifest without a render or a dry-run; a hand edit on
// the spoke alone is found from it with one dry-run; a values change in the checkout (rendered as the upgrade to revision 2)
// and a hand edit on the spoke are what diff reports; after helm-controller
// made that upgrade there is nothing to change again (and status finds
// Helm's storage as helm-controller reports it); a chart bump (whose
// 0.2.0 drops a template) renders revision 3.
func TestE2EHelmController(t *testing.T) {
	parallelHelmE2E(t)
	charts := chartServers(t)
	fl := testfleet.Get(t)
	ns := testfleet.Namespace(t)
	target := "hc-" + ns
	s, flags := loadSample(t, testfleet.SampleOptions{Source: helmE2EGitops(t, charts, target), NoFluxReport: true})
	useChartCache(t, t.TempDir())
	c := ctx(t)
	hub := fl.Hub.Client
	arts := ociChartSource(t, c, hub, s.Namespace, charts)
	expect.NoError(t, fl.PublishChartArtifact(c, arts, client.ObjectKey{Namespace: s.Namespace, Name: "webapp"}, charts.Charts["webapp-0.1.0"]))

	hc := startHelmController(t, fl, s.Namespace)
	key := client.ObjectKey{Namespace: s.Namespace, Name: "webapp"}
	waitReleased(t, hc, hub, key, "0.1.0", 1)

	r := run(t, diffArgs(s, flags, "-o", "json")...)
	res := decodeDiff(t, r.stdout)
	if r.code != 0 {
		t.Fatalf("right after helm-controller installed: exit %d, want 0\nstderr: %s\nobjects: %+v\nhelmReleases: %+v", r.code, r.stderr, res.Objects, res.HelmReleases)
	}
	if len(res.HelmReleases) != 1 {
		t.Fatalf("installed release: HelmReleases %+v, want one", res.HelmReleases)
	}
	if n := res.HelmReleases[0].Counts.Unchanged; n < 5 {
		t.Errorf("installed release: %d objects unchanged, want at least 5", n)
	}
	if p := res.HelmReleases[0].Prediction; p == nil || p.Plan != "none" {
		t.Fatalf("installed release: prediction %+v, want none", p)
	}

	// Every rendered object is unchanged: the local pre-check skips each
	// dry-run (no PATCH to the spoke); --verify-unchanged sends them all.
	if n := helmDryRuns(t, fl, s, false); n != 0 {
		t.Errorf("unchanged release: %d dry-runs on control-plane, want 0 (the local pre-check)", n)
	}
	if n := helmDryRuns(t, fl, s, true); n < res.HelmReleases[0].Counts.Unchanged {
		t.Errorf("unchanged release with --verify-unchanged: %d dry-runs on control-plane, want one per rendered object (%d)", n, res.HelmReleases[0].Counts.Unchanged)
	}
	// In sync with the checkout, the release is not rendered: its objects
	// are the manifest helm-controller stored, which its drift detection
	// reads.
	expect.Equal(t, "installed release: manifest", res.HelmReleases[0].Manifest, diff.ManifestStored)

	// A hand edit on the spoke alone: the release stays in sync (no
	// upgrade due, still not rendered) and the stored manifest's
	// ConfigMap is found drifted, the only object dry-run.
	spoke := fl.Spokes["control-plane"].Client
	cm := &corev1.ConfigMap{}
	expect.NoError(t, spoke.Get(c, client.ObjectKey{Namespace: target, Name: target + "-webapp"}, cm))
	cm.Data["greeting"] = "hand-edited"
	expect.NoError(t, spoke.Update(c, cm))
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	wantExit(t, "hand edit of an in-sync release", r, 1)
	if len(res.HelmReleases) != 1 {
		t.Fatalf("hand edit of an in-sync release: HelmReleases %+v, want one", res.HelmReleases)
	}
	expect.Equal(t, "hand edit of an in-sync release: manifest", res.HelmReleases[0].Manifest, diff.ManifestStored)
	if p := res.HelmReleases[0].Prediction; p == nil || p.Plan != "none" {
		t.Errorf("hand edit of an in-sync release: prediction %+v, want none", p)
	}
	got := helmObjects(res, s.Namespace+"/webapp")
	expect.Equal(t, "hand edit of an in-sync release: ConfigMap: action", got["ConfigMap"].Action, diff.ActionDrifted)
	expect.Contains(t, "hand edit of an in-sync release: ConfigMap: diff", got["ConfigMap"].Diff, "-  greeting: hand-edited", "+  greeting: from-configmap")
	if c := res.HelmReleases[0].Counts; c.Drifted != 1 || c.Created+c.Deleted+c.Errors != 0 {
		t.Errorf("hand edit of an in-sync release: counts %+v, want the ConfigMap drifted alone", c)
	}
	if n := helmDryRuns(t, fl, s, false); n != 1 {
		t.Errorf("hand edit of an in-sync release: %d dry-runs on control-plane, want 1 (the drifted ConfigMap)", n)
	}

	// A values change in the checkout, with the hand edit: an upgrade is
	// due, so the chart is rendered.
	fixture.EditFile(t, s.RepoDir, "clusters/management/webapp.yaml", "replicas: 2", "replicas: 4")
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	if r.code != 1 {
		t.Fatalf("values change and hand edit: exit %d, want 1\nstderr: %s", r.code, r.stderr)
	}
	expect.Equal(t, "values change: manifest", res.HelmReleases[0].Manifest, diff.ManifestRendered)
	got = helmObjects(res, s.Namespace+"/webapp")
	expect.Equal(t, "values change: Deployment: action", got["Deployment"].Action, diff.ActionDrifted)
	expect.Contains(t, "values change: Deployment: diff", got["Deployment"].Diff, "+  replicas: 4")
	expect.Equal(t, "hand edit: ConfigMap: action", got["ConfigMap"].Action, diff.ActionDrifted)
	expect.Contains(t, "hand edit: ConfigMap: diff", got["ConfigMap"].Diff, "-  greeting: hand-edited")
	// The pre-check only ever skips the server for unchanged objects:
	// dry-running every object gives the same result.
	if all := run(t, diffArgs(s, flags, "-o", "json", "--verify-unchanged")...); all.code != 1 || all.stdout != r.stdout {
		t.Errorf("values change and hand edit: --verify-unchanged gives another result (exit %d):\n%s\nwithout it:\n%s", all.code, all.stdout, r.stdout)
	}
	// The upgrade renders revision 2 as helm-controller's upgrade does.
	expect.Contains(t, "upgrade to revision 2: ConfigMap diff", got["ConfigMap"].Diff, revisionLines(1, false, "-"), revisionLines(2, true, "+"))
	if p := res.HelmReleases[0].Prediction; p.Plan != "upgrade" || p.Reason != "values changed" {
		t.Errorf("prediction %+v", p)
	}

	// helm-controller upgrades to revision 2 (the hand edit undone, the
	// values change pushed): nothing left to change, the deployed upgrade
	// rendered again at its own revision.
	cm.Data["greeting"] = "from-configmap"
	expect.NoError(t, spoke.Update(c, cm))
	live := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	expect.NoError(t, hub.Patch(c, live, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"values":{"replicas":4}}}`))))
	waitReleased(t, hc, hub, key, "0.1.0", 2)
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	wantExit(t, "right after helm-controller upgraded", r, 0)
	if len(res.HelmReleases) != 1 {
		t.Fatalf("right after helm-controller upgraded: HelmReleases %+v, want one", res.HelmReleases)
	}
	if p := res.HelmReleases[0].Prediction; p == nil || p.Plan != "none" {
		t.Fatalf("right after helm-controller upgraded: prediction %+v, want none", p)
	}
	// status compares Helm's storage with the history helm-controller wrote.
	st := decode(t, run(t, append([]string{"status", "--cluster", "control-plane", "-o", "json"}, flags...)...).stdout)
	var compared int
	for _, o := range st.Clusters[0].Objects {
		if o.Kind != "HelmRelease" {
			continue
		}
		compared++
		rel := o.Release
		if rel == nil {
			t.Errorf("status of %s after helm-controller upgraded: no release", o.ID())
			continue
		}
		if rel.Problem != "" || rel.Error != "" {
			t.Errorf("status of %s after helm-controller upgraded: problem %q, error %q", o.ID(), rel.Problem, rel.Error)
		}
		if rel.Revision != 2 || rel.StorageRevision != 2 {
			t.Errorf("status of %s after helm-controller upgraded: revision %d, in storage %d; want 2 and 2", o.ID(), rel.Revision, rel.StorageRevision)
		}
		if rel.Status != "deployed" || rel.StorageStatus != "deployed" {
			t.Errorf("status of %s after helm-controller upgraded: status %q, in storage %q; want deployed", o.ID(), rel.Status, rel.StorageStatus)
		}
	}
	if compared != 1 || st.Summary.ReleaseProblems != 0 {
		t.Errorf("status after helm-controller upgraded: %d HelmReleases, summary %+v", compared, st.Summary)
	}

	// helm-controller v1.5+ records the release's objects in
	// status.inventory: status shows its size, trace finds an object
	// without owner labels through it, and through Helm storage once the
	// inventory is gone (an older helm-controller's HelmRelease).
	liveHR := &helmv2.HelmRelease{}
	expect.NoError(t, hub.Get(c, key, liveHR))
	if liveHR.Status.Inventory == nil || len(liveHR.Status.Inventory.Entries) < 5 {
		t.Fatalf("helm-controller wrote no status.inventory: %+v", liveHR.Status.Inventory)
	}
	inventory := liveHR.Status.Inventory.DeepCopy()
	for _, o := range st.Clusters[0].Objects {
		if o.Kind == "HelmRelease" && (o.Inventory == nil || *o.Inventory != len(inventory.Entries)) {
			t.Errorf("status of %s: inventory %v, want %d", o.ID(), o.Inventory, len(inventory.Entries))
		}
	}
	cmKey := client.ObjectKey{Namespace: target, Name: target + "-webapp"}
	expect.NoError(t, spoke.Get(c, cmKey, cm))
	delete(cm.Labels, "helm.toolkit.fluxcd.io/name")
	delete(cm.Labels, "helm.toolkit.fluxcd.io/namespace")
	expect.NoError(t, spoke.Update(c, cm))
	traceCM := func(how string) {
		t.Helper()
		r := run(t, traceArgs(s, "configmap/"+cmKey.Name, "-n", target, "--cluster", "control-plane", "-o", "json")...)
		tr := decodeTrace(t, r.stdout)
		if len(tr.Chain) == 0 {
			t.Fatalf("trace of the unlabelled ConfigMap: exit %d, no chain, want HelmRelease/%s\n%s", r.code, key, r.stderr)
		}
		expect.Equal(t, "trace of the unlabelled ConfigMap: applier", tr.Chain[0].ID(), "HelmRelease/"+key.String())
		expect.Equal(t, "trace of the unlabelled ConfigMap: managed", tr.Managed, true)
		expect.Contains(t, "trace of the unlabelled ConfigMap: notices", strings.Join(tr.Notices, "\n"), how)
	}
	traceCM("HelmRelease/" + key.String() + " lists it in its inventory")
	setInventory := func(inv *helmv2.ResourceInventory) {
		t.Helper()
		expect.NoError(t, hub.Get(c, key, liveHR))
		liveHR.Status.Inventory = inv
		expect.NoError(t, hub.Status().Update(c, liveHR))
	}
	setInventory(nil)
	traceCM("HelmRelease/" + key.String() + " has no status.inventory; its release in Helm storage holds it")

	// A chart bump: 0.2.0 drops the PodDisruptionBudget and adds a key.
	fixture.EditFile(t, s.RepoDir, "clusters/management/source.yaml", `tag: "0.1.0"`, `tag: "0.2.0"`)
	r = run(t, diffArgs(s, flags, "-o", "json")...)
	res = decodeDiff(t, r.stdout)
	got = helmObjects(res, s.Namespace+"/webapp")
	if o := got["PodDisruptionBudget"]; o.Action != diff.ActionDeleted {
		t.Errorf("removed template, no status.inventory (Helm storage): PodDisruptionBudget %q", o.Action)
	}
	// With status.inventory, deletions come from it: an inventory without
	// the PodDisruptionBudget deletes nothing; the inventory helm-controller
	// wrote deletes it.
	var withoutPDB helmv2.ResourceInventory
	for _, e := range inventory.Entries {
		if !strings.HasSuffix(e.ID, "_policy_PodDisruptionBudget") {
			withoutPDB.Entries = append(withoutPDB.Entries, e)
		}
	}
	if len(withoutPDB.Entries) != len(inventory.Entries)-1 {
		t.Fatalf("the inventory helm-controller wrote has no PodDisruptionBudget: %+v", inventory.Entries)
	}
	setInventory(&withoutPDB)
	res = decodeDiff(t, run(t, diffArgs(s, flags, "-o", "json")...).stdout)
	if o, ok := helmObjects(res, s.Namespace+"/webapp")["PodDisruptionBudget"]; ok {
		t.Errorf("removed template, not in status.inventory: PodDisruptionBudget %q, want no deletion", o.Action)
	}
	setInventory(inventory)
	res = decodeDiff(t, run(t, diffArgs(s, flags, "-o", "json")...).stdout)
	got = helmObjects(res, s.Namespace+"/webapp")
	if o := got["PodDisruptionBudget"]; o.Action != diff.ActionDeleted {
		t.Errorf("removed template, in status.inventory: PodDisruptionBudget %q", o.Action)
	}
	expect.Contains(t, "chart bump to revision 3: ConfigMap diff", got["ConfigMap"].Diff, "+  logLevel: info",
		`-    webapp.example.c5c3.io/release-revision: "2"`, `+    webapp.example.c5c3.io/release-revision: "3"`)
	p := res.HelmReleases[0].Prediction
	if p == nil {
		t.Fatalf("no prediction, want an upgrade 0.1.0+ → 0.2.0+")
	}
	expect.Equal(t, "prediction", p.Plan, "upgrade")
	if !strings.HasPrefix(p.ToVersion, "0.2.0+") {
		t.Errorf("prediction to %q, want 0.2.0+…", p.ToVersion)
	}
	if !strings.HasPrefix(p.FromVersion, "0.1.0+") {
		t.Errorf("prediction from %q, want 0.1.0+…", p.FromVersion)
	}
}

// chartServers starts helm's test chart servers for a fleet test. The
// fleet comes first, so under -short the test skips before the charts are
// packaged and served (10-20 s a test on a loaded machine).
func chartServers(t *testing.T) *testfleet.ChartServers {
	t.Helper()
	testfleet.Get(t)
	return testfleet.StartChartServers(t)
}

// helmGitops is fixture.HelmGitops: HelmReleases webapp and broken (no
// chart version matches) for the control-plane spoke, from repoURL.
func helmGitops(t *testing.T, repoURL, targetNS string) string {
	return fixture.HelmGitops(t, repoURL, targetNS)
}

// hrsOf are the HelmReleases of r by name.
func hrsOf(r *diff.Result) map[string]diff.HelmReleaseResult {
	out := map[string]diff.HelmReleaseResult{}
	for _, h := range r.HelmReleases {
		out[h.Name] = h
	}
	return out
}

// helmObjects are the objects rendered from HelmRelease hr, by kind.
func helmObjects(r *diff.Result, hr string) map[string]diff.ObjectResult {
	out := map[string]diff.ObjectResult{}
	for _, o := range r.Objects {
		if o.HelmRelease == hr {
			out[o.Kind] = o
		}
	}
	return out
}

// revisionLines are the webapp ConfigMap's annotation lines of a release
// revision, as a unified diff shows them with prefix.
func revisionLines(revision int, upgrade bool, prefix string) string {
	return fmt.Sprintf("%s    webapp.example.c5c3.io/release-is-upgrade: \"%t\"\n%s    webapp.example.c5c3.io/release-revision: \"%d\"", prefix, upgrade, prefix, revision)
}

// waitReleased waits until helm-controller reports the HelmRelease Ready
// with its latest release at the chart version and revision.
func waitReleased(t *testing.T, hc *testfleet.Controller, hub client.Client, key client.ObjectKey, version string, revision int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		hr := &helmv2.HelmRelease{}
		if err := hub.Get(ctx, key, hr); err == nil {
			if l := hr.Status.History.Latest(); l != nil && strings.HasPrefix(l.ChartVersion, version) && l.Version == revision &&
				apimeta.IsStatusConditionTrue(hr.Status.Conditions, "Ready") {
				return
			}
		}
		if err := hc.Exited(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			hr := &helmv2.HelmRelease{}
			_ = hub.Get(context.Background(), key, hr)
			t.Fatalf("helm-controller did not release %s at %s revision %d: %+v", key, version, revision, hr.Status.Conditions)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// helmDryRuns runs the diff engine in process on the sample with every
// request counted and returns the PATCH requests (server-side apply dry
// runs) sent to the control-plane spoke.
func helmDryRuns(t *testing.T, fl *testfleet.Fleet, s *testfleet.Sample, verifyUnchanged bool) int {
	t.Helper()
	rc := testfleet.NewRequestCounter()
	fleet, err := fl.DiscoverCounted(ctx(t), s.Namespace, rc)
	expect.NoError(t, err)
	if _, err := diff.Run(ctx(t), fleet, diff.Options{RepoDir: s.RepoDir, VerifyUnchanged: verifyUnchanged}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for k, v := range rc.Calls() {
		if strings.HasPrefix(k, "control-plane PATCH ") {
			n += v
		}
	}
	return n
}

// startHelmController starts the real helm-controller for the namespace
// ns and stops it when the test ends, showing its log's tail if the test
// failed.
// parallelHelmE2E marks a test against the real helm-controller parallel
// and, outside -short, fails it when the Flux controller binaries are
// missing (before it starts chart servers or asks for the fleet).
func parallelHelmE2E(t *testing.T) {
	t.Helper()
	t.Parallel()
	if !testing.Short() {
		if _, err := testfleet.FluxBinDir(); err != nil {
			t.Fatal(err)
		}
	}
}

// ociChartSource gives the hub namespace ns the Secret registry-auth with
// the test registry's credentials — as a docker config, the only form in
// which source-controller reads an OCIRepository's secretRef — and returns
// a server for the OCIRepository artifacts, stopped when the test ends.
func ociChartSource(t *testing.T, c context.Context, hub client.Client, ns string, charts *testfleet.ChartServers) *testfleet.ArtifactServer {
	t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(charts.Username + ":" + charts.Password))
	expect.NoError(t, hub.Create(c, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "registry-auth"},
		Type:       corev1.SecretTypeDockerConfigJson,
		StringData: map[string]string{corev1.DockerConfigJsonKey: `{"auths":{"` + charts.OCIHost + `":{"auth":"` + auth + `"}}}`}}))
	arts := testfleet.NewArtifactServer()
	t.Cleanup(arts.Close)
	return arts
}

func startHelmController(t *testing.T, fl *testfleet.Fleet, ns string) *testfleet.Controller {
	t.Helper()
	hc, err := fl.StartHelmController(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("helm-controller log (tail):\n%s", hc.LogTail(80))
		}
		if err := hc.Stop(); err != nil {
			t.Errorf("stopping helm-controller: %v", err)
		}
	})
	return hc
}
