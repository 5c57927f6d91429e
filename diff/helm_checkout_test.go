package diff_test

import (
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"path/filepath"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// checkoutChartGitops is a gitops tree holding the webapp chart of
// testdata/charts at charts/webapp and two HelmReleases for the
// control-plane spoke with that chart from the checkout's own
// GitRepository: local, and restricted with spec.serviceAccountName.
func checkoutChartGitops(t *testing.T, targetNS string) string {
	dir := t.TempDir()
	root, err := testfleet.ChartsDir()
	expect.NoError(t, err)
	src := filepath.Join(root, "webapp-0.1.0")
	files := map[string]string{}
	expect.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		files[filepath.Join("charts", "webapp", rel)] = string(b)
		return nil
	}))
	hr := func(name string) *fixture.HelmRelease {
		return fixture.NewHelmRelease(name).ReleaseName(name).Target(targetNS).Spoke("control-plane").
			Chart("./charts/webapp", "", "GitRepository", "flux-system").CreateNamespace()
	}
	files["clusters/management/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - local.yaml\n  - restricted.yaml\n"
	files["clusters/management/local.yaml"] = hr("local").YAML()
	files["clusters/management/restricted.yaml"] = hr("restricted").With(func(hr *helmv2.HelmRelease) { hr.Spec.ServiceAccountName = "helm-deployer" }).YAML()
	fixture.WriteFiles(t, dir, files)
	return dir
}

// TestRunHelmReleaseCheckoutChart: a chart from the checkout's own
// GitRepository is read from the checkout, so an unpushed template edit
// shows in the rendered objects; a HelmRelease with spec.serviceAccountName
// is rendered and dry-run impersonating that service account on its
// target — without rights a clear error on that HelmRelease (exit 2, the
// other still diffed), with them its objects.
func TestRunHelmReleaseCheckoutChart(t *testing.T) {
	t.Parallel()
	target := "chk-" + testfleet.Namespace(t)
	sc := loadHelmScenario(t, checkoutChartGitops(t, target))
	s := sc.s
	spoke := s.Fleet.Spokes["control-plane"]
	sa := "system:serviceaccount:" + s.Namespace + ":helm-deployer"

	sc.edit(t, "charts/webapp/templates/configmap.yaml", "\ndata:\n", "\ndata:\n  edited: in-the-checkout\n")
	res := sc.run(t, 0, diff.Options{})
	wantOutcome(t, "restricted's service account has no rights", res, 2)
	hrs := hrsOf(res)
	expect.Contains(t, "restricted without rights: error", hrs["restricted"].Error, "HelmRelease "+s.Namespace+"/restricted", sa, "forbidden")
	if h := hrs["local"]; h.Error != "" || h.Counts.Created != 5 {
		t.Errorf("local HelmRelease %+v, want 5 created", h)
	}
	got := helmObjects(res, s.Namespace+"/local")
	expect.Equal(t, "template edit in the checkout: action", got["ConfigMap"].Action, diff.ActionCreated)
	expect.Contains(t, "template edit in the checkout: diff", got["ConfigMap"].Diff, "+  edited: in-the-checkout")

	// The service account gets rights on the spoke: restricted renders.
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "helm-deployer-" + s.Namespace},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: s.Namespace, Name: "helm-deployer"}}}
	expect.NoError(t, spoke.Client.Create(sc.ctx, crb))
	t.Cleanup(func() { _ = spoke.Client.Delete(sc.ctx, crb) })
	expect.NoError(t, spoke.Client.Create(sc.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.Namespace}}))
	t.Cleanup(func() {
		_ = spoke.Client.Delete(sc.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.Namespace}})
	})

	ok := sc.run(t, 0, diff.Options{})
	wantOutcome(t, "with rights", ok, 1)
	if h := hrsOf(ok)["restricted"]; h.Error != "" || h.Counts.Created != 5 {
		t.Errorf("restricted with rights: %+v, want 5 created", h)
	}
}
