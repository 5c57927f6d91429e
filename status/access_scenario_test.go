package status_test

import (
	"encoding/json"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/status"
)

// accessOf returns the checks of kind check on the named cluster.
func accessOf(t *testing.T, rep *status.Report, cluster, check string) []status.AccessCheck {
	t.Helper()
	var out []status.AccessCheck
	for _, c := range rep.Clusters {
		if c.Name != cluster {
			continue
		}
		for _, a := range c.Access {
			if a.Check == check {
				out = append(out, a)
			}
		}
		return out
	}
	t.Fatalf("no cluster %s in the report", cluster)
	return nil
}

// TestStatusCredentialExpiry mints client certificates from the CA the
// spokes' apiservers trust, with short lifetimes, and a real
// service-account JWT, and checks the grading, the verdict (the exit
// code) and that no credential is rendered. (The clock is 48h ahead, as
// for the command tests' ages.)
func TestStatusCredentialExpiry(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	s, c := sc.s, sc.ctx
	now := time.Now()
	cp := s.Fleet.Spokes["control-plane"]
	statusOf := func(cluster string) *status.Report {
		t.Helper()
		r, _ := sc.build(t, status.Options{Cluster: cluster})
		return roundTrip(t, r)
	}

	t.Run("20 days: warning, healthy", func(t *testing.T) {
		kc, err := cp.KubeconfigWithClientCert("short-lived", now.Add(-time.Hour), now.Add(20*24*time.Hour))
		expect.NoError(t, err)
		expect.NoError(t, s.SetKubeconfig(c, "control-plane", kc))
		rep := statusOf("control-plane")
		got := accessOf(t, rep, "control-plane", status.CheckClientCertificate)
		wantHealthy(t, "20 days", rep, true)
		if len(got) != 1 || got[0].State != status.AccessWarning {
			t.Fatalf("client certificate checks %+v, want one %s", got, status.AccessWarning)
		}
		if !rep.Clusters[0].Reachable {
			t.Fatalf("control-plane not reachable: %s", rep.Clusters[0].Error)
		}
		if rep.Summary.AccessWarnings != 1 {
			t.Errorf("summary: %d access warnings, want 1", rep.Summary.AccessWarnings)
		}
		if rep.Summary.AccessFailing != 0 {
			t.Errorf("summary: %d access checks failing, want 0", rep.Summary.AccessFailing)
		}
		if !rep.Summary.Healthy {
			t.Errorf("summary %+v, want healthy", rep.Summary)
		}
	})

	t.Run("5 days: critical, not healthy, the cluster still answers", func(t *testing.T) {
		kc, err := cp.KubeconfigWithClientCert("short-lived", now.Add(-time.Hour), now.Add(5*24*time.Hour))
		expect.NoError(t, err)
		expect.NoError(t, s.SetKubeconfig(c, "control-plane", kc))
		rep := statusOf("control-plane")
		got := accessOf(t, rep, "control-plane", status.CheckClientCertificate)
		wantHealthy(t, "5 days", rep, false)
		if len(got) != 1 || got[0].State != status.AccessCritical {
			t.Fatalf("client certificate checks %+v, want one %s", got, status.AccessCritical)
		}
		if !rep.Clusters[0].Reachable {
			t.Fatalf("control-plane not reachable: %s", rep.Clusters[0].Error)
		}
		if rep.Summary.AccessFailing != 1 {
			t.Fatalf("summary: %d access checks failing, want 1", rep.Summary.AccessFailing)
		}
		want := "client certificate of Secret/" + s.Namespace + "/control-plane-kubeconfig expires in"
		if !strings.Contains(got[0].Message, want) {
			t.Errorf("message %q lacks %q", got[0].Message, want)
		}
		r, at := sc.build(t, status.Options{Cluster: "control-plane"})
		if r.Summary.Healthy {
			t.Errorf("tree: healthy, want not (exit 1)")
		}
		tr := tree(t, r, at)
		for _, line := range []string{"access · Critical", "Critical: " + want, "access checks: 1 failing, 0 warnings"} {
			if !strings.Contains(tr, line) {
				t.Errorf("tree lacks %q:\n%s", line, tr)
			}
		}
	})

	t.Run("expired: failed, not healthy, naming the Secret", func(t *testing.T) {
		kc, err := s.Fleet.Spokes["hypervisor"].KubeconfigWithClientCert("expired", now.Add(-10*24*time.Hour), now.Add(-time.Hour))
		expect.NoError(t, err)
		expect.NoError(t, s.SetKubeconfig(c, "hypervisor", kc))
		rep := statusOf("hypervisor")
		got := accessOf(t, rep, "hypervisor", status.CheckClientCertificate)
		wantHealthy(t, "expired client certificate", rep, false)
		if len(got) != 1 {
			t.Fatalf("checks %+v, want one", got)
		}
		expect.Equal(t, "check state", got[0].State, status.AccessFailed)
		if want := "client certificate of Secret/" + s.Namespace + "/hypervisor-kubeconfig expired"; !strings.Contains(got[0].Message, want) {
			t.Errorf("message %q lacks %q", got[0].Message, want)
		}
		// The apiserver itself refuses the expired certificate.
		expect.Equal(t, "hypervisor with an expired certificate: reachable", rep.Clusters[0].Reachable, false)
		expect.Contains(t, "hypervisor with an expired certificate: error", rep.Clusters[0].Error, "the server has asked for the client to provide credentials")
	})

	t.Run("JWT expiring in 3 days: not healthy, never rendered", func(t *testing.T) {
		st := s.Fleet.Spokes["storage"]
		token, err := st.ServiceAccountToken(c, "c5c3-access", "reader-"+s.Namespace, 3*24*time.Hour)
		expect.NoError(t, err)
		kc, err := st.KubeconfigWithToken(token)
		expect.NoError(t, err)
		expect.NoError(t, s.SetKubeconfig(c, "storage", kc))
		r, at := sc.build(t, status.Options{Cluster: "storage"})
		rep := roundTrip(t, r)
		got := accessOf(t, rep, "storage", status.CheckToken)
		wantHealthy(t, "JWT expiring in 3 days", rep, false)
		if len(got) != 1 || got[0].State != status.AccessCritical {
			t.Fatalf("token checks %+v, want one %s", got, status.AccessCritical)
		}
		if got[0].Expires == nil {
			t.Fatalf("token check without an expiry, want one")
		}
		if !rep.Clusters[0].Reachable {
			t.Errorf("the token is valid for the apiserver, yet: %s", rep.Clusters[0].Error)
		}
		if len(accessOf(t, rep, "storage", status.CheckClientCertificate)) != 0 {
			t.Error("a token-only kubeconfig has no client certificate to check")
		}
		tr := tree(t, r, at)
		if !strings.Contains(tr, "bearer token (JWT) of Secret/"+s.Namespace+"/storage-kubeconfig expires in") {
			t.Errorf("tree:\n%s", tr)
		}
		jsn, err := json.MarshalIndent(r, "", "  ")
		expect.NoError(t, err)
		yml, err := yaml.Marshal(r)
		expect.NoError(t, err)
		all := string(jsn) + tr + string(yml) + table(t, r, at)
		for i, part := range append(strings.Split(token, "."), token) {
			if len(part) >= 8 && strings.Contains(all, part) {
				t.Fatalf("output contains part %d of the token", i)
			}
		}
	})
}

// TestStatusCheckAccessServiceAccount: a Kustomization applies to the
// control-plane spoke as a service account that may only get and list;
// CheckAccess reports, through impersonation on the spoke, which kinds of
// its inventory it may not patch — and passes once it may.
func TestStatusCheckAccessServiceAccount(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	s, c := sc.s, sc.ctx
	hub := s.Fleet.Hub.Client
	ks := &kustomizev1.Kustomization{}
	expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: s.Namespace, Name: "control-plane-apps"}, ks))
	ks.Spec.ServiceAccountName = "deployer"
	expect.NoError(t, hub.Update(c, ks))
	if ks.Status.Inventory == nil || len(ks.Status.Inventory.Entries) == 0 {
		t.Fatal("control-plane-apps has no inventory")
	}

	spoke := s.Fleet.Spokes["control-plane"].Client
	expect.NoError(t, client.IgnoreAlreadyExists(spoke.Create(c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.Namespace}})))
	expect.NoError(t, spoke.Create(c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "deployer"}}))
	bind := func(name string, verbs ...string) {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: verbs}}}
		expect.NoError(t, spoke.Create(c, role))
		expect.NoError(t, spoke.Create(c, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: s.Namespace, Name: "deployer"}}}))
	}
	bind(s.Namespace+"-deployer-read", "get", "list", "watch")
	statusOf := func(cluster string, checkAccess bool) *status.Report {
		t.Helper()
		r, _ := sc.build(t, status.Options{Cluster: cluster, CheckAccess: checkAccess})
		return roundTrip(t, r)
	}

	// Without CheckAccess no service account is checked.
	rep := statusOf("control-plane", false)
	if got := accessOf(t, rep, "control-plane", status.CheckServiceAccount); !rep.Summary.Healthy || len(got) != 0 {
		t.Fatalf("default run: healthy %v, service account checks %+v", rep.Summary.Healthy, got)
	}

	rep = statusOf("control-plane", true)
	got := accessOf(t, rep, "control-plane", status.CheckServiceAccount)
	wantHealthy(t, "--check-access", rep, false)
	if len(got) != 1 {
		t.Fatalf("checks %+v, want one", got)
	}
	expect.Equal(t, "check state", got[0].State, status.AccessFailed)
	sa := s.Namespace + "/deployer"
	if got[0].ServiceAccount != sa || got[0].Object != "Kustomization/"+s.Namespace+"/control-plane-apps" {
		t.Errorf("check names %q %q", got[0].ServiceAccount, got[0].Object)
	}
	// Every kind of the inventory is denied, by name.
	first := ks.Status.Inventory.Entries[0].ID
	parts := strings.Split(first, "_")
	kind := parts[3]
	if parts[2] != "" {
		kind += "." + parts[2]
	}
	if !strings.Contains(strings.Join(got[0].Denied, ","), kind) {
		t.Errorf("denied %q, want %s among them", got[0].Denied, kind)
	}
	for _, part := range []string{"ServiceAccount " + sa, "may not patch"} {
		if !strings.Contains(got[0].Message, part) {
			t.Errorf("denial message %q lacks %q", got[0].Message, part)
		}
	}
	r, at := sc.build(t, status.Options{Cluster: "control-plane", CheckAccess: true})
	if tr := tree(t, r, at); !strings.Contains(tr, "Failed: ServiceAccount "+sa) {
		t.Errorf("tree:\n%s", tr)
	}

	// On the hub Flux impersonates too: a hub Kustomization's service
	// account without any RBAC on the hub may patch nothing.
	mgmt := &kustomizev1.Kustomization{}
	expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: s.Namespace, Name: "management-apps"}, mgmt))
	mgmt.Spec.ServiceAccountName = "deployer"
	expect.NoError(t, hub.Update(c, mgmt))
	rep = statusOf("management", true)
	got = accessOf(t, rep, "management", status.CheckServiceAccount)
	wantHealthy(t, "hub service account", rep, false)
	if len(got) != 1 || got[0].State != status.AccessFailed {
		t.Fatalf("hub service account checks %+v, want one %s", got, status.AccessFailed)
	}
	if len(got[0].Denied) == 0 {
		t.Errorf("hub service account: nothing denied, want the inventory's kinds")
	}
	if want := "Kustomization/" + s.Namespace + "/management-apps"; got[0].Object != want {
		t.Errorf("hub service account check of %q, want %s", got[0].Object, want)
	}

	bind(s.Namespace+"-deployer-patch", "patch")
	rep = statusOf("control-plane", true)
	got = accessOf(t, rep, "control-plane", status.CheckServiceAccount)
	wantHealthy(t, "with patch rights", rep, true)
	if len(got) != 1 || got[0].State != status.AccessOK {
		t.Fatalf("with patch rights: checks %+v, want one %s", got, status.AccessOK)
	}
	if len(got[0].Denied) != 0 {
		t.Fatalf("with patch rights: denied %q, want nothing", got[0].Denied)
	}
}

// TestStatusCheckAccessHelmRelease: a HelmRelease installed on the
// control-plane spoke as a service account, with the inventory
// helm-controller writes: CheckAccess asks the spoke, impersonating it,
// for each kind and namespace of that inventory, and names what is denied
// until RBAC allows all of it.
func TestStatusCheckAccessHelmRelease(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	s, c := sc.s, sc.ctx
	hub := s.Fleet.Hub.Client
	key := client.ObjectKey{Namespace: s.Namespace, Name: "memcached"}
	hr := &helmv2.HelmRelease{}
	expect.NoError(t, hub.Get(c, key, hr))
	if hr.Spec.KubeConfig == nil || hr.Spec.KubeConfig.SecretRef.Name != "control-plane-kubeconfig" {
		t.Fatalf("sample HelmRelease memcached does not target control-plane: %+v", hr.Spec.KubeConfig)
	}
	hr.Spec.ServiceAccountName = "helm-deployer"
	expect.NoError(t, hub.Update(c, hr))
	// The inventory helm-controller records for the release's objects.
	hr.Status.Inventory = &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{
		{ID: s.Namespace + "_memcached_apps_StatefulSet", Version: "v1"},
		{ID: s.Namespace + "_memcached__Service", Version: "v1"},
		{ID: s.Namespace + "_memcached-metrics__Service", Version: "v1"},
	}}
	expect.NoError(t, hub.Status().Update(c, hr))

	sa := s.Namespace + "/helm-deployer"
	object := "HelmRelease/" + s.Namespace + "/memcached"
	checkSA := func(step string, wantHealthyReport bool, wantState string, wantDenied ...string) status.AccessCheck {
		t.Helper()
		r, _ := sc.build(t, status.Options{Cluster: "control-plane", CheckAccess: true})
		rep := roundTrip(t, r)
		var mine []status.AccessCheck
		for _, a := range accessOf(t, rep, "control-plane", status.CheckServiceAccount) {
			if a.Object == object {
				mine = append(mine, a)
			}
		}
		wantHealthy(t, step, rep, wantHealthyReport)
		if len(mine) != 1 {
			t.Fatalf("%s: checks of %s %+v, want one", step, object, mine)
		}
		expect.Equal(t, step+": state", mine[0].State, wantState)
		expect.Equal(t, step+": service account", mine[0].ServiceAccount, sa)
		expect.Equal(t, step+": denied", strings.Join(mine[0].Denied, ","), strings.Join(wantDenied, ","))
		return mine[0]
	}
	got := checkSA("no RBAC", false, status.AccessFailed, "Service in "+s.Namespace, "StatefulSet.apps in "+s.Namespace)
	if !strings.Contains(got.Message, "ServiceAccount "+sa+" ("+object+") may not patch") {
		t.Errorf("message %q", got.Message)
	}

	spoke := s.Fleet.Spokes["control-plane"].Client
	expect.NoError(t, client.IgnoreAlreadyExists(spoke.Create(c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.Namespace}})))
	allow := func(name, group, resource string) {
		t.Helper()
		expect.NoError(t, spoke.Create(c, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: name},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{group}, Resources: []string{resource}, Verbs: []string{"get", "patch"}}}}))
		expect.NoError(t, spoke.Create(c, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: s.Namespace, Name: "helm-deployer"}}}))
	}
	allow("helm-deployer-statefulsets", "apps", "statefulsets")
	checkSA("StatefulSets allowed", false, status.AccessFailed, "Service in "+s.Namespace)
	allow("helm-deployer-services", "", "services")
	got = checkSA("all allowed", true, status.AccessOK)
	if got.Message != "ServiceAccount "+sa+" ("+object+") may patch the 2 kinds of its inventory" {
		t.Errorf("message %q", got.Message)
	}
}
