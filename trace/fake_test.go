package trace_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/internal/fakefleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/trace"
)

// TestTraceOnFakes traces a Deployment on the spoke control-plane back to
// the hub Kustomization that applies it and its GitRepository, on clusters
// without apiservers: each case changes one thing of a healthy chain and
// checks the chain and the problems.
func TestTraceOnFakes(t *testing.T) {
	rev1, rev2 := "main@sha1:1111111", "main@sha1:2222222"
	applier := func() *kustomizev1.Kustomization {
		k := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "control-plane"},
			Spec: kustomizev1.KustomizationSpec{Path: "./clusters/control-plane",
				KubeConfig: &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "control-plane-kubeconfig"}},
				SourceRef:  kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}}
		k.Status.LastAppliedRevision = rev1
		k.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: "ReconciliationSucceeded", Message: "Applied"}}
		k.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{{ID: "openstack_keystone-api_apps_Deployment", Version: "v1"}}}
		return k
	}
	gitRepo := func(rev string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{
			"artifact":   map[string]any{"revision": rev},
			"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "stored artifact"}}}}}
		u.SetAPIVersion("source.toolkit.fluxcd.io/v1")
		u.SetKind("GitRepository")
		u.SetNamespace("flux-system")
		u.SetName("flux-system")
		return u
	}
	deployment := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "openstack", Name: "keystone-api", Labels: map[string]string{
		"kustomize.toolkit.fluxcd.io/name": "control-plane", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}}}

	for _, tc := range []struct {
		name    string
		ks      func(*kustomizev1.Kustomization)
		source  string
		down    error
		chain   string
		healthy bool
		want    []string // problems, or the error
	}{{
		name:    "healthy",
		source:  rev1,
		chain:   "Kustomization/flux-system/control-plane",
		healthy: true,
	}, {
		name: "the applier failed and its source moved on",
		ks: func(k *kustomizev1.Kustomization) {
			k.Status.Conditions[0].Status, k.Status.Conditions[0].Reason = metav1.ConditionFalse, "HealthCheckFailed"
		},
		source: rev2,
		chain:  "Kustomization/flux-system/control-plane",
		want: []string{"Kustomization/flux-system/control-plane is not Ready (HealthCheckFailed)",
			"Kustomization/flux-system/control-plane is stale: applied " + rev1 + ", its source GitRepository/flux-system/flux-system has " + rev2},
	}, {
		name:   "the object is not in the applier's inventory",
		ks:     func(k *kustomizev1.Kustomization) { k.Status.Inventory.Entries = nil },
		source: rev1,
		chain:  "Kustomization/flux-system/control-plane",
		want: []string{"Deployment/openstack/keystone-api is not in the inventory of Kustomization/flux-system/control-plane: " +
			"it was left behind (no longer in git, not pruned) or carries copied labels"},
	}, {
		name:   "the spoke is unreachable",
		source: rev1,
		down:   errors.New("connection refused"),
		// the hub still knows who lists it in an inventory
		chain: "Kustomization/flux-system/control-plane",
		want:  []string{"error: cannot read Deployment/openstack/keystone-api: cluster control-plane: connection refused"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			k := applier()
			if tc.ks != nil {
				tc.ks(k)
			}
			d := &fakefleet.Dialer{Spokes: map[string]*kube.Client{"control-plane": fakefleet.Client("v1.37.2", deployment.DeepCopy())}}
			if tc.down != nil {
				d.Errors = map[string]error{"control-plane": tc.down}
			}
			f, err := fakefleet.Discover(ctx, fakefleet.Client("v1.37.2", k, gitRepo(tc.source)), d)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := trace.Run(ctx, f, trace.Options{Type: "deployment", Name: "keystone-api", Namespace: "openstack",
				Cluster: "control-plane", FluxNamespace: "flux-system"})
			if err != nil {
				t.Fatal(err)
			}
			var chain []string
			for _, st := range tr.Chain {
				chain = append(chain, st.ID())
			}
			got := tr.Summary.Problems
			if tr.Summary.Error != "" {
				got = append(got, "error: "+tr.Summary.Error)
			}
			if strings.Join(chain, " <- ") != tc.chain || tr.Summary.Healthy != tc.healthy || strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("chain %q, healthy %v, problems:\n%s\nwant chain %q, healthy %v, problems:\n%s",
					strings.Join(chain, " <- "), tr.Summary.Healthy, strings.Join(got, "\n"), tc.chain, tc.healthy, strings.Join(tc.want, "\n"))
			}
		})
	}
}
