package versions

import (
	"context"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/keyed"
)

// workloadConcurrency is how many workload LISTs run at once.
const workloadConcurrency = 16

// workloads are the live Deployments, StatefulSets and DaemonSets of an
// environment's appliers, read with one LIST per cluster, kind and
// namespace (not a GET per workload of every inventory: 4,000 requests,
// one after the other, on a fleet of 100 spokes and 20,000 objects).
type workloads struct {
	lists keyed.Once[workloadKey, map[string]*unstructured.Unstructured]
}

type workloadKey struct {
	cluster string
	gvk     schema.GroupVersionKind
	ns      string
}

// workload returns the live workload gvk ns/name of the applier's
// cluster, as get does (noting an unreachable cluster or a missing object
// in t), through the LIST of its namespace. A cluster that refuses the
// LIST is read with a GET.
func (b *builder) workload(ctx context.Context, ed *envData, a *applier, gvk schema.GroupVersionKind, ns, name string, t *Target) (*unstructured.Unstructured, error) {
	items, err := ed.workloads.list(ctx, ed, a, gvk, ns)
	if err != nil {
		return b.get(ctx, ed, a, gvk, ns, name, t)
	}
	u, ok := items[name]
	if !ok {
		return b.get(ctx, ed, a, gvk, ns, name, t) // notes it missing
	}
	return u, nil
}

// prefetch lists, concurrently, every namespace's workloads of every
// inventory of the environment's reachable appliers.
func (w *workloads) prefetch(ctx context.Context, ed *envData) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workloadConcurrency)
	seen := map[workloadKey]bool{}
	for _, a := range ed.appliers {
		if ed.probes[a.cluster.Name].Err != nil {
			continue
		}
		for _, e := range a.inv {
			if e.GroupKind.Group != "apps" || !workloadKinds[e.GroupKind.Kind] {
				continue
			}
			gvk := schema.GroupVersionKind{Group: "apps", Version: e.Version, Kind: e.GroupKind.Kind}
			k := workloadKey{a.cluster.Name, gvk, e.Namespace}
			if seen[k] {
				continue
			}
			seen[k] = true
			g.Go(func() error {
				_, _ = w.list(gctx, ed, a, gvk, e.Namespace)
				return nil
			})
		}
	}
	_ = g.Wait()
}

// list returns the workloads of the LIST of gvk in ns on the applier's
// cluster by name, read once; the probe's error when the cluster is
// unreachable.
func (w *workloads) list(ctx context.Context, ed *envData, a *applier, gvk schema.GroupVersionKind, ns string) (map[string]*unstructured.Unstructured, error) {
	if err := ed.probes[a.cluster.Name].Err; err != nil {
		return nil, err
	}
	return w.lists.Do(workloadKey{a.cluster.Name, gvk, ns}, func() (map[string]*unstructured.Unstructured, error) {
		cl, err := ed.fleet.Client(ctx, a.cluster, "")
		if err != nil {
			return nil, err
		}
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		// Not found: no such namespace, every workload is missing.
		if err := cl.Client.List(ctx, list, client.InNamespace(ns)); err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
		items := make(map[string]*unstructured.Unstructured, len(list.Items))
		for i := range list.Items {
			items[list.Items[i].GetName()] = &list.Items[i]
		}
		return items, nil
	})
}
