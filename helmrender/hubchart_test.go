package helmrender_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// TestServiceOf splits source-controller artifact URLs into the Service
// the API server proxies to.
func TestServiceOf(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://source-controller.flux-system.svc.cluster.local./helmchart/apps/a/webapp-0.1.0.tgz", "http flux-system source-controller 80 /helmchart/apps/a/webapp-0.1.0.tgz"},
		{"https://sc.flux.svc:9443/helmchart/x.tgz", "https flux sc 9443 /helmchart/x.tgz"},
		{"http://example.com/x.tgz", "error"},
		{"ftp://sc.flux.svc/x.tgz", "error"},
	} {
		scheme, ns, name, port, path, err := helmrender.ServiceOf(tc.url)
		got := strings.Join([]string{scheme, ns, name, port, path}, " ")
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("ServiceOf(%q) = %q (%v), want %q", tc.url, got, err, tc.want)
		}
	}
}

// TestLoadWithHub reads a chart from the hub's HelmChart artifact through
// the real API server's service proxy to a source-controller Service
// (backed by a test server through testfleet's pod network): when the
// repository is unreachable, from the cache on a second run, not when the
// HelmChart holds another version (the repository is asked, and an
// unreachable one is an error naming both), for a constraint only when
// the HelmChart was made for it, and with services/proxy forbidden the
// repository is asked instead.
func TestLoadWithHub(t *testing.T) {
	f := testfleet.StartForTest(t, testfleet.Options{Spokes: []string{"control-plane"}})
	s := testfleet.StartChartServers(t)
	ctx := context.Background()
	c := s.Charts["webapp-0.1.0"]
	data, err := os.ReadFile(c.Archive)
	if err != nil {
		t.Fatal(err)
	}
	const ns, name = "apps", "flux-system-webapp"
	path := fmt.Sprintf("/helmchart/%s/%s/webapp-0.1.0.tgz", ns, name)
	var served atomic.Int32
	if _, err := f.ServeInPod(ctx, t, "flux-system", "source-controller", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ready" {
			return
		}
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		served.Add(1)
		_, _ = w.Write(data)
	})); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(f.Hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	// The API server learns about the EndpointSlice through its informer.
	waitFor(t, func() error {
		_, err := cs.CoreV1().Services("flux-system").ProxyGet("http", "source-controller", "80", "/ready", nil).DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("proxy not ready: %v", err)
		}
		return nil
	})
	if err := f.Hub.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	hc := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: sourcev1.HelmChartSpec{
		Chart: "webapp", Version: "0.1.0", SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: "HelmRepository", Name: "charts"},
		Interval: metav1.Duration{Duration: time.Minute}}}
	if err := f.Hub.Client.Create(ctx, hc); err != nil {
		t.Fatal(err)
	}
	setArtifact := func(version, digest string) {
		t.Helper()
		if err := f.Hub.Client.Get(ctx, client.ObjectKeyFromObject(hc), hc); err != nil {
			t.Fatal(err)
		}
		hc.Spec.Version = version
		if err := f.Hub.Client.Update(ctx, hc); err != nil {
			t.Fatal(err)
		}
		hc.Status.ObservedGeneration = hc.Generation
		hc.Status.ObservedChartName = "webapp"
		hc.Status.Artifact = &meta.Artifact{Path: strings.TrimPrefix(path, "/"), URL: "http://source-controller.flux-system.svc.cluster.local." + path,
			Revision: "0.1.0", Digest: digest, LastUpdateTime: metav1.Now()}
		apimeta.SetStatusCondition(&hc.Status.Conditions, metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue,
			Reason: meta.SucceededReason, Message: "pulled 'webapp' chart with version '0.1.0'", ObservedGeneration: hc.Generation})
		if err := f.Hub.Client.Status().Update(ctx, hc); err != nil {
			t.Fatal(err)
		}
	}
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
	setArtifact("0.1.0", digest)

	proxy := &helmrender.ArtifactProxy{Reader: f.Hub.Client, Kube: cs}
	hub := helmrender.HubChart{Proxy: proxy, Namespace: ns, Name: name, SourceKind: "HelmRepository", SourceName: "charts"}
	unreachable := helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: "http://127.0.0.1:1", Chart: "webapp", Version: "0.1.0"}
	cache := t.TempDir()

	l, err := (&helmrender.Fetcher{CacheDir: cache}).LoadWithHub(ctx, unreachable, hub)
	if err != nil {
		t.Fatalf("unreachable repository, HelmChart holds 0.1.0: %v", err)
	}
	if l.Version != "0.1.0" || l.Digest != digest || served.Load() != 1 {
		t.Fatalf("loaded %s %s, artifact served %d times; want 0.1.0 %s once", l.Version, l.Digest, served.Load(), digest)
	}
	// A second run reads the cached artifact; offline too.
	for _, off := range []bool{false, true} {
		if l, err := (&helmrender.Fetcher{CacheDir: cache, Offline: off}).LoadWithHub(ctx, unreachable, hub); err != nil || l.Version != "0.1.0" {
			t.Fatalf("cached (offline %v): %v", off, err)
		}
	}
	if served.Load() != 1 {
		t.Errorf("the cached artifact was downloaded again (%d)", served.Load())
	}
	// A reachable repository with a version the HelmChart does not hold.
	l, err = (&helmrender.Fetcher{CacheDir: t.TempDir()}).LoadWithHub(ctx, helmrender.ChartSource{Kind: helmrender.SourceHelmRepository,
		URL: s.HTTP.URL(), Chart: "webapp", Version: "0.2.0"}, hub)
	if err != nil || l.Version != "0.2.0" || served.Load() != 1 {
		t.Fatalf("version bump from the repository: %v %+v, served %d", err, l, served.Load())
	}
	// ... and an unreachable one: an error naming both ways.
	bump := unreachable
	bump.Version = "0.2.0"
	_, err = (&helmrender.Fetcher{CacheDir: t.TempDir()}).LoadWithHub(ctx, bump, hub)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "HelmChart/apps/flux-system-webapp: holds version 0.1.0, not 0.2.0") {
		t.Fatalf("bump, repository unreachable: %v", err)
	}
	// A constraint is resolved by the repository; unreachable, the hub's
	// artifact counts only for a HelmChart made for the same constraint.
	constraint := unreachable
	constraint.Version = "0.1.x"
	if _, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).LoadWithHub(ctx, constraint, hub); err == nil ||
		!strings.Contains(err.Error(), `holds version 0.1.0 for "0.1.0", the checkout asks for "0.1.x"`) {
		t.Fatalf("constraint, HelmChart made for another: %v", err)
	}
	setArtifact("0.1.x", digest)
	if l, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).LoadWithHub(ctx, constraint, hub); err != nil || l.Version != "0.1.0" {
		t.Fatalf("constraint from the hub: %v", err)
	}
	if served.Load() != 2 {
		t.Errorf("artifact served %d times, want 2", served.Load())
	}
	// A digest that does not match is not used.
	setArtifact("0.1.0", "sha256:"+strings.Repeat("0", 64))
	if _, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).LoadWithHub(ctx, unreachable, hub); err == nil || !strings.Contains(err.Error(), "does not match its digest") {
		t.Fatalf("wrong digest: %v", err)
	}
	setArtifact("0.1.0", digest)

	// A user who may read HelmCharts but not services/proxy: the
	// repository is asked; unreachable, the refusal is in the error.
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "helmchart-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{sourcev1.GroupVersion.Group}, Resources: []string{"helmcharts"}, Verbs: []string{"get"}}}}
	bind := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "helmchart-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "chart-reader"}}}
	for _, o := range []client.Object{role, bind} {
		if err := f.Hub.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	as := rest.CopyConfig(f.Hub.Config)
	as.Impersonate = rest.ImpersonationConfig{UserName: "chart-reader"}
	kc, err := kube.NewClient(as)
	if err != nil {
		t.Fatal(err)
	}
	denied := hub
	denied.Proxy = &helmrender.ArtifactProxy{Reader: kc.Client, Kube: kubernetes.NewForConfigOrDie(as)}
	reachable := unreachable
	reachable.URL = s.HTTP.URL()
	waitFor(t, func() error { // RBAC is read through an informer too
		_, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).LoadWithHub(ctx, unreachable, denied)
		if err != nil && strings.Contains(err.Error(), "forbidden (needs get on services/proxy in flux-system)") {
			return nil
		}
		return fmt.Errorf("proxy refusal not reported: %v", err)
	})
	before := served.Load()
	if l, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).LoadWithHub(ctx, reachable, denied); err != nil || l.Version != "0.1.0" || served.Load() != before {
		t.Fatalf("proxy forbidden, repository reachable: %v, served %d → %d", err, before, served.Load())
	}
}

func waitFor(t *testing.T, cond func() error) {
	t.Helper()
	var err error
	for range 100 {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal(err)
}
