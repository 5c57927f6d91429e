package status

import (
	"context"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// WatchedKinds are the hub kinds whose changes `status --watch` redraws
// for: the Flux objects, the sources their revisions come from, and the
// FluxReport.
var WatchedKinds = []schema.GroupVersionKind{
	kustomizev1.GroupVersion.WithKind(fleet.KindKustomization),
	helmv2.GroupVersion.WithKind(fleet.KindHelmRelease),
	fleet.SourceGroupVersion.WithKind("GitRepository"),
	fleet.SourceGroupVersion.WithKind("OCIRepository"),
	fleet.SourceGroupVersion.WithKind("Bucket"),
	fleet.SourceGroupVersion.WithKind("HelmChart"),
	fleet.SourceGroupVersion.WithKind("HelmRepository"),
	fleet.SourceGroupVersion.WithKind("ExternalArtifact"),
	fleet.FluxReportGVK,
}

// Changes watches WatchedKinds on the hub — in namespace ("" = all), the
// FluxReport in fluxNamespace — through metadata-only informers, and
// signals on the returned channel after every add, update or delete once
// the initial lists are in. Signals coalesce: the channel holds at most
// one. Kinds the hub does not serve are skipped. The informers relist
// and watch again when a watch drops (client-go's reflector), so a
// dropped connection to the hub only delays the next signal. Everything
// stops when ctx is done.
func Changes(ctx context.Context, hub *kube.Client, namespace, fluxNamespace string) (<-chan struct{}, error) {
	ch := make(chan struct{}, 1)
	notify := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(_ any, initial bool) {
			if !initial {
				notify()
			}
		},
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}
	factories := map[string]metadatainformer.SharedInformerFactory{}
	for _, gvk := range WatchedKinds {
		m, err := hub.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if kube.IsNoMatch(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("watching %s on the hub %s: %w", gvk.Kind, hub.Config.Host, err)
		}
		ns := namespace
		if gvk == fleet.FluxReportGVK {
			ns = fluxNamespace
		}
		fac := factories[ns]
		if fac == nil {
			fac = metadatainformer.NewFilteredSharedInformerFactory(hub.Metadata, 0, ns, nil)
			factories[ns] = fac
		}
		if _, err := fac.ForResource(m.Resource).Informer().AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("watching %s on the hub: %w", gvk.Kind, err)
		}
	}
	for _, fac := range factories {
		fac.Start(ctx.Done())
	}
	for _, fac := range factories {
		for gvr, ok := range fac.WaitForCacheSync(ctx.Done()) {
			if !ok && ctx.Err() == nil {
				return nil, fmt.Errorf("watching %s on the hub %s: the initial list did not complete", gvr.Resource, hub.Config.Host)
			}
		}
	}
	go func() {
		<-ctx.Done()
		for _, fac := range factories {
			fac.Shutdown()
		}
	}()
	return ch, nil
}
