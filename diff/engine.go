package diff

import (
	"context"
	"sort"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// engine runs builds (one at a time, in BFS order) while each cluster's
// runner dry-runs the objects of the Kustomizations already built.
type engine struct {
	f       *fleet.Fleet
	opts    Options
	sources map[string]bool
	sel     *selector
	builder *Builder
	// scope, with --base, decides what is diffed and holds the builds.
	scope *baseScope

	mu      sync.Mutex
	runners map[string]*runner
	results map[string]*ksState
	wg      sync.WaitGroup
	helm    *helmState
	// charts done and known, for ChartProgress (under mu).
	chartsDone, chartsTotal int
}

// ksState is one Kustomization's result. When a parent's build gives a
// Kustomization another spec than the live one, it is built again and the
// new state replaces the old in engine.results: work still running for the
// old state sees that and drops its result.
type ksState struct {
	cluster *fleet.Cluster
	ks      *kustomizev1.Kustomization
	isNew   bool
	err     string
	objects []ObjectResult
	// helm and helmObjects are the HelmReleases of the build, rendered.
	helm        []HelmReleaseResult
	helmObjects []ObjectResult
	// resourceSets are the ResourceSets of a hub build, expanded, and
	// rsObjects the generated objects' results (resourceset.go).
	resourceSets []ResourceSetResult
	rsObjects    []ObjectResult
}

func (e *engine) run(ctx context.Context, roots []*kustomizev1.Kustomization) {
	type item struct {
		ks    *kustomizev1.Kustomization
		isNew bool
	}
	queue := make([]item, 0, len(roots))
	for _, r := range roots {
		queue = append(queue, item{ks: r})
	}
	used := map[string]*kustomizev1.Kustomization{} // spec each id was built with
	rebuilt := map[string]bool{}
	// Hub builds, by Kustomization (a rebuild replaces the first build):
	// their HelmReleases are rendered once every build is made, with the
	// valuesFrom ConfigMaps and Secrets of all of them.
	var hubOrder []string
	hubBuilds := map[string]*hubBuild{}
	// Spoke builds that are diffed: their HelmReleases, reconciled by a
	// helm-controller on the spoke, are rendered too, with valuesFrom from
	// the same build, else from the live spoke.
	var spokeBuilds []*hubBuild
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		id := fleet.ID(it.ks)
		if prev, ok := used[id]; ok && apiequality.Semantic.DeepEqual(prev.Spec, it.ks.Spec) {
			continue
		}
		if _, ok := used[id]; ok {
			if rebuilt[id] {
				continue // cycle guard: each Kustomization is rebuilt at most once
			}
			rebuilt[id] = true
		}
		used[id] = it.ks
		cluster := e.f.TargetOf(it.ks.Namespace, it.ks.Spec.KubeConfig)
		if !cluster.Hub && !e.sel.mayWant(e.builder.repo, cluster.Name, it.ks) {
			// Not selected, and nothing nested to find: not built, its
			// cluster not contacted.
			e.drop(id)
			continue
		}
		objects, inputs, err := e.build(ctx, it.ks)
		st := e.newState(id, cluster, it.ks, it.isNew)
		// The objects the build's ResourceSets generate, applied to the
		// hub by the Flux Operator, count as hub objects of this build.
		var generated []*unstructured.Unstructured
		var expansions []*expansion
		if cluster.Hub && err == nil {
			generated, expansions = e.expandResourceSets(ctx, st, objects)
		}
		if cluster.Hub {
			if _, ok := hubBuilds[id]; !ok {
				hubOrder = append(hubOrder, id)
			}
			hubBuilds[id] = &hubBuild{objects: append(objects[:len(objects):len(objects)], generated...)}
		}
		if err != nil {
			if e.sel.wants(cluster.Name, it.ks, inputs) {
				e.finish(st, err.Error(), nil)
			} else {
				e.drop(id)
			}
			continue
		}
		// Nested Kustomizations from this checkout, applied to the hub, are
		// diffed themselves with the spec from git.
		if cluster.Hub {
			for _, child := range typedObjects[kustomizev1.Kustomization](hubBuilds[id].objects, kustomizev1.GroupVersion.WithKind(kustomizev1.KustomizationKind).GroupKind()) {
				if !e.sources[fleet.KustomizationSource(child).String()] {
					continue
				}
				_, live := e.liveKustomization(fleet.ID(child))
				queue = append(queue, item{ks: child, isNew: !live})
			}
		}
		if !e.sel.wants(cluster.Name, it.ks, inputs) || (e.scope != nil && !e.scope.ksChanged(it.ks)) {
			e.drop(id)
			continue
		}
		e.dispatch(ctx, st, objects)
		e.dispatchResourceSets(ctx, st, objects, expansions)
		if cluster.Hub {
			hubBuilds[id].st = st
		} else if !e.opts.NoHelm && hasHelmRelease(objects) {
			// Held for its HelmReleases only: a spoke build without one
			// is let go once its objects are diffed (20,000 objects on
			// 100 spokes were held to the end for nothing).
			spokeBuilds = append(spokeBuilds, &hubBuild{objects: objects, st: st})
		}
	}
	if !e.opts.NoHelm {
		hub := valuesSources(hubOrder, hubBuilds)
		for _, id := range hubOrder {
			if b := hubBuilds[id]; b.st != nil {
				e.dispatchHelm(ctx, b.st, b.objects, hub)
			}
		}
		for _, b := range spokeBuilds {
			e.dispatchHelm(ctx, b.st, b.objects, nil)
		}
	}
	e.wg.Wait()
}

// hasHelmRelease tells whether a build applies a HelmRelease.
func hasHelmRelease(objects []*unstructured.Unstructured) bool {
	for _, o := range objects {
		if o.GetKind() == helmv2.HelmReleaseKind && o.GroupVersionKind().Group == helmv2.GroupVersion.Group {
			return true
		}
	}
	return false
}

// hubBuild is the build of a Kustomization (of the hub, unless in
// spokeBuilds); st is set when the Kustomization is diffed (selected,
// built without error).
type hubBuild struct {
	objects []*unstructured.Unstructured
	st      *ksState
}

func (e *engine) liveKustomization(id string) (*kustomizev1.Kustomization, bool) {
	for _, c := range e.f.Clusters {
		for _, o := range c.Objects {
			if o.Kustomization != nil && fleet.ID(o.Kustomization) == id {
				return o.Kustomization, true
			}
		}
	}
	return nil, false
}

func (e *engine) newState(id string, c *fleet.Cluster, ks *kustomizev1.Kustomization, isNew bool) *ksState {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := &ksState{cluster: c, ks: ks, isNew: isNew}
	e.results[id] = st
	return st
}

func (e *engine) drop(id string) {
	e.mu.Lock()
	delete(e.results, id)
	e.mu.Unlock()
}

func (e *engine) finish(st *ksState, errMsg string, objects []ObjectResult) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st.err = errMsg
	st.objects = objects
}

// collect turns the engine's state into the Result, in output order.
func (e *engine) collect(res *Result) {
	order := map[string]int{}
	for i, c := range e.f.Clusters {
		order[c.Name] = i
	}
	states := make([]*ksState, 0, len(e.results))
	for _, st := range e.results {
		states = append(states, st)
	}
	sort.Slice(states, func(i, j int) bool {
		a, b := states[i], states[j]
		oa, aok := order[a.cluster.Name]
		ob, bok := order[b.cluster.Name]
		if !aok {
			oa = len(order)
		}
		if !bok {
			ob = len(order)
		}
		if oa != ob {
			return oa < ob
		}
		if a.cluster.Name != b.cluster.Name {
			return a.cluster.Name < b.cluster.Name
		}
		return fleet.ID(a.ks) < fleet.ID(b.ks)
	})
	for _, st := range states {
		kr := KustomizationResult{Cluster: st.cluster.Name, Namespace: st.ks.Namespace, Name: st.ks.Name, Path: st.ks.Spec.Path, New: st.isNew, Error: st.err}
		objs := append([]ObjectResult(nil), st.objects...)
		sort.SliceStable(objs, func(i, j int) bool { return objs[i].ID() < objs[j].ID() })
		helm := append([]ObjectResult(nil), st.helmObjects...)
		sort.SliceStable(helm, func(i, j int) bool {
			if helm[i].HelmRelease != helm[j].HelmRelease {
				return helm[i].HelmRelease < helm[j].HelmRelease
			}
			return helm[i].ID() < helm[j].ID()
		})
		objs = append(objs, st.rsObjects...)
		sort.SliceStable(objs, func(i, j int) bool { return objs[i].ID() < objs[j].ID() })
		objs = append(objs, helm...)
		res.ResourceSets = append(res.ResourceSets, st.resourceSets...)
		hrs := append([]HelmReleaseResult(nil), st.helm...)
		sort.Slice(hrs, func(i, j int) bool { return hrs[i].ID() < hrs[j].ID() })
		res.HelmReleases = append(res.HelmReleases, hrs...)
		for _, o := range objs {
			if o.HelmRelease == "" { // rendered objects count on their HelmRelease's row
				kr.Counts.add(o.Action)
			}
			res.Summary.add(o.Action)
			if o.Action != ActionUnchanged {
				res.Objects = append(res.Objects, o)
			}
		}
		res.Kustomizations = append(res.Kustomizations, kr)
	}
}
