package testfleet

import (
	"context"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	gitconfig "github.com/go-git/go-git/v5/config"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

var gitconfigRemote = gitconfig.RemoteConfig{Name: "origin", URLs: []string{SampleURL}}

// FluxVersion is the Flux distribution the sample FluxReport claims; the
// operator it names is FluxOperatorVersion, whose CRDs the hub has.
const FluxVersion = "v2.7.3"

// WriteFluxReport writes the FluxReport `flux` the operator would write for
// the sample's namespace, with reconciler stats counted from the hub.
func (s *Sample) WriteFluxReport(ctx context.Context) error {
	hub := s.Fleet.Hub.Client
	var kss kustomizev1.KustomizationList
	if err := hub.List(ctx, &kss, client.InNamespace(s.Namespace)); err != nil {
		return err
	}
	var hrs helmv2.HelmReleaseList
	if err := hub.List(ctx, &hrs, client.InNamespace(s.Namespace)); err != nil {
		return err
	}
	stats := func(objs []client.Object) map[string]any {
		running, failing, suspended := 0, 0, 0
		for _, o := range objs {
			var conds []metav1.Condition
			suspend := false
			switch v := o.(type) {
			case *kustomizev1.Kustomization:
				conds, suspend = v.Status.Conditions, v.Spec.Suspend
			case *helmv2.HelmRelease:
				conds, suspend = v.Status.Conditions, v.Spec.Suspend
			}
			switch {
			case suspend:
				suspended++
			case apimeta.IsStatusConditionFalse(conds, "Ready"):
				failing++
			default:
				running++
			}
		}
		return map[string]any{"running": int64(running), "failing": int64(failing), "suspended": int64(suspended), "totalSize": ""}
	}
	var ksObjs, hrObjs []client.Object
	for i := range kss.Items {
		ksObjs = append(ksObjs, &kss.Items[i])
	}
	for i := range hrs.Items {
		hrObjs = append(hrObjs, &hrs.Items[i])
	}
	components := []any{}
	for _, c := range []struct{ name, version string }{
		{"helm-controller", "v1.4.3"}, {"kustomize-controller", "v1.9.6"},
		{"notification-controller", "v1.7.4"}, {"source-controller", "v1.9.6"},
	} {
		components = append(components, map[string]any{
			"name": c.name, "ready": true, "status": "Current Deployment is available. Replicas: 1",
			"image": fmt.Sprintf("ghcr.io/fluxcd/%s:%s@sha256:%064x", c.name, c.version, len(c.name)),
		})
	}
	rep := &unstructured.Unstructured{}
	rep.SetGroupVersionKind(fleet.FluxReportGVK)
	rep.SetNamespace(s.Namespace)
	rep.SetName("flux")
	rep.Object["spec"] = map[string]any{
		"distribution": map[string]any{"entitlement": "Issued by controlplane", "status": "Installed", "version": FluxVersion, "managedBy": "flux-operator"},
		"cluster":      map[string]any{"serverVersion": "v1.37.2", "platform": "linux/amd64", "nodes": int64(1)},
		"operator":     map[string]any{"apiVersion": "fluxcd.controlplane.io/v1", "version": FluxOperatorVersion, "platform": "linux/amd64"},
		"components":   components,
		"reconcilers": []any{
			map[string]any{"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "stats": stats(hrObjs)},
			map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "stats": stats(ksObjs)},
		},
		// The operator names the sync Kustomization of its namespace:
		// "kustomization/<name>", here the sample's flux-system.
		"sync": map[string]any{
			"id": "kustomization/flux-system", "path": "clusters/management", "ready": true,
			"status": "Applied revision: " + s.Revision, "source": s.URL,
		},
	}
	existing := rep.DeepCopy()
	if err := hub.Get(ctx, client.ObjectKeyFromObject(rep), existing); err == nil {
		rep.SetResourceVersion(existing.GetResourceVersion())
		if err := hub.Update(ctx, rep); err != nil {
			return err
		}
	} else if err := hub.Create(ctx, rep); err != nil {
		return fmt.Errorf("creating FluxReport: %w", err)
	}
	rep.Object["status"] = map[string]any{"conditions": []any{map[string]any{
		"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
		"message": "Reporting finished in 42ms", "lastTransitionTime": metav1.Now().UTC().Format("2006-01-02T15:04:05Z"),
		"observedGeneration": rep.GetGeneration(),
	}}}
	return hub.Status().Update(ctx, rep)
}

// RemoveFluxReport deletes the FluxReport (Flux bootstrapped without the
// operator).
func (s *Sample) RemoveFluxReport(ctx context.Context) error {
	rep := &unstructured.Unstructured{}
	rep.SetGroupVersionKind(fleet.FluxReportGVK)
	rep.SetNamespace(s.Namespace)
	rep.SetName("flux")
	return client.IgnoreNotFound(s.Fleet.Hub.Client.Delete(ctx, rep))
}
