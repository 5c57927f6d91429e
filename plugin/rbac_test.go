package plugin

import (
	"path/filepath"
	"strings"
	"testing"

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
	must(t, hub.Client.Create(c, unrelated))
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
	wantEqual(t, "diff as "+sa+": Kustomizations", len(res.Kustomizations), 9)
	if len(res.HelmReleases) == 0 {
		t.Errorf("diff as %s: no HelmRelease rendered, want the sample's", sa)
	}

	ci, err := client.New(&rest.Config{Host: hub.Config.Host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: hub.Config.CAData}}, client.Options{})
	must(t, err)
	if err := ci.Get(c, client.ObjectKeyFromObject(unrelated), &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the CI identity reads an unrelated Secret: %v", err)
	}
	if err := ci.Get(c, client.ObjectKey{Namespace: s.Namespace, Name: "control-plane-kubeconfig"}, &corev1.Secret{}); err != nil {
		t.Fatalf("the CI identity cannot read a kubeconfig Secret it needs: %v", err)
	}

	// The spoke's kubeconfig user: one ClusterRole with the dry-run of the
	// kinds applied there.
	r = run(t, append([]string{"rbac", "diff", "--service-account", s.Namespace + "/" + sa, "--cluster", "control-plane"}, flags...)...)
	var role rbacv1.ClusterRole
	must(t, yaml.Unmarshal([]byte(r.stdout), &role))
	dryRun := false
	for _, rule := range role.Rules {
		if rule.APIGroups[0] == "apps" && rule.Resources[0] == "deployments" && strings.Join(rule.Verbs, ",") == "get,list,patch" {
			dryRun = true
		}
	}
	wantExit(t, "rbac diff --cluster control-plane", r, 0)
	wantEqual(t, "rbac diff --cluster control-plane: kind", role.Kind, "ClusterRole")
	if strings.Contains(r.stdout, "\n---\n") {
		t.Errorf("rbac diff --cluster control-plane: several documents, want one ClusterRole:\n%s", r.stdout)
	}
	if !dryRun {
		t.Errorf("rbac diff --cluster control-plane: no rule get,list,patch on apps deployments (the dry-run):\n%s", r.stdout)
	}
	r = run(t, append([]string{"rbac", "diff", "--service-account", s.Namespace + "/" + sa, "--cluster", "nowhere"}, flags...)...)
	wantExit(t, "unknown cluster", r, 2)
	wantContains(t, "unknown cluster: stderr", r.stderr, "--cluster nowhere: no such cluster in the fleet")
	r = run(t, "rbac", "diff", "--service-account", "pr-check")
	wantExit(t, "bad --service-account", r, 2)
	wantContains(t, "bad --service-account: stderr", r.stderr, "want NAMESPACE/NAME")
}

// ciIdentity runs rbac diff for the service account ns/sa, applies exactly
// its output to the hub, creates the service account and returns the
// output, the flags that run the plugin as it (a kubeconfig with its
// TokenRequest token) and the token.
func ciIdentity(t *testing.T, flags []string, ns, sa string) (result, []string, string) {
	t.Helper()
	c := ctx(t)
	hub := f(t).Hub
	r := run(t, append([]string{"rbac", "diff", "--service-account", ns + "/" + sa}, flags...)...)
	if r.code != 0 {
		t.Fatalf("rbac diff: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	kinds := map[string]int{}
	for _, doc := range strings.Split(r.stdout, "\n---\n") {
		u := &unstructured.Unstructured{}
		must(t, yaml.Unmarshal([]byte(doc), &u.Object))
		kinds[u.GetKind()]++
		if err := hub.Client.Create(c, u); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
	}
	wantEqual(t, "ClusterRoles", kinds["ClusterRole"], 1)
	wantEqual(t, "ClusterRoleBindings", kinds["ClusterRoleBinding"], 1)
	if kinds["Role"] == 0 {
		t.Errorf("no Role in %v", kinds)
	}
	wantEqual(t, "RoleBindings (one per Role)", kinds["RoleBinding"], kinds["Role"])
	// Exactly the Secrets named: the spokes' kubeconfig Secrets, never all.
	for _, doc := range strings.Split(r.stdout, "\n---\n") {
		var role rbacv1.Role
		must(t, yaml.Unmarshal([]byte(doc), &role))
		for _, rule := range role.Rules {
			if role.Kind == "Role" && rule.Resources[0] == "secrets" && len(rule.ResourceNames) == 0 && !strings.Contains(strings.Join(rule.Verbs, ","), "list") {
				t.Errorf("a get on every Secret of %s: %+v", role.Namespace, rule)
			}
		}
	}

	must(t, hub.Client.Create(c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}}))
	cs, err := kubernetes.NewForConfig(hub.Config)
	must(t, err)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(c, sa, &authv1.TokenRequest{}, metav1.CreateOptions{})
	must(t, err)
	token := tr.Status.Token

	kc := clientcmdapi.NewConfig()
	kc.Clusters["hub"] = &clientcmdapi.Cluster{Server: hub.Config.Host, CertificateAuthorityData: hub.Config.CAData}
	kc.AuthInfos["ci"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["ci"] = &clientcmdapi.Context{Cluster: "hub", AuthInfo: "ci", Namespace: ns}
	kc.CurrentContext = "ci"
	path := filepath.Join(t.TempDir(), "ci.kubeconfig")
	must(t, clientcmd.WriteToFile(*kc, path))

	ciFlags := append([]string{}, flags...)
	for i := range ciFlags {
		if ciFlags[i] == "--kubeconfig" {
			ciFlags[i+1] = path
		}
	}
	return r, ciFlags, token
}
