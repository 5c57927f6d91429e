package helmrender_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

var caps = helmrender.Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"v1", "apps/v1", "policy/v1"}}

// TestFetchHTTPAndOCI resolves the test charts from helm's own HTTP
// repository and OCI registry, with semver constraints, and reads them
// again offline from the cache after the servers are gone.
func TestFetchHTTPAndOCI(t *testing.T) {
	s := testfleet.StartChartServers(t)
	cache := t.TempDir()
	ctx := context.Background()
	f := &helmrender.Fetcher{CacheDir: cache}
	for _, tc := range []struct {
		src  helmrender.ChartSource
		want string
	}{
		{helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: s.HTTP.URL(), Chart: "webapp", Version: ">=0.1 <0.2"}, "0.1.0"},
		{helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: s.HTTP.URL(), Chart: "webapp"}, "0.2.0"},
		{helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: s.HTTP.URL(), Chart: "widget-operator", Version: "1.0.0"}, "1.0.0"},
		{helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: "oci://" + s.OCIHost + "/charts", OCI: true, Insecure: true,
			Username: s.Username, Password: s.Password, Chart: "webapp", Version: "0.1.x"}, "0.1.0"},
		{helmrender.ChartSource{Kind: helmrender.SourceOCIRepository, URL: "oci://" + s.Charts["webapp-0.2.0"].OCIRef, Insecure: true,
			Username: s.Username, Password: s.Password, Version: "0.2.0"}, "0.2.0"},
		{helmrender.ChartSource{Kind: helmrender.SourceOCIRepository, URL: "oci://" + s.Charts["webapp-0.1.0"].OCIRef, Insecure: true,
			Username: s.Username, Password: s.Password, Digest: s.Charts["webapp-0.1.0"].OCIDigest}, "0.1.0"},
	} {
		l, err := f.Load(ctx, tc.src)
		if err != nil {
			t.Fatalf("%s@%s: %v", tc.src.ID(), tc.src.Version, err)
		}
		if tc.src.Kind == helmrender.SourceOCIRepository {
			// helm-controller's version of an OCIRepository chart carries
			// the artifact digest.
			tc.want += "+" + strings.TrimPrefix(s.Charts["webapp-"+tc.want].OCIDigest, "sha256:")[:12]
		}
		if l.Version != tc.want {
			t.Errorf("%s@%q resolved %s, want %s", tc.src.ID(), tc.src.Version, l.Version, tc.want)
		}
		if base, _, _ := strings.Cut(tc.want, "+"); tc.src.Kind == helmrender.SourceOCIRepository && l.Digest != s.Charts["webapp-"+base].OCIDigest {
			t.Errorf("%s: digest %s, pushed %s", tc.src.ID(), l.Digest, s.Charts["webapp-"+base].OCIDigest)
		}
	}
	// A wrong password is an error naming the repository, not the password.
	_, err := (&helmrender.Fetcher{CacheDir: t.TempDir()}).Load(ctx, helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: "oci://" + s.OCIHost + "/charts",
		OCI: true, Insecure: true, Username: s.Username, Password: "wrong-secret", Chart: "webapp"})
	if err == nil || !strings.Contains(err.Error(), s.OCIHost) || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("bad credentials: %v", err)
	}
	if _, err := f.Load(ctx, helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: s.HTTP.URL(), Chart: "webapp", Version: ">=9"}); err == nil {
		t.Error("a constraint nothing matches loaded a chart")
	}

	s.HTTP.Stop()
	off := &helmrender.Fetcher{CacheDir: cache, Offline: true}
	l, err := off.Load(ctx, helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: s.HTTP.URL(), Chart: "webapp", Version: "<0.2"})
	if err != nil || l.Version != "0.1.0" {
		t.Fatalf("offline from the cache: %v, %+v", err, l)
	}
	if _, err := off.Load(ctx, helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: "http://127.0.0.1:1/none", Chart: "webapp"}); err == nil ||
		!strings.Contains(err.Error(), "offline") {
		t.Errorf("offline without a cached index: %v", err)
	}
}

func hr(name string, mutate func(*helmv2.HelmRelease)) *helmv2.HelmRelease {
	h := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "flux-system"},
		Spec: helmv2.HelmReleaseSpec{TargetNamespace: "apps"}}
	if mutate != nil {
		mutate(h)
	}
	return h
}

func loadDir(t *testing.T, dir string) *helmrender.Loaded {
	t.Helper()
	root, err := testfleet.ChartsDir()
	if err != nil {
		t.Fatal(err)
	}
	l, err := (&helmrender.Fetcher{}).Load(context.Background(), helmrender.ChartSource{Kind: helmrender.SourceDir, Chart: filepath.Join(root, dir)})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func ids(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	sort.Strings(out)
	return out
}

// TestRenderWebapp renders the webapp chart as helm-controller would:
// release name [targetNamespace-]name, values over chart defaults, the
// conditional Service left out, post-renderer image and patch, common
// metadata, and Helm's and helm-controller's labels and annotations.
func TestRenderWebapp(t *testing.T) {
	h := hr("webapp", func(h *helmv2.HelmRelease) {
		h.Spec.CommonMetadata = &helmv2.CommonMetadata{Labels: map[string]string{"team": "c5c3", "helm.toolkit.fluxcd.io/name": "overridden"}}
		h.Spec.PostRenderers = []helmv2.PostRenderer{{Kustomize: &helmv2.Kustomize{
			Images: []kustomize.Image{{Name: "registry.example.com/webapp", NewTag: "1.25.1"}},
			Patches: []kustomize.Patch{{Target: &kustomize.Selector{Kind: "ConfigMap"},
				Patch: `[{"op": "add", "path": "/data/patched", "value": "yes"}]`}},
		}}}
	})
	r, err := helmrender.Render(context.Background(), helmrender.Request{HelmRelease: h, Chart: loadDir(t, "webapp-0.1.0"),
		Values: common.Values{"service": map[string]any{"enabled": false}, "greeting": "hi"}, Capabilities: caps})
	if err != nil {
		t.Fatal(err)
	}
	if r.ReleaseName != "apps-webapp" || r.ReleaseNamespace != "apps" || r.StorageNamespace != "flux-system" {
		t.Errorf("release %s in %s (storage %s), want apps-webapp in apps (storage flux-system)", r.ReleaseName, r.ReleaseNamespace, r.StorageNamespace)
	}
	want := []string{"ConfigMap/apps-webapp", "Deployment/apps-webapp", "PodDisruptionBudget/apps-webapp", "Secret/apps-webapp"}
	if got := ids(r.Objects); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("objects %v, want %v", got, want)
	}
	for _, o := range r.Objects {
		l, a := o.GetLabels(), o.GetAnnotations()
		if l[helmrender.ManagedByLabel] != "Helm" || a[helmrender.ReleaseNameAnnotation] != "apps-webapp" || a[helmrender.ReleaseNamespaceAnnotation] != "apps" {
			t.Errorf("%s: Helm metadata missing: %v %v", o.GetKind(), l, a)
		}
		if l["helm.toolkit.fluxcd.io/name"] != "webapp" || l["helm.toolkit.fluxcd.io/namespace"] != "flux-system" || l["team"] != "c5c3" {
			t.Errorf("%s: origin/common labels %v", o.GetKind(), l)
		}
		switch o.GetKind() {
		case "ConfigMap":
			if g, _, _ := unstructured.NestedString(o.Object, "data", "greeting"); g != "hi" {
				t.Errorf("greeting %q, want the value hi", g)
			}
			if p, _, _ := unstructured.NestedString(o.Object, "data", "patched"); p != "yes" {
				t.Errorf("post-renderer patch not applied: %v", o.Object["data"])
			}
		case "Deployment":
			cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			if img := cs[0].(map[string]any)["image"]; img != "registry.example.com/webapp:1.25.1" {
				t.Errorf("image %v, want the post-renderer's tag", img)
			}
		}
	}
	if len(r.CRDs) != 0 {
		t.Errorf("webapp has no CRDs, got %d", len(r.CRDs))
	}
}

// TestRenderCRDPolicy: the operator chart's crds/ apply on install and on
// upgrade (both default Create, as helm-controller's crdPolicyOrDefault),
// not with Skip; its Widget is rendered only when the values enable it.
func TestRenderCRDPolicy(t *testing.T) {
	ch := loadDir(t, "operator")
	deployed := install(t, storage.Init(driver.NewMemory()), "apps-op", ch, nil)
	render := func(h *helmv2.HelmRelease, upgrade bool, vals common.Values) *helmrender.Rendered {
		t.Helper()
		req := helmrender.Request{HelmRelease: h, Chart: ch, Values: vals, Capabilities: caps}
		if upgrade {
			req.From = deployed
		}
		r, err := helmrender.Render(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := render(hr("op", nil), false, nil); len(r.CRDs) != 1 || r.CRDPolicy != helmv2.Create ||
		strings.Join(ids(r.Objects), ",") != "Deployment/apps-op-widget-operator,ServiceAccount/apps-op-widget-operator" {
		t.Errorf("install: %d CRDs (%s), objects %v", len(r.CRDs), r.CRDPolicy, ids(r.Objects))
	} else if r.CRDs[0].GetName() != "widgets.example.c5c3.io" || r.CRDs[0].GetKind() != "CustomResourceDefinition" ||
		r.CRDs[0].GetLabels()["helm.toolkit.fluxcd.io/name"] != "op" {
		t.Errorf("CRD %s %v", r.CRDs[0].GetName(), r.CRDs[0].GetLabels())
	}
	if r := render(hr("op", nil), true, nil); len(r.CRDs) != 1 || r.CRDPolicy != helmv2.Create {
		t.Errorf("upgrade: %d CRDs (%s), want 1 (Create)", len(r.CRDs), r.CRDPolicy)
	}
	skip := hr("op", func(h *helmv2.HelmRelease) { h.Spec.Upgrade = &helmv2.Upgrade{CRDs: helmv2.Skip} })
	if r := render(skip, true, nil); len(r.CRDs) != 0 || r.CRDPolicy != helmv2.Skip {
		t.Errorf("upgrade.crds Skip: %d CRDs (%s), want none", len(r.CRDs), r.CRDPolicy)
	}
	up := hr("op", func(h *helmv2.HelmRelease) { h.Spec.Upgrade = &helmv2.Upgrade{CRDs: helmv2.CreateReplace} })
	if r := render(up, true, common.Values{"defaultWidget": map[string]any{"enabled": true}}); len(r.CRDs) != 1 ||
		!strings.Contains(strings.Join(ids(r.Objects), ","), "Widget/default") {
		t.Errorf("upgrade.crds CreateReplace with the widget: %d CRDs, objects %v", len(r.CRDs), ids(r.Objects))
	}
}

// install installs ch as release name in namespace apps with Helm's own
// install action into st (with Helm's printing kube client: no cluster)
// and reads the deployed release back as the diff reads it from storage.
func install(t *testing.T, st *storage.Storage, name string, ch *helmrender.Loaded, vals common.Values) *helmrender.Current {
	t.Helper()
	inst := action.NewInstall(helmConfig(st))
	inst.ReleaseName, inst.Namespace, inst.SkipCRDs = name, "apps", true
	if _, err := inst.RunWithContext(context.Background(), ch.Chart, vals.AsMap()); err != nil {
		t.Fatal(err)
	}
	return current(t, st, name)
}

func helmConfig(st *storage.Storage) *action.Configuration {
	kv, _ := common.ParseKubeVersion(caps.KubeVersion)
	c := common.DefaultCapabilities.Copy()
	c.KubeVersion, c.APIVersions = *kv, caps.APIVersions
	return &action.Configuration{Releases: st, KubeClient: &kubefake.PrintingKubeClient{Out: io.Discard}, Capabilities: c}
}

func current(t *testing.T, st *storage.Storage, name string) *helmrender.Current {
	t.Helper()
	cur, err := helmrender.CurrentFromStorage(st, name)
	if err != nil || cur == nil {
		t.Fatalf("release %s in storage: %v, %v", name, cur, err)
	}
	return cur
}

// releaseAnnotations are the webapp ConfigMap's annotations made of
// .Release.Revision and .Release.IsUpgrade.
func releaseAnnotations(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" {
			a := o.GetAnnotations()
			return "revision " + a["webapp.example.c5c3.io/release-revision"] + ", upgrade " + a["webapp.example.c5c3.io/release-is-upgrade"]
		}
	}
	t.Fatal("no ConfigMap rendered")
	return ""
}

// TestRenderUpgradeRevision: Helm's own install and upgrade record
// revisions 1 and 2 of webapp, and a failed upgrade revision 3. Rendering
// the deployed revision again gives the annotations its stored manifest
// has; helm-controller's next upgrade renders revision 4 (the last in
// storage + 1) as an upgrade; revision 1 renders as the install;
// upgrade.preserveValues reuses the deployed values.
func TestRenderUpgradeRevision(t *testing.T) {
	ctx := context.Background()
	ch := loadDir(t, "webapp-0.1.0")
	st := storage.Init(driver.NewMemory())
	install(t, st, "apps-webapp", ch, common.Values{"greeting": "first"})
	up := action.NewUpgrade(helmConfig(st))
	up.Namespace = "apps"
	if _, err := up.RunWithContext(ctx, "apps-webapp", ch.Chart, map[string]any{"greeting": "second"}); err != nil {
		t.Fatal(err)
	}
	deployed := current(t, st, "apps-webapp")
	if deployed.Revision != 2 || deployed.LastRevision != 2 {
		t.Fatalf("after install and upgrade: revision %d, last %d", deployed.Revision, deployed.LastRevision)
	}
	if got := releaseAnnotations(t, deployed.Objects); got != "revision 2, upgrade true" {
		t.Fatalf("stored manifest of revision 2: %s", got)
	}
	cfg := helmConfig(st)
	cfg.KubeClient = &kubefake.FailingKubeClient{UpdateError: errors.New("the apiserver refused the update")}
	failed := action.NewUpgrade(cfg)
	failed.Namespace = "apps"
	if _, err := failed.RunWithContext(ctx, "apps-webapp", ch.Chart, map[string]any{"greeting": "refused"}); err == nil {
		t.Fatal("an upgrade whose update the cluster refuses succeeded")
	}
	cur := current(t, st, "apps-webapp")
	if cur.Revision != 2 || cur.LastRevision != 3 {
		t.Fatalf("after a failed upgrade: deployed revision %d, last %d, want 2 and 3", cur.Revision, cur.LastRevision)
	}

	for _, tc := range []struct {
		name     string
		h        *helmv2.HelmRelease
		revision int
		vals     common.Values
		want     string
		greeting string
	}{
		{"the deployed release again", hr("webapp", nil), cur.Revision, common.Values{"greeting": "second"}, "revision 2, upgrade true", "second"},
		{"helm-controller's next upgrade", hr("webapp", nil), 0, common.Values{"greeting": "third"}, "revision 4, upgrade true", "third"},
		{"revision 1, as installed", hr("webapp", nil), 1, common.Values{"greeting": "first"}, "revision 1, upgrade false", "first"},
		{"upgrade.preserveValues", hr("webapp", func(h *helmv2.HelmRelease) { h.Spec.Upgrade = &helmv2.Upgrade{PreserveValues: true} }),
			0, common.Values{"replicas": 5}, "revision 4, upgrade true", "second"},
	} {
		r, err := helmrender.Render(ctx, helmrender.Request{HelmRelease: tc.h, Chart: ch, Values: tc.vals, From: cur, Revision: tc.revision, Capabilities: caps})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := releaseAnnotations(t, r.Objects); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
		for _, o := range r.Objects {
			if o.GetKind() != "ConfigMap" {
				continue
			}
			if g, _, _ := unstructured.NestedString(o.Object, "data", "greeting"); g != tc.greeting {
				t.Errorf("%s: greeting %q, want %q", tc.name, g, tc.greeting)
			}
			if l := o.GetLabels()["helm.toolkit.fluxcd.io/name"]; l != "webapp" {
				t.Errorf("%s: post-renderers not run on the upgrade: labels %v", tc.name, o.GetLabels())
			}
		}
	}
}
