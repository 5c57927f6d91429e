package plugin

import (
	"context"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/status"
)

// TestE2EWorkloadIdentity: a spoke reached through
// spec.kubeConfig.configMapRef with provider generic, as Flux 2.6+ does.
// The ConfigMap points at the test fleet's hub apiserver (the only one
// that trusts the hub's service account tokens) with the address written
// with a trailing slash: Flux's default audience is the address as
// written, which is then the apiserver's issuer and API audience. The
// real kustomize-controller (with its ObjectLevelWorkloadIdentity feature
// gate) reconciles edge-apps through a real TokenRequest for the hub
// ServiceAccount edge-deployer; then status reaches the cluster the same
// way and reports the token's lifetime, diff finds nothing to change and
// then exactly a checkout edit, trace walks back to edge-apps. A
// ConfigMap without provider, a missing ServiceAccount, a missing
// ConfigMap and a wrong audience are errors naming what is wrong, the
// other commands' exit code 2.
func TestE2EWorkloadIdentity(t *testing.T) {
	if !testing.Short() {
		if _, err := testfleet.FluxBinDir(); err != nil {
			t.Fatal(err)
		}
	}
	root, err := testfleet.ModuleRoot()
	expect.NoError(t, err)
	fl := testfleet.Get(t)
	hub := fl.Hub.Client
	// The issuer (and API audience) envtest gives the hub apiserver.
	issuer := strings.TrimSuffix(fl.Hub.Config.Host, "/") + "/"
	var ns string
	cmData := func() map[string]string {
		return map[string]string{
			"provider":           "generic",
			"address":            issuer,
			"ca.crt":             string(fl.Hub.Config.CAData),
			"serviceAccountName": "edge-deployer",
		}
	}
	crb := &rbacv1.ClusterRoleBinding{}
	s := loadLiveSample(t, testfleet.SampleOptions{
		Source:         filepath.Join(root, "testdata", "gitops-wi"),
		ControllerArgs: []string{"--feature-gates=ObjectLevelWorkloadIdentity=true"},
	}, []string{"flux-system", "edge-apps"}, func(n string) {
		ns = n
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		expect.NoError(t, hub.Create(c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge-deployer"}}))
		*crb = rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "wi-" + ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: "edge-deployer"}}}
		expect.NoError(t, hub.Create(c, crb))
		expect.NoError(t, hub.Create(c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge-kubeconfig"}, Data: cmData()}))
	})
	t.Cleanup(func() { _ = hub.Delete(context.Background(), crb) })
	c := ctx(t)

	// The real controller applied edge-apps as the service account.
	applied := &corev1.ConfigMap{}
	expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: ns, Name: "edge-settings"}, applied))
	if applied.Data["tier"] != "edge" {
		t.Fatalf("edge-settings not applied by the controller: %v", applied.Data)
	}
	flags := []string{"--kubeconfig", fl.HubKubeconfig, "-n", ns, "--flux-namespace", ns, "--color", "never"}

	// status: reachable through the token, whose lifetime is reported.
	r := run(t, append([]string{"status", "--cluster", "edge", "-o", "json"}, flags...)...)
	rep := decode(t, r.stdout)
	wantExit(t, "status", r, 0)
	if len(rep.Clusters) != 1 {
		t.Fatalf("status: clusters %+v, want edge only", rep.Clusters)
	}
	edge := rep.Clusters[0]
	expect.Equal(t, "edge: reachable", edge.Reachable, true)
	expect.Equal(t, "edge: kubeConfig", edge.KubeConfig, "ConfigMap/"+ns+"/edge-kubeconfig")
	expect.Equal(t, "edge: objects", len(edge.Objects), 1)
	var token *status.AccessCheck
	for i := range edge.Access {
		if edge.Access[i].Check == status.CheckToken {
			token = &edge.Access[i]
		}
	}
	want := "workload identity token (generic, ServiceAccount " + ns + "/edge-deployer) of ConfigMap/" + ns + "/edge-kubeconfig lives 60m"
	if token == nil {
		t.Fatalf("no token check in %+v, want OK %q", edge.Access, want)
	}
	expect.Equal(t, "token check: state", token.State, status.AccessOK)
	if !strings.HasPrefix(token.Message, want) {
		t.Errorf("token check: message %q, want it to start with %q", token.Message, want)
	}
	if token.Expires == nil {
		t.Errorf("token check: no expiry, want one")
	}
	r = run(t, append([]string{"status", "--cluster", "edge"}, flags...)...)
	wantExit(t, "status tree", r, 0)
	expect.Contains(t, "status tree", r.stdout, "workload identity token lives 60m", "via ConfigMap/"+ns+"/edge-kubeconfig")
	noJWT(t, r)

	// diff: the controller's result is what the checkout gives; an edit
	// is exactly what diff reports, through the same token.
	r = run(t, diffArgs(s.Sample, flags, "-o", "json", "--helm=false")...)
	res := decodeDiff(t, r.stdout)
	wantExit(t, "diff", r, 0)
	if res.HasChanges() {
		t.Errorf("diff: changes\n  %s\nwant none", strings.Join(changes(res), "\n  "))
	}
	if res.HasErrors() {
		t.Errorf("diff: errors, want none\n%s", r.stdout)
	}
	expect.Equal(t, "diff: Kustomizations", len(res.Kustomizations), 2)
	fixture.EditFile(t, s.RepoDir, "clusters/edge/configmap.yaml", "tier: edge", "tier: core")
	r = run(t, diffArgs(s.Sample, flags, "-o", "json", "--helm=false")...)
	res = decodeDiff(t, r.stdout)
	wantExit(t, "diff after an edit", r, 1)
	expect.Equal(t, "diff after an edit: changes", strings.Join(changes(res), "\n"), "edge edge-apps ConfigMap/"+ns+"/edge-settings drifted")
	noJWT(t, r)
	fixture.EditFile(t, s.RepoDir, "clusters/edge/configmap.yaml", "tier: core", "tier: edge")

	// trace: the object on the cluster back to the hub Kustomization.
	r = run(t, traceArgs(s.Sample, "configmap/edge-settings", "-n", ns, "--cluster", "edge")...)
	wantExit(t, "trace", r, 0)
	expect.Contains(t, "trace", r.stdout, "Kustomization/"+ns+"/edge-apps")

	// A least-privilege CI identity made of exactly rbac diff's output
	// reaches the spoke too: it may read the ConfigMap and the service
	// account and request that account's token, and nothing more.
	r, ciFlags, ciToken := ciIdentity(t, flags, ns, "pr-check")
	expect.Contains(t, "rbac diff", r.stdout, "serviceaccounts/token", "edge-deployer", "edge-kubeconfig")
	r = run(t, diffArgs(s.Sample, ciFlags, "-o", "json", "--helm=false")...)
	res = decodeDiff(t, r.stdout)
	wantExit(t, "diff as the CI identity", r, 0)
	if res.HasErrors() {
		t.Errorf("diff as the CI identity: errors, want none\n%s", r.stdout)
	}
	if !res.Complete {
		t.Errorf("diff as the CI identity: incomplete %+v, want complete", res.Incomplete)
	}
	expect.Equal(t, "diff as the CI identity: Kustomizations", len(res.Kustomizations), 2)
	if strings.Contains(r.stdout+r.stderr, ciToken) {
		t.Fatal("the CI identity's token is printed")
	}
	noJWT(t, r)

	// Without serviceAccountName Flux uses its controller's own service
	// account; the plugin requests the token for kustomize-controller in
	// --flux-namespace.
	t.Run("controller identity", func(t *testing.T) {
		cm := &corev1.ConfigMap{}
		expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: ns, Name: "edge-kubeconfig"}, cm))
		delete(cm.Data, "serviceAccountName")
		expect.NoError(t, hub.Update(c, cm))
		defer func() {
			expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: ns, Name: "edge-kubeconfig"}, cm))
			cm.Data = cmData()
			expect.NoError(t, hub.Update(c, cm))
		}()
		r := run(t, append([]string{"status", "--cluster", "edge", "-o", "json"}, flags...)...)
		rep := decode(t, r.stdout)
		want := "ServiceAccount " + ns + "/kustomize-controller (the Flux controller's own identity, used as ConfigMap " + ns + "/edge-kubeconfig names no serviceAccountName) not found in the hub"
		wantExit(t, "status without the controller's service account", r, 1)
		if len(rep.Clusters) != 1 {
			t.Fatalf("status without the controller's service account: clusters %+v, want edge only", rep.Clusters)
		}
		expect.Contains(t, "status without the controller's service account: error", rep.Clusters[0].Error, want)
		expect.NoError(t, hub.Create(c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kustomize-controller"}}))
		ctrl := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "wi-ctrl-" + ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: "kustomize-controller"}}}
		expect.NoError(t, hub.Create(c, ctrl))
		defer func() { _ = hub.Delete(context.Background(), ctrl) }()
		r = run(t, append([]string{"status", "--cluster", "edge", "-o", "json"}, flags...)...)
		rep = decode(t, r.stdout)
		wantExit(t, "status as the controller", r, 0)
		if len(rep.Clusters) != 1 {
			t.Fatalf("status as the controller: clusters %+v, want edge only", rep.Clusters)
		}
		expect.Equal(t, "status as the controller: reachable", rep.Clusters[0].Reachable, true)
		expect.Contains(t, "status as the controller", r.stdout, "workload identity token (generic, ServiceAccount "+ns+"/kustomize-controller)")

		// A cluster only a HelmRelease reaches is reached as
		// helm-controller, whose own identity Flux uses there.
		hcm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "charts-kubeconfig"}, Data: cmData()}
		delete(hcm.Data, "serviceAccountName")
		expect.NoError(t, hub.Create(c, hcm))
		hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "charts"},
			Spec: helmv2.HelmReleaseSpec{Interval: metav1.Duration{Duration: time.Hour}, Suspend: true,
				KubeConfig: &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "charts-kubeconfig"}},
				Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "podinfo",
					SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "absent"}}}}}
		expect.NoError(t, hub.Create(c, hr))
		defer func() { _ = hub.Delete(context.Background(), hr); _ = hub.Delete(context.Background(), hcm) }()
		r = run(t, append([]string{"status", "--cluster", "charts", "-o", "json"}, flags...)...)
		rep = decode(t, r.stdout)
		want = "ServiceAccount " + ns + "/helm-controller (the Flux controller's own identity, used as ConfigMap " + ns + "/charts-kubeconfig names no serviceAccountName) not found in the hub"
		if len(rep.Clusters) != 1 {
			t.Fatalf("status without helm-controller's service account: clusters %+v, want charts only", rep.Clusters)
		}
		expect.Contains(t, "status without helm-controller's service account: error", rep.Clusters[0].Error, want)
		expect.NoError(t, hub.Create(c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "helm-controller"}}))
		r = run(t, append([]string{"status", "--cluster", "charts", "-o", "json"}, flags...)...)
		rep = decode(t, r.stdout)
		if len(rep.Clusters) != 1 {
			t.Fatalf("status as helm-controller: clusters %+v, want charts only", rep.Clusters)
		}
		expect.Equal(t, "status as helm-controller: reachable", rep.Clusters[0].Reachable, true)
		expect.Contains(t, "status as helm-controller", r.stdout, "workload identity token (generic, ServiceAccount "+ns+"/helm-controller)")
	})

	// Faults: each names what is wrong.
	for _, tc := range []struct {
		name string
		edit func(map[string]string)
		want string
	}{
		{"no provider", func(d map[string]string) { delete(d, "provider") },
			"ConfigMap " + ns + "/edge-kubeconfig (spec.kubeConfig.configMapRef) has no provider key"},
		{"missing service account", func(d map[string]string) { d["serviceAccountName"] = "absent" },
			"ServiceAccount " + ns + "/absent (serviceAccountName of ConfigMap " + ns + "/edge-kubeconfig) not found in the hub"},
		{"wrong audience", func(d map[string]string) { d["audiences"] = "https://elsewhere.example\n" },
			"the server has asked for the client to provide credentials"},
		{"default audience without the issuer's slash", func(d map[string]string) { d["address"] = strings.TrimSuffix(issuer, "/") },
			"the server has asked for the client to provide credentials"},
		{"missing ConfigMap", nil,
			"ConfigMap " + ns + "/edge-kubeconfig (spec.kubeConfig.configMapRef) not found in the hub"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{}
			expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: ns, Name: "edge-kubeconfig"}, cm))
			if tc.edit == nil {
				expect.NoError(t, hub.Delete(c, cm))
				defer func() {
					expect.NoError(t, hub.Create(c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge-kubeconfig"}, Data: cmData()}))
				}()
			} else {
				tc.edit(cm.Data)
				expect.NoError(t, hub.Update(c, cm))
				defer func() {
					expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: ns, Name: "edge-kubeconfig"}, cm))
					cm.Data = cmData()
					expect.NoError(t, hub.Update(c, cm))
				}()
			}
			r := run(t, append([]string{"status", "--cluster", "edge", "-o", "json"}, flags...)...)
			rep := decode(t, r.stdout)
			wantExit(t, "status", r, 1)
			if len(rep.Clusters) != 1 {
				t.Fatalf("status: clusters %+v, want edge only", rep.Clusters)
			}
			expect.Equal(t, "status: reachable", rep.Clusters[0].Reachable, false)
			expect.Contains(t, "status: error", rep.Clusters[0].Error, tc.want)
			r = run(t, traceArgs(s.Sample, "configmap/edge-settings", "-n", ns, "--cluster", "edge")...)
			wantExit(t, "trace", r, 2)
			expect.Contains(t, "trace: stderr", r.stderr, tc.want)
			r = run(t, diffArgs(s.Sample, flags, "--helm=false")...)
			wantExit(t, "diff", r, 2)
			expect.Contains(t, "diff: output", r.stdout+r.stderr, tc.want)
			noJWT(t, r)
		})
	}
}

// noJWT fails when a service account token (a JWT) is in the output.
func noJWT(t *testing.T, r result) {
	t.Helper()
	if strings.Contains(r.stdout+r.stderr, "eyJ") {
		t.Fatalf("output holds a JWT:\n%s%s", r.stdout, r.stderr)
	}
}
