package promote

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/fakefleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// TestGatesOnFakes runs the four gates of the health check (revision,
// delivery, soak, spokes) on hubs and spokes without apiservers: each case
// changes one thing of a healthy staging environment — a hub
// Kustomization staging-apps delivering a HelmRelease to the spoke
// control-plane — and lists what each gate decided.
func TestGatesOnFakes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	sha := "0123456789abcdef0123456789abcdef01234567"
	rev := "main@sha1:" + sha
	readySince := metav1.NewTime(now.Add(-2 * time.Hour))
	ready := func(status metav1.ConditionStatus, reason, msg string, since metav1.Time) []metav1.Condition {
		return []metav1.Condition{{Type: meta.ReadyCondition, Status: status, Reason: reason, Message: msg, LastTransitionTime: since}}
	}
	hubKs := func() *kustomizev1.Kustomization {
		k := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "staging-apps", Generation: 1},
			Spec: kustomizev1.KustomizationSpec{Path: "./clusters/staging",
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}}
		k.Status.ObservedGeneration = 1
		k.Status.LastAppliedRevision = rev
		k.Status.Conditions = ready(metav1.ConditionTrue, "ReconciliationSucceeded", "Applied revision: "+rev, readySince)
		k.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{{ID: "openstack_keystone_helm.toolkit.fluxcd.io_HelmRelease", Version: "v2"}}}
		return k
	}
	release := func() *helmv2.HelmRelease {
		hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "openstack", Name: "keystone", Generation: 1},
			Spec: helmv2.HelmReleaseSpec{KubeConfig: &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "control-plane-kubeconfig"}},
				Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "keystone", Version: "1.2.0",
					SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "charts"}}}}}
		hr.Status.ObservedGeneration = 1
		hr.Status.Conditions = ready(metav1.ConditionTrue, "UpgradeSucceeded", "Helm upgrade succeeded", readySince)
		hr.Status.History = helmv2.Snapshots{{ChartName: "keystone", ChartVersion: "1.2.0", Status: "deployed", LastDeployed: readySince}}
		return hr
	}
	source := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"artifact": map[string]any{"revision": rev}}}}
	source.SetAPIVersion("source.toolkit.fluxcd.io/v1")
	source.SetKind("GitRepository")
	source.SetNamespace("flux-system")
	source.SetName("flux-system")

	pass := "revision: passed|delivery: passed|soak: passed|spokes: passed"
	for _, tc := range []struct {
		name string
		ks   func(*kustomizev1.Kustomization)
		hr   func(*helmv2.HelmRelease)
		down error
		want string
	}{{
		name: "healthy",
		want: pass,
	}, {
		name: "the hub Kustomization is not Ready",
		ks: func(k *kustomizev1.Kustomization) {
			k.Status.Conditions = ready(metav1.ConditionFalse, "BuildFailed", "kustomization path not found", readySince)
		},
		want: "revision: failed: Kustomization flux-system/staging-apps: not Ready: BuildFailed: kustomization path not found" +
			"|delivery: passed|soak: passed|spokes: passed",
	}, {
		name: "the delivered HelmRelease is suspended and its upgrade failed",
		hr: func(hr *helmv2.HelmRelease) {
			hr.Spec.Suspend = true
			hr.Status.Conditions = ready(metav1.ConditionFalse, "UpgradeFailed", "timed out", readySince)
			hr.Status.History[0].Status = "failed"
		},
		want: "revision: passed|delivery: failed: HelmRelease openstack/keystone: not Ready: UpgradeFailed: timed out; " +
			"HelmRelease openstack/keystone: suspended; HelmRelease openstack/keystone: has no deployed release in status.history" +
			"|soak: passed|spokes: passed",
	}, {
		name: "the HelmRelease was upgraded ten minutes ago",
		hr: func(hr *helmv2.HelmRelease) {
			hr.Status.History[0].LastDeployed = metav1.NewTime(now.Add(-10 * time.Minute))
		},
		want: "revision: passed|delivery: passed|soak: failed: not soaked: HelmRelease openstack/keystone has run Ready at its revision " +
			"for 10m (since 2026-12-01T11:50:00Z); --min-soak is 1h0m: 50m left|spokes: passed",
	}, {
		name: "the spoke is unreachable",
		down: errors.New("connection refused"),
		want: "revision: passed|delivery: passed|soak: passed|spokes: failed: spoke control-plane (kubeconfig Secret/openstack/control-plane-kubeconfig) " +
			"is unreachable: cluster control-plane: connection refused",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			k, hr := hubKs(), release()
			if tc.ks != nil {
				tc.ks(k)
			}
			if tc.hr != nil {
				tc.hr(hr)
			}
			d := &fakefleet.Dialer{Spokes: map[string]*kube.Client{"control-plane": fakefleet.Client("v1.37.2")}}
			if tc.down != nil {
				d.Errors = map[string]error{"control-plane": tc.down}
			}
			f, err := fakefleet.Discover(ctx, fakefleet.Client("v1.37.2", []client.Object{k, hr, source.DeepCopy()}...), d)
			if err != nil {
				t.Fatal(err)
			}
			env := &pipeline.Environment{Name: "staging", Paths: []string{"clusters/staging"}}
			kss := []*kustomizev1.Kustomization{f.Clusters[0].Objects[0].Kustomization}
			minSoak := time.Hour
			r := &run{o: Options{Now: func() time.Time { return now }, MinSoak: &minSoak}, fromEnv: env,
				plan: &Plan{HealthCheck: checkHealth(f, env, kss, true)}}
			r.checkEvidence(ctx, f, kss)
			var got []string
			for _, g := range r.plan.HealthCheck.Gates {
				s := g.Name + ": passed"
				if !g.Passed {
					s = g.Name + ": failed: " + strings.Join(g.Problems, "; ")
				}
				got = append(got, s)
			}
			if strings.Join(got, "|") != tc.want {
				t.Fatalf("gates:\n got %s\nwant %s", strings.Join(got, "|"), tc.want)
			}
			if healthy := r.plan.HealthCheck.Healthy; healthy != (tc.want == pass) {
				t.Fatalf("Healthy = %v with gates %s", healthy, strings.Join(got, "|"))
			}
		})
	}
}
