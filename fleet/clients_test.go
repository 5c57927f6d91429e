package fleet_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/fakefleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

func spokeKs(name, secret, sa string) *kustomizev1.Kustomization {
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: name},
		Spec: kustomizev1.KustomizationSpec{ServiceAccountName: sa,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}}
	if secret != "" {
		ks.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: secret}}
	}
	return ks
}

// TestDialerSeam: spoke clients come from the Fleet's Dialer, once per
// Secret (or workload-identity ConfigMap) and service account; Probe reports each spoke's version or why it is
// unreachable.
func TestDialerSeam(t *testing.T) {
	ctx := context.Background()
	hub := fakefleet.Client("v1.37.2",
		spokeKs("cp", "control-plane-kubeconfig", ""), spokeKs("cp-sa", "control-plane-kubeconfig", "deployer"),
		spokeKs("hv", "hypervisor-kubeconfig", ""),
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "wi"},
			Spec: kustomizev1.KustomizationSpec{KubeConfig: &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "gke-kubeconfig"}}}})
	cp := fakefleet.Client("v1.36.4", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}})
	d := &fakefleet.Dialer{Spokes: map[string]*kube.Client{"control-plane": cp}, Errors: map[string]error{"hypervisor": errors.New("connection refused")}}
	f, err := fakefleet.Discover(ctx, hub, d)
	if err != nil {
		t.Fatal(err)
	}
	c := f.Cluster("control-plane")
	for range 2 {
		if got, err := f.Client(ctx, c, ""); err != nil || got != cp {
			t.Fatalf("Client(control-plane) = %v, %v; want the dialed client", got, err)
		}
	}
	sa := c.Objects[1]
	if sa.Meta().GetName() != "cp-sa" {
		t.Fatalf("objects of control-plane: %v", c.Objects)
	}
	if _, err := f.ClientFor(ctx, c, sa); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.Client(ctx, f.Cluster("gke"), ""); err == nil || err.Error() != "cluster gke: no fake client" {
			t.Fatalf("Client(gke) error %v, want the dial error", err)
		}
	}
	probes := f.Probe(ctx, []*fleet.Cluster{c, f.Cluster("hypervisor")})
	if p := probes["control-plane"]; p.Err != nil || p.ServerVersion != "v1.36.4" || p.Nodes != 2 {
		t.Errorf("probe of control-plane = %+v, want v1.36.4 with 2 nodes", p)
	}
	if p := probes["hypervisor"]; p.Err == nil || p.Err.Error() != "cluster hypervisor: connection refused" {
		t.Errorf("probe of hypervisor error %v, want the dial error", p.Err)
	}
	dialed := d.Dialed()
	want := []string{"control-plane|", "control-plane|flux-system/deployer", "gke|", "hypervisor|"}
	if !reflect.DeepEqual(dialed, want) {
		t.Errorf("dialed %v, want %v (once per Secret or ConfigMap and service account)", dialed, want)
	}
}

// TestDialerControllerIdentity: a workload-identity cluster is dialed as
// the Flux controller that reaches it, whose own token Flux uses when the
// ConfigMap names no serviceAccountName — helm-controller for a cluster
// only HelmReleases target, and for a HelmRelease on a cluster a
// Kustomization targets too (a client of its own).
func TestDialerControllerIdentity(t *testing.T) {
	ctx := context.Background()
	wi := func(cm string) *meta.KubeConfigReference {
		return &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: cm}}
	}
	hr := func(name, cm string) *helmv2.HelmRelease {
		return &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: name},
			Spec: helmv2.HelmReleaseSpec{KubeConfig: wi(cm)}}
	}
	hub := fakefleet.Client("v1.37.2",
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "edge-apps"},
			Spec: kustomizev1.KustomizationSpec{KubeConfig: wi("edge-kubeconfig")}},
		hr("edge-chart", "edge-kubeconfig"), hr("cache", "cache-kubeconfig"))
	d := &fakefleet.Dialer{}
	f, err := fakefleet.Discover(ctx, hub, d)
	if err != nil {
		t.Fatal(err)
	}
	edge, cache := f.Cluster("edge"), f.Cluster("cache")
	if edge.Controller != "" || cache.Controller != fleet.HelmControllerServiceAccount {
		t.Fatalf("controllers: edge %q, cache %q; want kustomize-controller's (empty) and helm-controller", edge.Controller, cache.Controller)
	}
	for range 2 {
		_, _ = f.Client(ctx, edge, "")
		for _, o := range edge.Objects {
			_, _ = f.ClientFor(ctx, edge, o)
		}
		_, _ = f.Client(ctx, cache, "")
		_, _ = f.ClientFor(ctx, cache, cache.Objects[0])
	}
	want := []string{"edge|", "edge| as helm-controller", "cache| as helm-controller"}
	if got := d.Dialed(); !reflect.DeepEqual(got, want) {
		t.Errorf("dialed %v, want %v (once per ConfigMap and controller)", got, want)
	}
}

// TestSecretDialerFaults: the default dialer reads a spoke's kubeconfig
// from its Secret in the hub; a Secret that is missing, keeps the
// kubeconfig under a key Flux does not read, holds no kubeconfig or one
// that runs an exec plugin makes the spoke unreachable with an error
// naming the Secret and what is wrong — and never its contents.
func TestSecretDialerFaults(t *testing.T) {
	const token = "spoke-token-must-never-be-printed"
	kubeconfig := func(user string) []byte {
		return []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: spoke\n  cluster: {server: \"https://127.0.0.1:1\"}\n" +
			"contexts:\n- name: spoke\n  context: {cluster: spoke, user: spoke}\ncurrent-context: spoke\nusers:\n- name: spoke\n  user: " + user + "\n")
	}
	for _, tc := range []struct {
		name string
		data map[string][]byte // nil: no Secret
		want string
	}{
		{"missing", nil, "cluster control-plane: kubeconfig Secret flux-system/control-plane-kubeconfig not found in the hub"},
		{"wrong key", map[string][]byte{"kubeconfig": kubeconfig("{token: " + token + "}")}, `has neither key "value" nor "value.yaml"`},
		{"exec plugin", map[string][]byte{"value": kubeconfig("{exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/false}}")}, "user.exec plugin"},
		{"garbage", map[string][]byte{"value": []byte(token + ": [unterminated")}, "not a kubeconfig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			objs := []client.Object{spokeKs("cp", "control-plane-kubeconfig", "")}
			if tc.data != nil {
				objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "control-plane-kubeconfig"}, Data: tc.data})
			}
			f, err := fleet.Discover(ctx, fakefleet.Client("v1.37.2", objs...), fleet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			c := f.Cluster("control-plane")
			if c == nil {
				t.Fatalf("no cluster control-plane in %v", f.Clusters)
			}
			_, err = f.Client(ctx, c, "")
			if err == nil {
				t.Fatalf("dialing control-plane: no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error %q prints the Secret's contents", err)
			}
			if p := f.Probe(ctx, []*fleet.Cluster{c})["control-plane"]; p.Err == nil {
				t.Errorf("probe of control-plane: no error, want the dial error")
			}
		})
	}
}
