package testfleet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// TestLoadSample checks that the sample lands in the fleet as Flux would
// leave it: every Kustomization Ready at the commit with an inventory, and
// the objects applied in their target clusters by kustomize-controller,
// with postBuild variables substituted from the hub.
func TestLoadSample(t *testing.T) {
	f := Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := f.LoadSample(ctx, SampleOptions{Namespace: Namespace(t)})
	if err != nil {
		t.Fatal(err)
	}
	var kss kustomizev1.KustomizationList
	if err := f.Hub.Client.List(ctx, &kss, client.InNamespace(s.Namespace)); err != nil {
		t.Fatal(err)
	}
	if len(kss.Items) != 9 {
		t.Fatalf("want 9 Kustomizations (flux-system + 8), got %d", len(kss.Items))
	}
	for _, ks := range kss.Items {
		if !apimeta.IsStatusConditionTrue(ks.Status.Conditions, "Ready") || ks.Status.LastAppliedRevision != s.Revision {
			t.Errorf("Kustomization %s: ready=%v applied=%q want %q", ks.Name,
				apimeta.IsStatusConditionTrue(ks.Status.Conditions, "Ready"), ks.Status.LastAppliedRevision, s.Revision)
		}
		if ks.Status.Inventory == nil || len(ks.Status.Inventory.Entries) == 0 {
			t.Errorf("Kustomization %s has no inventory", ks.Name)
		}
	}
	var hrs helmv2.HelmReleaseList
	if err := f.Hub.Client.List(ctx, &hrs, client.InNamespace(s.Namespace)); err != nil {
		t.Fatal(err)
	}
	if len(hrs.Items) != 3 {
		t.Fatalf("want 3 HelmReleases, got %d", len(hrs.Items))
	}

	cp := f.Spokes["control-plane"].Client
	var dep appsv1.Deployment
	if err := cp.Get(ctx, client.ObjectKey{Namespace: "openstack", Name: "keystone-api"}, &dep); err != nil {
		t.Fatalf("keystone-api not applied to the control-plane spoke: %v", err)
	}
	var managed bool
	for _, mf := range dep.ManagedFields {
		managed = managed || mf.Manager == "kustomize-controller"
	}
	if !managed {
		t.Error("keystone-api not applied by field manager kustomize-controller")
	}
	if got := dep.Labels["kustomize.toolkit.fluxcd.io/name"]; got != "control-plane-apps" {
		t.Errorf("owner label = %q", got)
	}
	// The HelmReleases are installed for real from the test charts: the
	// chart's objects by field manager helm-controller with the origin
	// labels, the release in Helm storage, its values digest in the history.
	var mc appsv1.Deployment
	if err := cp.Get(ctx, client.ObjectKey{Namespace: "memcached", Name: "memcached"}, &mc); err != nil {
		t.Fatalf("memcached chart not installed on the control-plane spoke: %v", err)
	}
	if mc.Labels["helm.toolkit.fluxcd.io/name"] != "memcached" || mc.Labels["app.kubernetes.io/managed-by"] != "Helm" ||
		*mc.Spec.Replicas != 3 || len(mc.ManagedFields) == 0 || mc.ManagedFields[0].Manager != "helm-controller" {
		t.Errorf("memcached Deployment: labels %v replicas %d managers %v", mc.Labels, *mc.Spec.Replicas, mc.ManagedFields)
	}
	var rel corev1.Secret
	if err := cp.Get(ctx, client.ObjectKey{Namespace: "memcached", Name: "sh.helm.release.v1.memcached.v1"}, &rel); err != nil {
		t.Errorf("no Helm storage Secret for release memcached: %v", err)
	}
	for _, hr := range hrs.Items {
		if h := hr.Status.History.Latest(); h == nil || h.ConfigDigest == "" || h.ChartVersion != hr.Spec.Chart.Spec.Version {
			t.Errorf("HelmRelease %s history %+v", hr.Name, h)
		}
	}
	var cm corev1.ConfigMap
	if err := cp.Get(ctx, client.ObjectKey{Namespace: "openstack", Name: "keystone-config"}, &cm); err != nil {
		t.Fatal(err)
	}
	for k, v := range cm.Data {
		if containsVar(v) {
			t.Errorf("keystone-config %s not substituted: %q", k, v)
		}
	}
	// Hub objects must not leak into spokes and vice versa.
	if err := f.Spokes["hypervisor"].Client.Get(ctx, client.ObjectKey{Namespace: "openstack", Name: "keystone-api"}, &dep); err == nil {
		t.Error("keystone-api found on the hypervisor spoke")
	}
}

func containsVar(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '$' && s[i+1] == '{' {
			return true
		}
	}
	return false
}

// TestControllerVersionIsGoMod: the controller versions the fleet uses are
// those go.mod requires, read here from go.mod's text.
func TestControllerVersionIsGoMod(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range crdControllers {
		v, err := ControllerVersion(c)
		if err != nil {
			t.Fatal(err)
		}
		if line := "\tgithub.com/fluxcd/" + c + "/api " + v + "\n"; !strings.Contains(string(gomod), line) {
			t.Errorf("ControllerVersion(%q) = %s, but go.mod has no line %q", c, v, line)
		}
	}
	if _, err := ControllerVersion("no-such-controller"); err == nil {
		t.Error("ControllerVersion of a controller go.mod does not require: no error")
	}
}
