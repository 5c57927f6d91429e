package diff

import (
	"context"
	"fmt"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// runner holds a cluster's clients and bounds its dry-runs in flight.
type runner struct {
	cluster *fleet.Cluster
	err     error
	sem     chan struct{}
	mu      sync.Mutex
	done    int
	total   int
	clients map[string]*clusterClients
	probed  bool
}

type clusterClients struct {
	live *liveClient
	rm   *ssa.ResourceManager
	kube *kube.Client
	// serviceAccount is the impersonated "namespace/name", or "".
	serviceAccount string
	// owner is the field manager of rm when not kustomize-controller's
	// (the Flux Operator's, for objects a ResourceSet generates).
	owner string
}

// fieldManager is the field manager the objects are applied with.
func (cc *clusterClients) fieldManager() string {
	if cc.owner != "" {
		return cc.owner
	}
	return fieldOwner.Field
}

func (e *engine) runner(ctx context.Context, c *fleet.Cluster) *runner {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.runners[c.Name]
	if r == nil {
		r = &runner{cluster: c, sem: make(chan struct{}, e.opts.Concurrency), clients: map[string]*clusterClients{}}
		e.runners[c.Name] = r
	}
	return r
}

// clientsFor returns the clients Flux would apply o's objects with on the
// runner's cluster: impersonating o's spec.serviceAccountName in o's
// namespace, on the hub as on a spoke (fleet.ClientFor), or the cluster's
// own client without one. The first use checks the cluster is reachable,
// with the cluster's own client, so that a service account the hub may not
// impersonate fails only the objects that name it.
func (r *runner) clientsFor(ctx context.Context, f *fleet.Fleet, o fleet.Object) (*clusterClients, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sa := ""
	if name := o.ServiceAccountName(); name != "" {
		sa = o.Meta().GetNamespace() + "/" + name
	}
	if cc := r.clients[sa]; cc != nil {
		return cc, nil
	}
	if r.err != nil {
		return nil, r.err
	}
	if !r.probed {
		// One cheap request tells an unreachable cluster apart before
		// every object fails on its own.
		if err := f.Reachable(ctx, r.cluster); err != nil {
			r.err = err
			return nil, err
		}
		r.probed = true
	}
	kc, err := f.ClientFor(ctx, r.cluster, o)
	if err != nil {
		if sa != "" {
			return nil, fmt.Errorf("impersonating ServiceAccount %s (spec.serviceAccountName of %s) on cluster %s: %w", sa, o.ID(), r.cluster.Name, err)
		}
		return nil, err
	}
	live := newLiveClient(kc.Client, sa)
	cc := &clusterClients{live: live, kube: kc, rm: ssa.NewResourceManager(live, nil, fieldOwner), serviceAccount: sa}
	r.clients[sa] = cc
	return cc, nil
}

func (e *engine) progress(r *runner, done, total int) {
	r.mu.Lock()
	r.done += done
	r.total += total
	d, t := r.done, r.total
	r.mu.Unlock()
	if e.opts.Progress != nil {
		e.opts.Progress(r.cluster.Name, d, t)
	}
}

// dispatch dry-runs every object of a built Kustomization on its cluster,
// and reports pruned inventory entries as deleted.
//
// It returns at once: the cluster's clients are made (the kubeconfig
// Secret read, the probe, discovery) on the engine's wait group, not on
// the serial build loop, where on 100 spokes their round trips added up
// to ~60 ms of wall time per spoke.
func (e *engine) dispatch(ctx context.Context, st *ksState, objects []*unstructured.Unstructured) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.dispatchOn(ctx, st, objects)
	}()
}

// dispatchOn is dispatch's work, once the cluster's clients are made.
func (e *engine) dispatchOn(ctx context.Context, st *ksState, objects []*unstructured.Unstructured) {
	r := e.runner(ctx, st.cluster)
	cc, err := r.clientsFor(ctx, e.f, fleet.Object{Kind: kustomizev1.KustomizationKind, Kustomization: st.ks})
	if err != nil {
		e.finish(st, err.Error(), nil)
		return
	}
	e.progress(r, 0, len(objects))
	keys := listKeys(objects)
	cc.live.hold(keys)
	crds, namespaces := crdKinds(objects), namespaceNames(objects)
	diffOpts := ssa.DiffOptions{
		Exclusions:           map[string]string{reconcileKey: kustomizev1.DisabledValue, ssaKey: kustomizev1.IgnoreValue},
		IfNotPresentSelector: map[string]string{ssaKey: kustomizev1.IfNotPresentValue},
		ForceSelector:        map[string]string{forceKey: kustomizev1.EnabledValue},
		Force:                st.ks.Spec.Force,
		DriftIgnoreRules:     ignoreRules(st.ks),
	}
	e.diffEach(r, objects, func(obj *unstructured.Unstructured) ObjectResult {
		return e.diffObject(ctx, st, cc, obj, diffOpts, crds, namespaces)
	}, func(out []ObjectResult) {
		deleted := e.deletions(ctx, st, cc, objects)
		cc.live.release(keys)
		e.mu.Lock()
		defer e.mu.Unlock()
		if cur := e.results[fleet.ID(st.ks)]; cur != st {
			return // superseded by a rebuild with the spec from git
		}
		st.objects = append(out, deleted...)
	})
}

// diffEach diffs every object on the runner's semaphore, counting progress,
// and then hands the results, in the objects' order, to done; all of it on
// the engine's wait group.
//
// One goroutine per build feeds the objects to the semaphore and starts a
// worker for each only once it has a slot: not a goroutine per object
// waiting for one, which on 100 spokes of 200 objects held thousands of
// goroutine stacks while the builds ran ahead of the dry-runs.
func (e *engine) diffEach(r *runner, objects []*unstructured.Unstructured, one func(*unstructured.Unstructured) ObjectResult, done func([]ObjectResult)) {
	out := make([]ObjectResult, len(objects))
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		var wg sync.WaitGroup
		for i, obj := range objects {
			r.sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-r.sem }()
				out[i] = one(obj)
				e.progress(r, 1, 0)
			}()
		}
		wg.Wait()
		done(out)
	}()
}

// namespaceNames are the Namespaces a build creates.
func namespaceNames(objects []*unstructured.Unstructured) map[string]bool {
	namespaces := map[string]bool{}
	for _, o := range objects {
		if o.GetKind() == "Namespace" && o.GroupVersionKind().Group == "" {
			namespaces[o.GetName()] = true
		}
	}
	return namespaces
}
