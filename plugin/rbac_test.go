package plugin

import (
	"encoding/json"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestRBACDiffIsEnough proves rbac diff on the real test fleet: a service
// account bound to exactly its output runs diff, through its own token,
// to a complete plan — and cannot get a Secret the fleet does not name.
func TestRBACDiffIsEnough(t *testing.T) {
	s, flags := loadSample(t, testfleet.SampleOptions{})
	c := ctx(t)
	hub := f(t).Hub
	sa := "pr-check"

	r, ciFlags, token := ciIdentity(t, flags, s.Namespace, sa)
	if !strings.Contains(r.stdout, "control-plane-kubeconfig") {
		t.Fatalf("the spokes' kubeconfig Secrets are not named:\n%s", r.stdout)
	}
	unrelated := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "unrelated"}, StringData: map[string]string{"k": "v"}}
	expect.NoError(t, hub.Client.Create(c, unrelated))
	r = run(t, diffArgs(s, ciFlags, "-o", "json")...)
	if strings.Contains(r.stdout+r.stderr, token) {
		t.Fatal("the token is printed")
	}
	res := decodeDiff(t, r.stdout)
	wantExit(t, "diff as "+sa, r, 0)
	if !res.Complete {
		t.Errorf("diff as %s: incomplete %+v, want complete", sa, res.Incomplete)
	}
	if res.HasErrors() {
		t.Errorf("diff as %s: errors, want none\n%s", sa, r.stdout)
	}
	expect.Equal(t, "diff as "+sa+": Kustomizations", len(res.Kustomizations), 9)
	if len(res.HelmReleases) == 0 {
		t.Errorf("diff as %s: no HelmRelease rendered, want the sample's", sa)
	}

	ci, err := client.New(&rest.Config{Host: hub.Config.Host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: hub.Config.CAData}}, client.Options{})
	expect.NoError(t, err)
	if err := ci.Get(c, client.ObjectKeyFromObject(unrelated), &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the CI identity reads an unrelated Secret: %v", err)
	}
	if err := ci.Get(c, client.ObjectKey{Namespace: s.Namespace, Name: "control-plane-kubeconfig"}, &corev1.Secret{}); err != nil {
		t.Fatalf("the CI identity cannot read a kubeconfig Secret it needs: %v", err)
	}

	// A change that brings a kind the fleet did not have (rbac diff reads
	// the fleet as reconciled): the dry-run is refused, the error names the
	// verb and the resource and says what to do, exit 2; everything else
	// is still diffed.
	writeFile(t, s.RepoDir, "apps/management/quota.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: c5c3-quota\n  namespace: "+
		s.SpokeNamespace("c5c3-system")+"\nspec:\n  hard:\n    pods: \"20\"\n")
	fixture.EditFile(t, s.RepoDir, "apps/management/kustomization.yaml", "  - service.yaml\n", "  - service.yaml\n  - quota.yaml\n")
	r = run(t, diffArgs(s, ciFlags, "-o", "json")...)
	wantExit(t, "diff of a change bringing a new kind, as the CI identity", r, 2)
	res = decodeDiff(t, r.stdout)
	quota := false
	for _, o := range res.Objects {
		if o.Kind == "ResourceQuota" {
			quota = true
			if o.Action != diff.ActionError {
				t.Errorf("%s: %s, want error", o.ID(), o.Action)
			}
			expect.Contains(t, o.ID()+": error", o.Error, `cannot patch resource "resourcequotas"`, "system:serviceaccount:"+s.Namespace+":"+sa, diff.RefusalHint)
		}
	}
	if !quota {
		t.Errorf("the new ResourceQuota is not in the result\n%s", objectDiffs(res))
	}
	if len(res.Kustomizations) != 9 || res.Summary.Errors != 1 {
		t.Errorf("a refused kind hides others: %d Kustomizations, %d errors; want 9 and 1", len(res.Kustomizations), res.Summary.Errors)
	}

	// The same change as a pull request commit, and rbac diff of that
	// checkout (--repo): what its working tree applies is granted too, so
	// the PR check run as an identity bound to exactly that output
	// completes — the new kind is dry-run, nothing is refused — and that
	// identity still cannot get a Secret the fleet does not name.
	fixture.Git(t, s.RepoDir, "add", "-A")
	fixture.Git(t, s.RepoDir, "commit", "-q", "-m", "a ResourceQuota for c5c3-system")
	r, treeFlags, treeToken := ciIdentity(t, flags, s.Namespace, sa+"-tree", "--repo", s.RepoDir)
	expect.Contains(t, "rbac diff --repo: the new kind", r.stdout, "resourcequotas")
	r = run(t, diffArgs(s, treeFlags, "-o", "json", "--base", "HEAD~1")...)
	wantExit(t, "diff --base of the PR commit, as the identity of rbac diff --repo", r, 1)
	res = decodeDiff(t, r.stdout)
	if !res.Complete || res.HasErrors() {
		t.Errorf("diff --base as the identity of rbac diff --repo: incomplete %+v\n%s", res.Incomplete, objectDiffs(res))
	}
	quota = false
	for _, o := range res.Objects {
		if o.Kind == "ResourceQuota" {
			quota = o.Action == diff.ActionCreated
		}
	}
	if !quota {
		t.Errorf("diff --base as the identity of rbac diff --repo: the new ResourceQuota is not created\n%s", objectDiffs(res))
	}
	ci, err = client.New(&rest.Config{Host: hub.Config.Host, BearerToken: treeToken, TLSClientConfig: rest.TLSClientConfig{CAData: hub.Config.CAData}}, client.Options{})
	expect.NoError(t, err)
	if err := ci.Get(c, client.ObjectKeyFromObject(unrelated), &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("the identity of rbac diff --repo reads an unrelated Secret: %v, want 403 Forbidden", err)
	}

	r = run(t, append([]string{"rbac", "diff", "--service-account", s.Namespace + "/" + sa, "--cluster", "nowhere"}, flags...)...)
	wantExit(t, "unknown cluster", r, 2)
	expect.Contains(t, "unknown cluster: stderr", r.stderr, "--cluster nowhere: no such cluster in the fleet")
	r = run(t, "rbac", "diff", "--service-account", "pr-check")
	wantExit(t, "bad --service-account", r, 2)
	expect.Contains(t, "bad --service-account: stderr", r.stderr, "want NAMESPACE/NAME")
}

// ciIdentity runs rbac diff for the service account ns/sa (with the
// extra rbac diff flags), applies exactly its output to the hub, creates
// the service account and returns the output, the flags that run the
// plugin as it (a kubeconfig with its TokenRequest token) and the token.
func ciIdentity(t *testing.T, flags []string, ns, sa string, extra ...string) (result, []string, string) {
	t.Helper()
	c := ctx(t)
	hub := f(t).Hub
	r := run(t, append(append([]string{"rbac", "diff", "--service-account", ns + "/" + sa}, flags...), extra...)...)
	if r.code != 0 {
		t.Fatalf("rbac diff: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	kinds := map[string]int{}
	for _, doc := range strings.Split(r.stdout, "\n---\n") {
		u := &unstructured.Unstructured{}
		expect.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object))
		kinds[u.GetKind()]++
		if err := hub.Client.Create(c, u); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
	}
	expect.Equal(t, "ClusterRoles", kinds["ClusterRole"], 1)
	expect.Equal(t, "ClusterRoleBindings", kinds["ClusterRoleBinding"], 1)
	if kinds["Role"] == 0 {
		t.Errorf("no Role in %v", kinds)
	}
	expect.Equal(t, "RoleBindings (one per Role)", kinds["RoleBinding"], kinds["Role"])
	// Exactly the Secrets named: the spokes' kubeconfig Secrets, never all.
	for _, doc := range strings.Split(r.stdout, "\n---\n") {
		var role rbacv1.Role
		expect.NoError(t, yaml.Unmarshal([]byte(doc), &role))
		for _, rule := range role.Rules {
			if role.Kind == "Role" && rule.Resources[0] == "secrets" && len(rule.ResourceNames) == 0 && !strings.Contains(strings.Join(rule.Verbs, ","), "list") {
				t.Errorf("a get on every Secret of %s: %+v", role.Namespace, rule)
			}
		}
	}

	expect.NoError(t, hub.Client.Create(c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}}))
	cs, err := kubernetes.NewForConfig(hub.Config)
	expect.NoError(t, err)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(c, sa, &authv1.TokenRequest{}, metav1.CreateOptions{})
	expect.NoError(t, err)
	token := tr.Status.Token

	kc := clientcmdapi.NewConfig()
	kc.Clusters["hub"] = &clientcmdapi.Cluster{Server: hub.Config.Host, CertificateAuthorityData: hub.Config.CAData}
	kc.AuthInfos["ci"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["ci"] = &clientcmdapi.Context{Cluster: "hub", AuthInfo: "ci", Namespace: ns}
	kc.CurrentContext = "ci"
	path := filepath.Join(t.TempDir(), "ci.kubeconfig")
	expect.NoError(t, clientcmd.WriteToFile(*kc, path))

	ciFlags := append([]string{}, flags...)
	for i := range ciFlags {
		if ciFlags[i] == "--kubeconfig" {
			ciFlags[i+1] = path
		}
	}
	return r, ciFlags, token
}

// TestRBACSpokeIsEnough proves rbac diff --cluster on the real test fleet:
// the control-plane spoke's kubeconfig Secret is given the token of a
// service account on the spoke bound to exactly the output of rbac diff
// --cluster control-plane; the PR check, run as the CI identity on the hub
// (bound to exactly rbac diff's output there), with and without --base,
// makes the same plan as the admin; and the spoke identity cannot get a
// Secret the fleet does not need.
func TestRBACSpokeIsEnough(t *testing.T) {
	s, flags := loadSample(t, testfleet.SampleOptions{})
	c := ctx(t)
	spoke := f(t).Spokes["control-plane"]
	// A pull request that changes what is applied to the spoke: a
	// Kustomization's ConfigMap and a HelmRelease's values.
	fixture.EditFile(t, s.RepoDir, "apps/keystone/base/configmap.yaml", "debug = false", "debug = true")
	fixture.EditFile(t, s.RepoDir, "apps/management/helmreleases/memcached.yaml", "replicaCount: 3", "replicaCount: 4")
	// ... and a kind the live fleet does not use on the spoke: a
	// HorizontalPodAutoscaler. rbac diff reads the checkout's working tree
	// (--repo), so the output grants its dry-run.
	writeFile(t, s.RepoDir, "apps/keystone/base/hpa.yaml", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: keystone-api\n  namespace: "+
		s.SpokeNamespace("openstack")+"\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: keystone-api\n  minReplicas: 1\n  maxReplicas: 3\n")
	fixture.EditFile(t, s.RepoDir, "apps/keystone/base/kustomization.yaml", "  - pdb.yaml\n", "  - pdb.yaml\n  - hpa.yaml\n")
	// ... and a new HelmRelease whose chart renders a kind the spoke has
	// not had from the fleet: libvirt's DaemonSet, installed on the
	// control-plane spoke. rbac diff renders it (--helm, the default).
	writeFile(t, s.RepoDir, "apps/management/helmreleases/libvirt-control-plane.yaml", `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: libvirt-control-plane
  namespace: `+s.Namespace+`
spec:
  interval: 30m
  releaseName: libvirt-control-plane
  targetNamespace: `+s.SpokeNamespace("memcached")+`
  storageNamespace: `+s.SpokeNamespace("memcached")+`
  kubeConfig:
    secretRef:
      name: control-plane-kubeconfig
  chart:
    spec:
      chart: libvirt
      version: "0.3.1"
      sourceRef:
        kind: HelmRepository
        name: c5c3-charts
        namespace: `+s.Namespace+`
`)
	fixture.EditFile(t, s.RepoDir, "apps/management/helmreleases/kustomization.yaml", "  - libvirt.yaml\n", "  - libvirt.yaml\n  - libvirt-control-plane.yaml\n")
	checks := map[string][]string{"full": {"-o", "json"}, "--base": {"-o", "json", "--base", "HEAD"}}
	admin := map[string]result{}
	for name, extra := range checks {
		admin[name] = run(t, diffArgs(s, flags, extra...)...)
		wantExit(t, "diff "+name+" as the admin", admin[name], 1)
	}

	// The spoke identity: a service account there, whose token replaces
	// the admin kubeconfig in the hub's Secret; rbac diff --cluster binds
	// what it needs to the user of that kubeconfig.
	saNS, saName := s.SpokeNamespace("openstack"), "c5c3-diff-"+s.Namespace
	token, err := spoke.ServiceAccountToken(c, saNS, saName, time.Hour)
	expect.NoError(t, err)
	kc, err := spoke.KubeconfigWithToken(token)
	expect.NoError(t, err)
	expect.NoError(t, s.SetKubeconfig(c, "control-plane", kc))
	r := run(t, append([]string{"rbac", "diff", "--service-account", s.Namespace + "/pr-check", "--cluster", "control-plane", "--repo", s.RepoDir}, flags...)...)
	wantExit(t, "rbac diff --cluster control-plane", r, 0)
	expect.Contains(t, "rbac diff --cluster control-plane: the new kinds", r.stdout, "horizontalpodautoscalers", "daemonsets")
	kinds := map[string]int{}
	for _, doc := range strings.Split(r.stdout, "\n---\n") {
		u := &unstructured.Unstructured{}
		expect.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object))
		kinds[u.GetKind()]++
		var role rbacv1.ClusterRole
		expect.NoError(t, yaml.Unmarshal([]byte(doc), &role))
		for _, rule := range role.Rules {
			if u.GetKind() == "ClusterRole" && rule.Resources[0] == "secrets" && len(rule.ResourceNames) == 0 {
				t.Errorf("ClusterRole %s: %v on every Secret of the spoke", role.Name, rule.Verbs)
			}
		}
		var binding rbacv1.RoleBinding
		expect.NoError(t, yaml.Unmarshal([]byte(doc), &binding))
		for _, sub := range binding.Subjects {
			if sub.Kind != rbacv1.ServiceAccountKind || sub.Namespace != saNS || sub.Name != saName {
				t.Errorf("%s %s binds %+v, want the kubeconfig's service account %s/%s", u.GetKind(), u.GetName(), sub, saNS, saName)
			}
		}
		expect.NoError(t, spoke.Client.Create(c, u))
	}
	if kinds["ClusterRole"] != 1 || kinds["ClusterRoleBinding"] != 1 || kinds["Role"] == 0 || kinds["Role"] != kinds["RoleBinding"] {
		t.Fatalf("rbac diff --cluster: objects %v:\n%s", kinds, r.stdout)
	}

	_, ciFlags, _ := ciIdentity(t, flags, s.Namespace, "pr-check", "--repo", s.RepoDir)
	for name, extra := range checks {
		r := run(t, diffArgs(s, ciFlags, extra...)...)
		wantExit(t, "diff "+name+" as the CI identity", r, admin[name].code)
		got, want := decodeDiff(t, r.stdout), decodeDiff(t, admin[name].stdout)
		if !got.Complete || got.HasErrors() {
			t.Errorf("diff %s as the CI identity: incomplete %+v\n%s", name, got.Incomplete, r.stderr)
		}
		if g, w := planOf(t, got), planOf(t, want); g != w {
			t.Errorf("diff %s: the CI identity's plan differs from the admin's\n%s\nwant\n%s", name, g, w)
		}
		created := map[string]bool{}
		for _, o := range got.Objects {
			if o.Cluster == "control-plane" && o.Action == diff.ActionCreated {
				created[o.Kind] = true
			}
		}
		if !created["HorizontalPodAutoscaler"] || !created["DaemonSet"] {
			t.Errorf("diff %s as the CI identity: created on control-plane %v, want the new HorizontalPodAutoscaler and the new chart's DaemonSet\n%s", name, created, objectDiffs(got))
		}
	}

	// Nothing more: a Secret the fleet does not name is refused.
	unrelated := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: saNS, Name: "unrelated"}, StringData: map[string]string{"k": "v"}}
	expect.NoError(t, spoke.Client.Create(c, unrelated))
	ci, err := client.New(&rest.Config{Host: spoke.Config.Host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: spoke.Config.CAData}}, client.Options{})
	expect.NoError(t, err)
	if err := ci.Get(c, client.ObjectKeyFromObject(unrelated), &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("the spoke identity gets an unrelated Secret: %v, want 403 Forbidden", err)
	}
}

// planOf is what a diff plans, for comparing two runs: every object's
// action and diff, the HelmReleases' predictions, the danger flags, what
// is unchanged by the change and the summary.
func planOf(t *testing.T, r *diff.Result) string {
	t.Helper()
	b, err := json.MarshalIndent(struct {
		Objects      []diff.ObjectResult
		HelmReleases []diff.HelmReleaseResult
		Dangers      []diff.Danger
		Unchanged    []diff.UnchangedItem
		Summary      diff.Counts
	}{r.Objects, r.HelmReleases, r.Dangers, r.Unchanged, r.Summary}, "", "  ")
	expect.NoError(t, err)
	return string(b)
}

// TestRBACDecrypt: for a fleet whose Kustomization decrypts SOPS data
// (testfleet.SOPSFormsTree, decryption Secret sops-age), rbac diff grants
// get on that Secret only with --decrypt. A CI identity bound to rbac
// diff's output without it runs diff --decrypt with the encrypted objects
// skipped, naming the refused Secret; one bound to rbac diff --decrypt's
// output decrypts as the admin does, to the same plan.
func TestRBACDecrypt(t *testing.T) {
	fl := f(t)
	c := ctx(t)
	key, err := testfleet.NewAgeKey()
	expect.NoError(t, err)
	pgpKey, err := testfleet.NewPGPKey()
	expect.NoError(t, err)
	t.Cleanup(pgpKey.Close)
	plain := map[string]string{}
	for _, k := range testfleet.SOPSFormsPlaintexts {
		plain[k] = "c5c3-rbac-" + k + "-4b7e1f"
	}
	source := t.TempDir()
	expect.NoError(t, testfleet.SOPSFormsTree(source, key, pgpKey, plain))
	ns := testfleet.Namespace(t)
	expect.NoError(t, fl.Hub.Client.Create(c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	expect.NoError(t, fl.Hub.Client.Create(c, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sops-age", Namespace: ns},
		Data:       map[string][]byte{"identity.agekey": []byte(key.Identity), "pgp.asc": []byte(pgpKey.Armored)},
	}))
	s, err := fl.LoadSample(c, testfleet.SampleOptions{Namespace: ns, Source: source, NoFluxReport: true})
	expect.NoError(t, err)
	flags := sampleFlags(fl, s)
	args := diffArgs(s, flags, "-o", "json", "--decrypt")
	admin := run(t, args...)
	wantExit(t, "diff --decrypt as the admin", admin, 0)
	want := decodeDiff(t, admin.stdout)
	if want.Summary.Skipped != 0 || want.Summary.Unchanged < 5 {
		t.Fatalf("diff --decrypt as the admin: %+v, want nothing skipped\n%s", want.Summary, objectDiffs(want))
	}

	// Without --decrypt: no right to the keys; diff --decrypt skips what
	// needs them and says why.
	r, ciFlags, _ := ciIdentity(t, flags, ns, "pr-check")
	if strings.Contains(r.stdout, "sops-age") {
		t.Errorf("rbac diff without --decrypt grants the decryption Secret:\n%s", r.stdout)
	}
	r = run(t, diffArgs(s, ciFlags, "-o", "json", "--decrypt")...)
	wantExit(t, "diff --decrypt as the identity of rbac diff", r, 0)
	res := decodeDiff(t, r.stdout)
	if res.Summary.Skipped != 3 {
		t.Errorf("diff --decrypt as the identity of rbac diff: %d skipped, want the 3 encrypted objects\n%s", res.Summary.Skipped, objectDiffs(res))
	}
	for _, o := range res.Objects {
		if o.Action == diff.ActionSkipped {
			expect.Contains(t, o.ID()+": reason", o.Reason, ns+"/sops-age", "forbidden")
		}
	}

	// With --decrypt: get on exactly that Secret, and the admin's plan.
	r, ciFlags, _ = ciIdentity(t, flags, ns, "pr-check-decrypt", "--decrypt")
	var names []string
	for _, doc := range strings.Split(r.stdout, "\n---\n") {
		var role rbacv1.Role
		expect.NoError(t, yaml.Unmarshal([]byte(doc), &role))
		for _, rule := range role.Rules {
			if role.Kind == "Role" && role.Namespace == ns && rule.Resources[0] == "secrets" && strings.Join(rule.Verbs, ",") == "get" {
				names = rule.ResourceNames
			}
		}
	}
	if !slices.Contains(names, "sops-age") {
		t.Errorf("rbac diff --decrypt: get on Secrets %v in %s, want sops-age among them\n%s", names, ns, r.stdout)
	}
	r = run(t, diffArgs(s, ciFlags, "-o", "json", "--decrypt")...)
	wantExit(t, "diff --decrypt as the identity of rbac diff --decrypt", r, 0)
	if g, w := planOf(t, decodeDiff(t, r.stdout)), planOf(t, want); g != w {
		t.Errorf("diff --decrypt: the CI identity's plan differs from the admin's\n%s\nwant\n%s", g, w)
	}
	for k, v := range plain {
		if strings.Contains(r.stdout+r.stderr, v) {
			t.Errorf("the %s plaintext appears in diff's output", k)
		}
	}

	r = run(t, append([]string{"rbac", "diff", "--service-account", ns + "/pr-check", "--decrypt", "--cluster", "control-plane"}, flags...)...)
	wantExit(t, "rbac diff --decrypt --cluster", r, 2)
	expect.Contains(t, "rbac diff --decrypt --cluster: stderr", r.stderr, "--decrypt: diff reads the decryption Secrets on the hub")
}
