package status

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

func TestMain(m *testing.M) { os.Exit(testfleet.Run(m)) }

// bigFleet creates n Kustomizations spread over the three spokes in a fresh
// hub namespace, each Ready with an inventory, and the spokes' Secrets.
func bigFleet(tb testing.TB, f *testfleet.Fleet, ns string, n int) {
	tb.Helper()
	ctx := context.Background()
	hub := f.Hub.Client
	if err := hub.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		tb.Fatal(err)
	}
	for _, s := range testfleet.SpokeNames {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s + "-kubeconfig", Namespace: ns}, Data: map[string][]byte{"value": f.Spokes[s].Kubeconfig}}
		if err := hub.Create(ctx, sec); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range n {
		spoke := testfleet.SpokeNames[i%3]
		ks := &kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%03d", i), Namespace: ns},
			Spec: kustomizev1.KustomizationSpec{
				Interval:   metav1.Duration{Duration: time.Hour},
				Path:       fmt.Sprintf("./apps/app-%03d", i),
				SourceRef:  kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"},
				KubeConfig: &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: spoke + "-kubeconfig"}},
			},
		}
		if err := hub.Create(ctx, ks); err != nil {
			tb.Fatal(err)
		}
		ks.Status.LastAppliedRevision = "main@sha1:2222222222222222222222222222222222222222"
		ks.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{{ID: "apps_cm-" + ks.Name + "__ConfigMap", Version: "v1"}}}
		apimeta.SetStatusCondition(&ks.Status.Conditions, metav1.Condition{Type: "Ready", Status: "True", Reason: "ReconciliationSucceeded", Message: "Applied"})
		if err := hub.Status().Update(ctx, ks); err != nil {
			tb.Fatal(err)
		}
	}
}

// statusOnce runs discovery and status for a namespace with every request
// counted, on the hub and on each spoke.
func statusOnce(tb testing.TB, f *testfleet.Fleet, ns string, c *testfleet.RequestCounter) *Report {
	tb.Helper()
	ctx := context.Background()
	fl, err := f.DiscoverCounted(ctx, ns, c)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := Build(ctx, fl, Options{FluxNamespace: ns})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestStatusRequestCount proves the status of 200 Kustomizations over three
// spokes costs one LIST per kind per cluster and no GET per object.
func TestStatusRequestCount(t *testing.T) {
	f := testfleet.Get(t)
	ns := testfleet.Namespace(t)
	bigFleet(t, f, ns, 200)
	c := testfleet.NewRequestCounter()
	r := statusOnce(t, f, ns, c)
	calls := c.Calls()
	if r.Summary.Objects != 200 || r.Summary.Ready != 200 || len(r.Clusters) != 4 {
		t.Fatalf("summary %+v", r.Summary)
	}
	var keys []string
	for k := range calls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// Every request — LISTs, discovery, version — is sent once.
		if v := calls[k]; v != 1 {
			t.Errorf("%s sent %d times, want once", k, v)
		}
	}
	for _, want := range []string{
		"hub GET /apis/kustomize.toolkit.fluxcd.io/v1/namespaces/" + ns + "/kustomizations",
		"hub GET /apis/helm.toolkit.fluxcd.io/v2/namespaces/" + ns + "/helmreleases",
		"control-plane GET /api/v1/nodes", "hypervisor GET /api/v1/nodes", "storage GET /api/v1/nodes",
		"control-plane GET /version",
	} {
		if calls[want] != 1 {
			t.Errorf("want exactly one %q, got %d (all: %v)", want, calls[want], keys)
		}
	}
	for k := range calls {
		if strings.Contains(k, "/kustomizations/") {
			t.Errorf("GET per object: %s", k)
		}
	}
	// Three Secret GETs (one per spoke), whatever the number of objects.
	secrets := 0
	for k, v := range calls {
		if strings.Contains(k, "/secrets/") {
			secrets += v
		}
	}
	if secrets != 3 {
		t.Errorf("%d Secret reads, want 3", secrets)
	}
	t.Logf("%d requests for 200 Kustomizations: %v", c.Total(), keys)
}

// BenchmarkStatus200 measures status for 200 Kustomizations over three
// spokes against a floor measured in the same run: the two raw LISTs of
// Kustomizations and HelmReleases on the hub that any status needs. It
// reports requests per run and the ratio to the floor.
func BenchmarkStatus200(b *testing.B) {
	f := testfleet.Get(b)
	ns := testfleet.Namespace(b)
	bigFleet(b, f, ns, 200)
	c := testfleet.NewRequestCounter()
	hub, err := kube.NewClient(f.Hub.Config)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// Warm up: right after 200 creates the apiserver's flow control may
	// answer 429 with Retry-After, which would measure the throttle.
	statusOnce(b, f, ns, testfleet.NewRequestCounter())
	var floor, full time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		var kss kustomizev1.KustomizationList
		var hrs helmv2.HelmReleaseList
		if err := hub.Client.List(ctx, &kss, client.InNamespace(ns)); err != nil {
			b.Fatal(err)
		}
		if err := hub.Client.List(ctx, &hrs, client.InNamespace(ns)); err != nil {
			b.Fatal(err)
		}
		floor += time.Since(start)
		start = time.Now()
		statusOnce(b, f, ns, c)
		full += time.Since(start)
	}
	b.ReportMetric(float64(c.Total())/float64(b.N), "requests/op")
	b.ReportMetric(float64(full)/float64(floor), "x-floor")
	b.ReportMetric(float64(full.Milliseconds())/float64(b.N), "ms-status/op")
}

// TestStatusReleaseRequests: HelmReleases cost one metadata-only Secret
// LIST per storage namespace on their target cluster, whatever their
// number, and none on a cluster without HelmReleases; a release in none
// of them is flagged.
func TestStatusReleaseRequests(t *testing.T) {
	f := testfleet.Get(t)
	ns := testfleet.Namespace(t)
	bigFleet(t, f, ns, 3)
	ctx := context.Background()
	hub := f.Hub.Client
	for i, storageNS := range []string{"a-" + ns, "a-" + ns, "b-" + ns} {
		hr := &helmv2.HelmRelease{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: ns},
			Spec: helmv2.HelmReleaseSpec{
				Interval:         metav1.Duration{Duration: time.Hour},
				StorageNamespace: storageNS,
				ChartRef:         &helmv2.CrossNamespaceSourceReference{Kind: "OCIRepository", Name: "web"},
				KubeConfig:       &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "storage-kubeconfig"}},
			},
		}
		if err := hub.Create(ctx, hr); err != nil {
			t.Fatal(err)
		}
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		hr.Status.History = helmv2.Snapshots{{Name: hr.Name, Namespace: ns, Version: 1, Status: "deployed", ChartName: "web", ChartVersion: "1.0.0",
			FirstDeployed: now, LastDeployed: now}}
		apimeta.SetStatusCondition(&hr.Status.Conditions, metav1.Condition{Type: "Ready", Status: "True", Reason: "InstallSucceeded", Message: "Installed"})
		if err := hub.Status().Update(ctx, hr); err != nil {
			t.Fatal(err)
		}
	}
	c := testfleet.NewRequestCounter()
	r := statusOnce(t, f, ns, c)
	calls := c.Calls()
	lists := 0
	for k, v := range calls {
		if strings.HasSuffix(k, "/secrets") {
			lists += v
		}
	}
	if lists != 2 || calls["storage GET /api/v1/namespaces/a-"+ns+"/secrets"] != 1 || calls["storage GET /api/v1/namespaces/b-"+ns+"/secrets"] != 1 {
		t.Errorf("%d Secret LISTs, want one per storage namespace on storage: %v", lists, calls)
	}
	if r.Summary.ReleaseProblems != 3 || r.Summary.Healthy {
		t.Errorf("summary %+v", r.Summary)
	}
	for _, cl := range r.Clusters {
		for _, o := range cl.Objects {
			if o.Kind == fleet.KindHelmRelease && o.ReleaseProblem() != fmt.Sprintf("Helm storage on storage has no release %s/%s; helm-controller reports revision 1 deployed", o.Release.StorageNamespace, o.Name) {
				t.Errorf("%s: %+v", o.ID(), o.Release)
			}
		}
	}
}
