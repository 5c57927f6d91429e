package status

import (
	"reflect"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

func healthyFlux() *Flux {
	return &Flux{Ready: true, Sync: &Sync{Ready: true}, Components: []Component{{Name: "kustomize-controller", Ready: true}}}
}

func TestSummarize(t *testing.T) {
	obj := func(state string, stale, suspended bool) Object {
		return Object{State: state, Stale: stale, Suspended: suspended}
	}
	for _, tc := range []struct {
		name string
		r    Report
		want Summary
	}{
		{"empty fleet is healthy", Report{}, Summary{Healthy: true}},
		{"all ready", Report{Hub: Hub{Flux: healthyFlux()}, Clusters: []Cluster{
			{Reachable: true, Objects: []Object{obj(StateReady, false, false), obj(StateReady, false, false)}},
		}}, Summary{Clusters: 1, Objects: 2, Ready: 2, Healthy: true}},
		{"one of each state", Report{Clusters: []Cluster{
			{Reachable: true, Objects: []Object{obj(StateReady, false, false), obj(StateFailed, false, false), obj(StateUnknown, false, false)}},
			{Reachable: true, Objects: []Object{obj(StateProgressing, false, false), obj(StateSuspended, false, true)}},
		}}, Summary{Clusters: 2, Objects: 5, Ready: 1, Failed: 2, Progressing: 1, Suspended: 1}},
		{"progressing alone stays healthy", Report{Clusters: []Cluster{
			{Reachable: true, Objects: []Object{obj(StateProgressing, false, false)}},
		}}, Summary{Clusters: 1, Objects: 1, Progressing: 1, Healthy: true}},
		{"unreachable cluster", Report{Clusters: []Cluster{{Reachable: true}, {Reachable: false}}},
			Summary{Clusters: 2, Unreachable: 1}},
		{"stale but reconciling is healthy", Report{Clusters: []Cluster{
			{Reachable: true, Objects: []Object{obj(StateReady, true, false)}},
		}}, Summary{Clusters: 1, Objects: 1, Ready: 1, Stale: 1, Healthy: true}},
		{"stale and suspended is not", Report{Clusters: []Cluster{
			{Reachable: true, Objects: []Object{obj(StateSuspended, true, true)}},
		}}, Summary{Clusters: 1, Objects: 1, Suspended: 1, Stale: 1}},
		{"flux not ready", Report{Hub: Hub{Flux: &Flux{Ready: false}}}, Summary{}},
		{"flux sync not ready", Report{Hub: Hub{Flux: &Flux{Ready: true, Sync: &Sync{Ready: false}}}}, Summary{}},
		{"flux component not ready", Report{Hub: Hub{Flux: &Flux{Ready: true, Components: []Component{{Name: "helm-controller"}}}}}, Summary{}},
		{"flux healthy without sync", Report{Hub: Hub{Flux: &Flux{Ready: true}}}, Summary{Healthy: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summarize(&tc.r); got != tc.want {
				t.Errorf("summarize:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestFailingAgreesWithExitCode: --failing shows the hub's Flux details
// exactly when the summary (and so the exit code) calls Flux unhealthy.
func TestFailingAgreesWithExitCode(t *testing.T) {
	for _, f := range []*Flux{
		healthyFlux(),
		{Ready: false},
		{Ready: true, Sync: &Sync{Ready: false}},
		{Ready: true, Sync: &Sync{Ready: true}, Components: []Component{{Name: "source-controller", Ready: false}}},
	} {
		r := &Report{Hub: Hub{Flux: f}}
		healthy := summarize(r).Healthy
		filterFailing(r)
		if shown := r.Hub.Flux != nil; shown == healthy {
			t.Errorf("flux %+v: summary healthy=%v but --failing shows flux=%v", *f, healthy, shown)
		}
	}
}

func TestFilterFailing(t *testing.T) {
	ready := Object{Name: "ok", State: StateReady}
	stale := Object{Name: "stale", State: StateReady, Stale: true}
	failed := Object{Name: "failed", State: StateFailed}
	r := &Report{Hub: Hub{Flux: healthyFlux()}, Clusters: []Cluster{
		{Name: "hub", Reachable: true, Objects: []Object{ready, failed}},
		{Name: "all-ready", Reachable: true, Objects: []Object{ready}},
		{Name: "down", Reachable: false},
		{Name: "stale", Reachable: true, Objects: []Object{ready, stale}},
	}}
	filterFailing(r)
	want := []Cluster{
		{Name: "hub", Reachable: true, Objects: []Object{failed}},
		{Name: "down", Reachable: false, Objects: []Object{}},
		{Name: "stale", Reachable: true, Objects: []Object{stale}},
	}
	if !reflect.DeepEqual(r.Clusters, want) {
		t.Errorf("clusters:\n got %+v\nwant %+v", r.Clusters, want)
	}
	if r.Hub.Flux != nil {
		t.Errorf("healthy Flux kept: %+v", r.Hub.Flux)
	}
}

func TestObjectStatus(t *testing.T) {
	cond := func(s metav1.ConditionStatus, reason, msg string) []metav1.Condition {
		return []metav1.Condition{{Type: meta.ReadyCondition, Status: s, Reason: reason, Message: msg}}
	}
	ks := func(name string, mutate func(*kustomizev1.Kustomization)) fleet.Object {
		k := &kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: name},
			Spec: kustomizev1.KustomizationSpec{Path: "./clusters/" + name,
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "c5c3-gitops"}},
		}
		mutate(k)
		return fleet.Object{Kind: fleet.KindKustomization, Kustomization: k}
	}
	src := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"artifact": map[string]any{"revision": "main@sha1:2"}}}}
	f := &fleet.Fleet{Sources: map[string]*unstructured.Unstructured{"GitRepository/flux-system/c5c3-gitops": src}}
	deps := map[string]bool{"flux-system/infra": false, "flux-system/sources": true}
	three := 3

	for _, tc := range []struct {
		name string
		o    fleet.Object
		want Object
	}{
		{"ready and current", ks("apps", func(k *kustomizev1.Kustomization) {
			k.Status.Conditions = cond(metav1.ConditionTrue, "ReconciliationSucceeded", "Applied revision: main@sha1:2")
			k.Status.LastAppliedRevision = "main@sha1:2"
			k.Status.Inventory = &kustomizev1.ResourceInventory{Entries: make([]kustomizev1.ResourceRef, 3)}
		}), Object{State: StateReady, Ready: "True", Reason: "ReconciliationSucceeded", Message: "Applied revision: main@sha1:2",
			Revision: "main@sha1:2", Inventory: &three}},
		{"failed waits for a not-ready dependency only", ks("apps", func(k *kustomizev1.Kustomization) {
			k.Status.Conditions = cond(metav1.ConditionFalse, "DependencyNotReady", "dependency not ready")
			k.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "infra"}, {Name: "sources", Namespace: "flux-system"}, {Name: "elsewhere", Namespace: "other"}}
		}), Object{State: StateFailed, Ready: "False", Reason: "DependencyNotReady", Message: "dependency not ready",
			DependsOn: []string{"flux-system/infra", "flux-system/sources", "other/elsewhere"}, WaitingFor: []string{"flux-system/infra"}}},
		{"progressing", ks("apps", func(k *kustomizev1.Kustomization) {
			k.Status.Conditions = cond(metav1.ConditionUnknown, "Progressing", "reconciling")
		}), Object{State: StateProgressing, Ready: "Unknown", Reason: "Progressing", Message: "reconciling"}},
		{"never reconciled", ks("apps", func(*kustomizev1.Kustomization) {}), Object{State: StateUnknown, Ready: "Unknown"}},
		{"suspended and stale", ks("apps", func(k *kustomizev1.Kustomization) {
			k.Spec.Suspend = true
			k.Status.Conditions = cond(metav1.ConditionTrue, "ReconciliationSucceeded", "")
			k.Status.LastAppliedRevision = "main@sha1:1"
		}), Object{State: StateSuspended, Ready: "True", Reason: "ReconciliationSucceeded", Suspended: true, Stale: true, Revision: "main@sha1:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.Kind, tc.want.Namespace, tc.want.Name = fleet.KindKustomization, "flux-system", "apps"
			tc.want.Source, tc.want.SourceRevision, tc.want.Path = "GitRepository/flux-system/c5c3-gitops", "main@sha1:2", "./clusters/apps"
			got := ObjectStatus(f, tc.o, deps)
			got.Created = tc.want.Created
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ObjectStatus:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}

	t.Run("helmrelease chart from history, else spec", func(t *testing.T) {
		hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "memcached"},
			Spec: helmv2.HelmReleaseSpec{Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "memcached", Version: "7.5.0"}}}}
		o := fleet.Object{Kind: fleet.KindHelmRelease, HelmRelease: hr}
		if got := ObjectStatus(f, o, deps); got.Chart != "memcached@7.5.0" || got.Revision != "" {
			t.Errorf("before install: chart %q revision %q, want memcached@7.5.0 and none", got.Chart, got.Revision)
		}
		hr.Status.History = helmv2.Snapshots{{ChartName: "memcached", ChartVersion: "7.4.16"}}
		if got := ObjectStatus(f, o, deps); got.Chart != "memcached@7.4.16" || got.Revision != "7.4.16" {
			t.Errorf("installed: chart %q revision %q, want memcached@7.4.16 and 7.4.16", got.Chart, got.Revision)
		}
	})
}
