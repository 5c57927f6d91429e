package diff_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestRunHelmReleaseFromHubChart: the HelmRepository is unreachable from
// the laptop (a closed port), but the hub's HelmChart of HelmRelease
// webapp holds the version the checkout pins: the chart is read through
// the hub API server's proxy to source-controller (a test server behind a
// real Service, EndpointSlice and Pod) and rendered onto the control-plane
// spoke. HelmRelease bumped pins 0.2.0, which its HelmChart does not hold:
// an error naming the repository and the HelmChart (exit 2), the other
// still rendered.
func TestRunHelmReleaseFromHubChart(t *testing.T) {
	t.Parallel()
	fl := testfleet.Get(t)
	charts := testfleet.StartChartServers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	target := "hub-" + testfleet.Namespace(t)
	dir := t.TempDir()
	hr := func(name, version string) string {
		return fixture.NewHelmRelease(name).Target(target).Spoke("control-plane").Chart("webapp", version, "HelmRepository", "private").CreateNamespace().YAML()
	}
	fixture.WriteFiles(t, dir, map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - repo.yaml\n  - webapp.yaml\n  - bumped.yaml\n",
		"clusters/management/repo.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: private
  namespace: flux-system
spec:
  interval: 1h
  url: http://127.0.0.1:1/charts
`,
		"clusters/management/webapp.yaml": hr("webapp", "0.1.0"),
		"clusters/management/bumped.yaml": hr("bumped", "0.2.0"),
	})
	sc := loadHelmScenario(t, dir)
	s := sc.s

	data, err := os.ReadFile(charts.Charts["webapp-0.1.0"].Archive)
	expect.NoError(t, err)
	var served atomic.Int32
	_, err = fl.ServeInPod(ctx, t, s.Namespace, "source-controller", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/webapp-0.1.0.tgz") {
			http.NotFound(w, r)
			return
		}
		served.Add(1)
		_, _ = w.Write(data)
	}))
	expect.NoError(t, err)
	cs, err := kubernetes.NewForConfig(fl.Hub.Config)
	expect.NoError(t, err)
	for i := 0; ; i++ { // the API server learns about the EndpointSlice through an informer
		_, err := cs.CoreV1().Services(s.Namespace).ProxyGet("http", "source-controller", "80", "/x/webapp-0.1.0.tgz", nil).DoRaw(ctx)
		if err == nil {
			break
		}
		if i == 100 {
			t.Fatalf("service proxy not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, name := range []string{"webapp", "bumped"} {
		hc := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Namespace + "-" + name}, Spec: sourcev1.HelmChartSpec{
			Chart: "webapp", Version: "0.1.0", SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: "HelmRepository", Name: "private"},
			Interval: metav1.Duration{Duration: 10 * time.Minute}}}
		// The sample made it as helm-controller would; the test plays
		// source-controller and stores the real chart.
		if err := fl.Hub.Client.Create(ctx, hc); err != nil {
			expect.NoError(t, fl.Hub.Client.Get(ctx, client.ObjectKeyFromObject(hc), hc))
		}
		path := fmt.Sprintf("/helmchart/%s/%s/webapp-0.1.0.tgz", hc.Namespace, hc.Name)
		hc.Status.ObservedGeneration, hc.Status.ObservedChartName = hc.Generation, "webapp"
		hc.Status.Artifact = &meta.Artifact{Path: path[1:], URL: fmt.Sprintf("http://source-controller.%s.svc.cluster.local.%s", s.Namespace, path),
			Revision: "0.1.0", Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(data)), LastUpdateTime: metav1.Now()}
		apimeta.SetStatusCondition(&hc.Status.Conditions, metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue,
			Reason: meta.SucceededReason, Message: "pulled 'webapp' chart with version '0.1.0'", ObservedGeneration: hc.Generation})
		expect.NoError(t, fl.Hub.Client.Status().Update(ctx, hc))
	}
	before := served.Load()

	res := sc.run(t, 0, diff.Options{})
	wantOutcome(t, "bumped's chart is neither reachable nor in the hub", res, 2)
	hrs := hrsOf(res)
	w := hrs["webapp"]
	if w.Error != "" {
		t.Fatalf("webapp from the hub's HelmChart: error %q", w.Error)
	}
	if w.Prediction == nil || w.Prediction.ToVersion != "0.1.0" {
		t.Fatalf("webapp from the hub's HelmChart: prediction %+v, want version 0.1.0", w.Prediction)
	}
	if w.Counts.Created != 5 {
		t.Fatalf("webapp from the hub's HelmChart: %d objects created, want 5: %+v", w.Counts.Created, w.Counts)
	}
	if n := served.Load() - before; n != 1 {
		t.Errorf("artifact served %d times through the proxy, want 1", n)
	}
	b := hrs["bumped"]
	expect.Contains(t, "bumped", b.Error, "127.0.0.1:1", "HelmChart/"+s.Namespace+"/"+s.Namespace+"-bumped: holds version 0.1.0, not 0.2.0")
	for _, o := range res.Objects {
		if o.HelmRelease == s.Namespace+"/webapp" && (o.Cluster != "control-plane" || o.Action != diff.ActionCreated) {
			t.Errorf("%s: %s on %s, want created on control-plane", o.ID(), o.Action, o.Cluster)
		}
	}
}
