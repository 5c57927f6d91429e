package fleet

import (
	"context"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/c5c3/kubectl-c5c3/kube"
)

// These unit tests use controller-runtime's fake client for the pure
// grouping and naming rules; the real behaviour against apiservers is
// covered by the status and diff fleet tests.

func ks(ns, name string, kc *meta.KubeConfigReference) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       kustomizev1.KustomizationSpec{KubeConfig: kc, SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}},
	}
}

func secretRef(name, key string) *meta.KubeConfigReference {
	return &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: name, Key: key}}
}

func TestDiscoverGroupsByTarget(t *testing.T) {
	objs := []client.Object{
		ks("flux-system", "apps", nil),
		ks("flux-system", "cp-infra", secretRef("control-plane-kubeconfig", "")),
		ks("flux-system", "cp-apps", secretRef("control-plane-kubeconfig", "")),
		ks("flux-system", "odd", secretRef("management-kubeconfig", "")),
		ks("tenants", "twin-a", secretRef("edge-kubeconfig", "")),
		ks("other", "twin-b", secretRef("edge-kubeconfig", "")),
		ks("flux-system", "wi", &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "gke-kubeconfig"}}),
	}
	c := fake.NewClientBuilder().WithScheme(kube.Scheme).WithObjects(objs...).Build()
	f, err := Discover(context.Background(), &kube.Client{Client: c}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, cl := range f.Clusters {
		var names []string
		for _, o := range cl.Objects {
			names = append(names, o.Meta().GetName())
		}
		got = append(got, cl.Name+"="+strings.Join(names, ","))
	}
	want := "management=apps|control-plane=cp-apps,cp-infra|edge (other)=twin-b|edge (tenants)=twin-a|gke=wi|management (flux-system)=odd"
	if strings.Join(got, "|") != want {
		t.Fatalf("clusters:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	_, err = f.Client(context.Background(), f.Cluster("gke"), "")
	if err == nil || err.Error() != "cluster gke: ConfigMap flux-system/gke-kubeconfig (spec.kubeConfig.configMapRef) not found in the hub" {
		t.Fatalf("configMapRef without its ConfigMap: %v", err)
	}
	if f.TargetOf("flux-system", secretRef("control-plane-kubeconfig", "")) != f.Cluster("control-plane") {
		t.Fatal("TargetOf must reuse the live cluster")
	}
	if n := f.TargetOf("flux-system", secretRef("new-spoke-kubeconfig", "")); n.Name != "new-spoke" || n.Hub {
		t.Fatalf("TargetOf new: %+v", n)
	}
	// Clusters only in git are named by Discover's rule: qualified with the
	// namespace when the plain name is another cluster's (hub included).
	for _, tc := range []struct{ ns, secret, want string }{
		{"flux-system", "new-spoke-kubeconfig", "new-spoke"},
		{"tenants", "new-spoke-kubeconfig", "new-spoke (tenants)"},
		{"tenants", "control-plane-kubeconfig", "control-plane (tenants)"},
		{"tenants", "management-kubeconfig", "management (tenants)"},
	} {
		if n := f.TargetOf(tc.ns, secretRef(tc.secret, "")); n.Name != tc.want {
			t.Errorf("TargetOf(%s, %s) = %q, want %q", tc.ns, tc.secret, n.Name, tc.want)
		}
	}
	first, again := f.TargetOf("tenants", secretRef("new-spoke-kubeconfig", "")), f.TargetOf("tenants", secretRef("new-spoke-kubeconfig", ""))
	if first != again {
		t.Fatal("TargetOf must return the same cluster for the same Secret")
	}
}

func TestReadKubeConfigSecretKeys(t *testing.T) {
	sec := func(name string, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	c := fake.NewClientBuilder().WithObjects(
		sec("both", map[string]string{"value": "V", "value.yaml": "Y"}),
		sec("yaml", map[string]string{"value.yaml": "Y"}),
		sec("custom", map[string]string{"kc": "K", "value": "V"}),
		sec("none", map[string]string{"other": "O"}),
	).Build()
	ctx := context.Background()
	for _, tc := range []struct{ name, key, want, err string }{
		{"both", "", "V", ""},
		{"yaml", "", "Y", ""},
		{"custom", "kc", "K", ""},
		{"custom", "missing", "", `has no key "missing"`},
		{"none", "", "", `neither key "value" nor "value.yaml"`},
		{"absent", "", "", "kubeconfig Secret ns/absent not found in the hub"},
	} {
		got, err := ReadKubeConfigSecret(ctx, c, KubeConfigRef{Namespace: "ns", SecretName: tc.name, Key: tc.key})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s/%s: err %v, want %q", tc.name, tc.key, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s/%s: %q %v, want %q", tc.name, tc.key, got, err, tc.want)
		}
	}
}
