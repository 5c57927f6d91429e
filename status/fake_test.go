package status_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/c5c3/kubectl-c5c3/status"
)

// ks is a hub Kustomization flux-system/name from GitRepository
// flux-system, applied to the spoke of secret ("" for the hub), with a
// Ready condition of status ready ("" for none) at revision applied.
func ks(name, secret, ready, applied string, dependsOn ...string) *kustomizev1.Kustomization {
	k := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: name},
		Spec: kustomizev1.KustomizationSpec{Path: "./clusters/" + name,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}}
	if secret != "" {
		k.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: secret}}
	}
	for _, d := range dependsOn {
		k.Spec.DependsOn = append(k.Spec.DependsOn, kustomizev1.DependencyReference{Name: d})
	}
	if ready != "" {
		k.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionStatus(ready), Reason: "Test", Message: "set by the test"}}
	}
	k.Status.LastAppliedRevision = applied
	return k
}

// blocked is k waiting for its dependencies, as kustomize-controller
// reports it.
func blocked(k *kustomizev1.Kustomization) *kustomizev1.Kustomization {
	k.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: meta.DependencyNotReadyReason,
		Message: "dependency 'flux-system/infra' is not ready"}}
	return k
}

// gitRepository is the hub's GitRepository flux-system at revision rev.
func gitRepository(rev string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"artifact": map[string]any{"revision": rev}}}}
	u.SetAPIVersion("source.toolkit.fluxcd.io/v1")
	u.SetKind("GitRepository")
	u.SetNamespace("flux-system")
	u.SetName("flux-system")
	return u
}

// suspended is k with spec.suspend set.
func suspended(k *kustomizev1.Kustomization) *kustomizev1.Kustomization {
	k.Spec.Suspend = true
	return k
}

// failingRelease is a hub HelmRelease flux-system/name whose upgrade
// failed.
func failingRelease(name string) *helmv2.HelmRelease {
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: name},
		Spec: helmv2.HelmReleaseSpec{Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: name, Version: "0.3.1",
			SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "charts"}}}}}
	hr.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: "UpgradeFailed",
		Message: "Helm upgrade failed for release " + name + ": context deadline exceeded"}}
	return hr
}

// TestBuildOnFakes runs status.Build on a hub and spokes without
// apiservers: each case a fleet, the report in one line per cluster and
// object, and the summary.
func TestBuildOnFakes(t *testing.T) {
	rev1, rev2 := "main@sha1:1111111", "main@sha1:2222222"
	for _, tc := range []struct {
		name   string
		hub    []client.Object
		spokes []string
		down   map[string]error
		want   []string
	}{{
		name:   "all Ready and current",
		hub:    []client.Object{gitRepository(rev1), ks("management", "", "True", rev1), ks("control-plane", "control-plane-kubeconfig", "True", rev1)},
		spokes: []string{"control-plane"},
		want: []string{"management reachable", "  Kustomization/flux-system/management Ready",
			"control-plane reachable", "  Kustomization/flux-system/control-plane Ready",
			"summary: 2 clusters, 0 unreachable, 2 ready, 0 failed, 0 progressing, 0 suspended, 0 stale, healthy"},
	}, {
		name: "a failing dependency, a stale and a progressing Kustomization",
		hub: []client.Object{gitRepository(rev2), ks("infra", "", "False", rev1), ks("apps", "", "Unknown", rev1, "infra"),
			ks("control-plane", "control-plane-kubeconfig", "True", rev1)},
		spokes: []string{"control-plane"},
		want: []string{"management reachable", "  Kustomization/flux-system/apps Progressing stale waiting for flux-system/infra",
			"  Kustomization/flux-system/infra Failed stale",
			"control-plane reachable", "  Kustomization/flux-system/control-plane Ready stale",
			"summary: 2 clusters, 0 unreachable, 1 ready, 1 failed, 1 progressing, 0 suspended, 3 stale, not healthy"},
	}, {
		name:   "an unreachable spoke does not hide the others",
		hub:    []client.Object{ks("control-plane", "control-plane-kubeconfig", "True", rev1), ks("storage", "storage-kubeconfig", "", "")},
		spokes: []string{"control-plane"},
		down:   map[string]error{"storage": errors.New("dial tcp 10.0.0.9:6443: connection refused")},
		want: []string{"management reachable", "control-plane reachable", "  Kustomization/flux-system/control-plane Ready",
			"storage unreachable: cluster storage: dial tcp 10.0.0.9:6443: connection refused", "  Kustomization/flux-system/storage Unknown",
			"summary: 3 clusters, 1 unreachable, 1 ready, 1 failed, 0 progressing, 0 suspended, 0 stale, not healthy"},
	}, {
		name: "suspended but at its source's revision: healthy",
		hub:  []client.Object{gitRepository(rev1), suspended(ks("management", "", "True", rev1))},
		want: []string{"management reachable", "  Kustomization/flux-system/management Suspended",
			"summary: 1 clusters, 0 unreachable, 0 ready, 0 failed, 0 progressing, 1 suspended, 0 stale, healthy"},
	}, {
		name: "failing, blocked by a dependency, a failed upgrade, suspended and stale",
		hub: []client.Object{gitRepository(rev2), ks("infra", "", "False", rev2), blocked(ks("apps", "", "False", rev2, "infra")),
			suspended(ks("storage", "", "True", rev1)), failingRelease("libvirt")},
		want: []string{"management reachable",
			"  HelmRelease/flux-system/libvirt Failed",
			"  Kustomization/flux-system/apps Failed waiting for flux-system/infra",
			"  Kustomization/flux-system/infra Failed",
			"  Kustomization/flux-system/storage Suspended stale",
			"summary: 1 clusters, 0 unreachable, 0 ready, 3 failed, 0 progressing, 1 suspended, 1 stale, not healthy"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			d := &fakefleet.Dialer{Spokes: map[string]*kube.Client{}, Errors: tc.down}
			for _, s := range tc.spokes {
				d.Spokes[s] = fakefleet.Client("v1.37.2")
			}
			f, err := fakefleet.Discover(ctx, fakefleet.Client("v1.37.2", tc.hub...), d)
			if err != nil {
				t.Fatal(err)
			}
			r, err := status.Build(ctx, f, status.Options{FluxNamespace: "flux-system", Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range r.Clusters {
				if c.Reachable {
					got = append(got, c.Name+" reachable")
				} else {
					got = append(got, c.Name+" unreachable: "+c.Error)
				}
				for _, o := range c.Objects {
					line := "  " + o.Kind + "/" + o.Namespace + "/" + o.Name + " " + o.State
					if o.Stale {
						line += " stale"
					}
					if len(o.WaitingFor) > 0 {
						line += " waiting for " + strings.Join(o.WaitingFor, ", ")
					}
					got = append(got, line)
				}
			}
			s := r.Summary
			health := "healthy"
			if !s.Healthy {
				health = "not healthy"
			}
			got = append(got, fmt.Sprintf("summary: %d clusters, %d unreachable, %d ready, %d failed, %d progressing, %d suspended, %d stale, %s",
				s.Clusters, s.Unreachable, s.Ready, s.Failed, s.Progressing, s.Suspended, s.Stale, health))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("report:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
