package diff_test

import (
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/chartutil"
	"github.com/go-logr/logr"
	godigest "github.com/opencontainers/go-digest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// spokeHelmGitops is a gitops tree whose hub sync applies one Kustomization
// to the storage spoke; its build carries the Namespace spokeNS, a HelmRepository
// (helm's repotest server), a values ConfigMap and a HelmRelease that the
// spoke's own helm-controller reconciles, with valuesFrom that ConfigMap
// and one made on the live spoke out of band.
func spokeHelmGitops(t *testing.T, repoURL, spokeNS, targetNS string) string {
	dir := t.TempDir()
	files := map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - spoke-apps.yaml\n",
		"clusters/management/spoke-apps.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: spoke-apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./spoke
  prune: true
  kubeConfig:
    secretRef:
      name: storage-kubeconfig
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
		"spoke/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - namespace.yaml\n  - repo.yaml\n  - values.yaml\n  - webapp.yaml\n",
		"spoke/namespace.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + spokeNS + "\n",
		"spoke/repo.yaml":          fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: %s\nspec:\n  interval: 1h\n  url: %s\n", spokeNS, repoURL),
		"spoke/values.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: webapp-values\n  namespace: " + spokeNS + "\ndata:\n  values.yaml: |\n    greeting: from-the-spoke-build\n",
		"spoke/webapp.yaml": fixture.NewHelmRelease("webapp").Namespace(spokeNS).Target(targetNS).
			Chart("webapp", "0.1.0", "HelmRepository", "charts").CreateNamespace().
			With(func(hr *helmv2.HelmRelease) {
				hr.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled, Ignore: []helmv2.IgnoreRule{
					{Paths: []string{"/spec/replicas"}, Target: &kustomize.Selector{Kind: "Deployment"}}}}
			}).
			ValuesFrom("webapp-values", "webapp-live").YAML(),
	}
	fixture.WriteFiles(t, dir, files)
	return dir
}

// TestRunHelmReleaseInSpokeBuild: a HelmRelease in the build of a
// Kustomization applied to a spoke is rendered for that spoke — chart
// source from the build, valuesFrom from the build and from the live
// spoke — and its objects are created there (exit 1). After the release
// is installed for real with the Helm SDK and the spoke's HelmRelease
// records it, the diff is clean (exit 0); a hand edit on the spoke of a
// path spec.driftDetection.ignore names is not reported while one
// elsewhere is; an unpushed values edit in the spoke build shows as drift
// and an upgrade.
func TestRunHelmReleaseInSpokeBuild(t *testing.T) {
	t.Parallel()
	charts := chartServers(t)
	fl := testfleet.Get(t)
	spoke := fl.Spokes["storage"]
	testfleet.InstallHelmCRDs(t, spoke)
	target := "spk-" + testfleet.Namespace(t)
	spokeNS := target + "-flux"
	sc := loadHelmScenario(t, spokeHelmGitops(t, charts.HTTP.URL(), spokeNS, target))
	s := sc.s
	expect.NoError(t, spoke.Client.Create(sc.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: spokeNS, Name: "webapp-live"},
		Data: map[string]string{"values.yaml": "replicas: 4\n"}}))
	hrID := spokeNS + "/webapp"

	res := sc.run(t, 0, diff.Options{})
	wantOutcome(t, "created on the spoke", res, 1)
	h := hrsOf(res)["webapp"]
	if h.Error != "" {
		t.Fatalf("webapp HelmRelease: error %q", h.Error)
	}
	if h.Cluster != "storage" {
		t.Fatalf("webapp HelmRelease: cluster %q, want storage", h.Cluster)
	}
	if h.Kustomization != s.Namespace+"/spoke-apps" {
		t.Fatalf("webapp HelmRelease: Kustomization %q, want %s/spoke-apps", h.Kustomization, s.Namespace)
	}
	if h.Release != target+"-webapp" {
		t.Fatalf("webapp HelmRelease: release %q, want %s-webapp", h.Release, target)
	}
	if h.Prediction == nil || h.Prediction.Plan != "install" {
		t.Fatalf("webapp HelmRelease: prediction %+v, want install", h.Prediction)
	}
	got := helmObjects(res, hrID)
	for _, k := range []string{"ConfigMap", "Deployment", "Secret", "Service", "PodDisruptionBudget"} {
		o, ok := got[k]
		if !ok {
			t.Errorf("rendered %s: missing", k)
			continue
		}
		if o.Action != diff.ActionCreated {
			t.Errorf("rendered %s: %s, want created", k, o.Action)
		}
		if o.Cluster != "storage" || o.Namespace != target {
			t.Errorf("rendered %s: on %s in %s, want on storage in %s", k, o.Cluster, o.Namespace, target)
		}
	}
	if d := got["ConfigMap"].Diff; !strings.Contains(d, "greeting: from-the-spoke-build") {
		t.Errorf("valuesFrom ConfigMap of the spoke build not applied:\n%s", d)
	}
	if d := got["Deployment"].Diff; !strings.Contains(d, "replicas: 4") {
		t.Errorf("valuesFrom ConfigMap on the live spoke not read:\n%s", d)
	}

	// Install the release as the spoke's helm-controller would, and record
	// it in the spoke HelmRelease's status.
	hr := &helmv2.HelmRelease{}
	expect.NoError(t, spoke.Client.Get(sc.ctx, client.ObjectKey{Namespace: spokeNS, Name: "webapp"}, hr))
	values, err := chartutil.ChartValuesFromReferences(sc.ctx, logr.Discard(), spoke.Client, hr.Namespace, hr.GetValues(), hr.Spec.ValuesFrom...)
	expect.NoError(t, err)
	ch, err := fl.SampleChart("webapp", "0.1.0")
	expect.NoError(t, err)
	expect.NoError(t, fl.InstallRelease(sc.ctx, testfleet.Release{Target: spoke, Name: target + "-webapp", Namespace: target, StorageNamespace: spokeNS,
		CreateNamespace: true, Chart: ch, Values: values.AsMap(), OriginNamespace: hr.Namespace, OriginName: hr.Name}))
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	hr.Status.ObservedGeneration = hr.Generation
	hr.Status.StorageNamespace = spokeNS
	hr.Status.History = helmv2.Snapshots{{Name: target + "-webapp", Namespace: target, Version: 1, Status: "deployed",
		ChartName: "webapp", ChartVersion: "0.1.0", ConfigDigest: chartutil.DigestValues(godigest.Canonical, values).String(),
		FirstDeployed: now, LastDeployed: now}}
	expect.NoError(t, spoke.Client.Status().Update(sc.ctx, hr))

	res = sc.run(t, 0, diff.Options{})
	wantOutcome(t, "after the install", res, 0)
	h = hrsOf(res)["webapp"]
	if h.Error != "" {
		t.Errorf("after the install: error %q", h.Error)
	}
	if h.Prediction == nil || h.Prediction.Plan != "correct-drift" {
		t.Errorf("after the install: prediction %+v, want correct-drift", h.Prediction)
	}
	if h.Counts.Unchanged != 5 {
		t.Errorf("after the install: %d objects unchanged, want 5: %+v", h.Counts.Unchanged, h.Counts)
	}

	// Hand edits on the spoke: the Deployment's replicas, a path
	// spec.driftDetection.ignore names, are not reported; the ConfigMap's
	// greeting is.
	dep := &appsv1.Deployment{}
	expect.NoError(t, spoke.Client.Get(sc.ctx, client.ObjectKey{Namespace: target, Name: target + "-webapp"}, dep))
	before := dep.DeepCopy()
	dep.Spec.Replicas = ptr.To[int32](9)
	expect.NoError(t, spoke.Client.Patch(sc.ctx, dep, client.MergeFrom(before), client.FieldOwner("kubectl-edit")))
	cm := &corev1.ConfigMap{}
	expect.NoError(t, spoke.Client.Get(sc.ctx, client.ObjectKey{Namespace: target, Name: target + "-webapp"}, cm))
	beforeCM := cm.DeepCopy()
	cm.Data["greeting"] = "hand-edited"
	expect.NoError(t, spoke.Client.Patch(sc.ctx, cm, client.MergeFrom(beforeCM), client.FieldOwner("kubectl-edit")))
	hand := sc.run(t, 0, diff.Options{})
	wantOutcome(t, "after hand edits", hand, 1)
	edits := helmObjects(hand, hrID)
	expect.Equal(t, "hand edit of the ConfigMap: action", edits["ConfigMap"].Action, diff.ActionDrifted)
	expect.Contains(t, "hand edit of the ConfigMap: diff", edits["ConfigMap"].Diff, "-  greeting: hand-edited")
	if o, ok := edits["Deployment"]; ok {
		t.Errorf("hand edit of the ignored /spec/replicas reported: %s\n%s", o.Action, o.Diff)
	}

	sc.edit(t, "spoke/values.yaml", "from-the-spoke-build", "edited-in-git")
	res = sc.run(t, 0, diff.Options{})
	wantOutcome(t, "after a values edit", res, 1)
	if h := hrsOf(res)["webapp"]; h.Prediction == nil || h.Prediction.Plan != "upgrade" {
		t.Errorf("after a values edit: %+v", h.Prediction)
	}
	expect.Equal(t, "values edit in the spoke build: action", helmObjects(res, hrID)["ConfigMap"].Action, diff.ActionDrifted)
	expect.Contains(t, "values edit in the spoke build: diff", helmObjects(res, hrID)["ConfigMap"].Diff, "+  greeting: edited-in-git")
}
