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
}

type clusterClients struct {
	live *liveClient
	rm   *ssa.ResourceManager
	kube *kube.Client
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

func (r *runner) clientsFor(ctx context.Context, f *fleet.Fleet, serviceAccount string) (*clusterClients, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cc := r.clients[serviceAccount]; cc != nil {
		return cc, nil
	}
	if r.err != nil {
		return nil, r.err
	}
	kc, err := f.Client(ctx, r.cluster, serviceAccount)
	if err == nil && len(r.clients) == 0 {
		// One cheap request tells an unreachable cluster apart before
		// every object fails on its own.
		if _, verr := kc.Discovery.ServerVersion(); verr != nil {
			err = fmt.Errorf("cluster %s is unreachable: %w", r.cluster.Name, verr)
		}
	}
	if err != nil {
		r.err = err
		return nil, err
	}
	live := newLiveClient(kc.Client)
	cc := &clusterClients{live: live, kube: kc, rm: ssa.NewResourceManager(live, nil, fieldOwner)}
	r.clients[serviceAccount] = cc
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
func (e *engine) dispatch(ctx context.Context, st *ksState, objects []*unstructured.Unstructured) {
	r := e.runner(ctx, st.cluster)
	cc, err := r.clientsFor(ctx, e.f, st.ks.Spec.ServiceAccountName)
	if err != nil {
		e.finish(st, err.Error(), nil)
		return
	}
	e.progress(r, 0, len(objects))
	crds := crdKinds(objects)
	namespaces := map[string]bool{}
	for _, o := range objects {
		if o.GetKind() == "Namespace" && o.GroupVersionKind().Group == "" {
			namespaces[o.GetName()] = true
		}
	}
	diffOpts := ssa.DiffOptions{
		Exclusions:           map[string]string{reconcileKey: kustomizev1.DisabledValue, ssaKey: kustomizev1.IgnoreValue},
		IfNotPresentSelector: map[string]string{ssaKey: kustomizev1.IfNotPresentValue},
		ForceSelector:        map[string]string{forceKey: kustomizev1.EnabledValue},
		Force:                st.ks.Spec.Force,
		DriftIgnoreRules:     ignoreRules(st.ks),
	}
	out := make([]ObjectResult, len(objects))
	var wg sync.WaitGroup
	for i, obj := range objects {
		wg.Add(1)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer wg.Done()
			r.sem <- struct{}{}
			defer func() { <-r.sem }()
			out[i] = e.diffObject(ctx, st, cc, obj, diffOpts, crds, namespaces)
			e.progress(r, 1, 0)
		}()
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		wg.Wait()
		deleted := e.deletions(ctx, st, cc, objects)
		e.mu.Lock()
		defer e.mu.Unlock()
		if cur := e.results[fleet.ID(st.ks)]; cur != st {
			return // superseded by a rebuild with the spec from git
		}
		st.objects = append(out, deleted...)
	}()
}
