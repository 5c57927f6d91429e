package diff

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// Options select and tune a diff run.
type Options struct {
	// RepoDir is the top of the gitops checkout.
	RepoDir string
	// Targets narrow the run: cluster names, NAMESPACE/KUSTOMIZATION, or
	// paths in the checkout. Empty means the whole fleet.
	Targets []string
	// Source names the GitRepository the checkout stands for
	// ("GitRepository/ns/name"); default: the one whose URL matches the
	// checkout's origin remote.
	Source string
	// Concurrency bounds the dry-runs in flight per cluster.
	Concurrency int
	// StrictSubstitute fails on postBuild variables without a value.
	StrictSubstitute bool
	// VerifyUnchanged sends every object to the server, including those the
	// local check finds certain to be unchanged.
	VerifyUnchanged bool
	// Progress, when set, is called as objects finish (from many
	// goroutines): cluster, objects done and known so far.
	Progress func(cluster string, done, total int)
}

// DefaultConcurrency is the default number of dry-runs in flight per cluster.
const DefaultConcurrency = 16

// fieldOwner is kustomize-controller's SSA field manager.
var fieldOwner = ssa.Owner{Field: "kustomize-controller", Group: kustomizev1.GroupVersion.Group}

var (
	reconcileKey = kustomizev1.GroupVersion.Group + "/reconcile"
	ssaKey       = kustomizev1.GroupVersion.Group + "/ssa"
	forceKey     = kustomizev1.GroupVersion.Group + "/force"
	pruneKey     = kustomizev1.GroupVersion.Group + "/prune"
)

// ErrBadTarget is wrapped when an argument names nothing in the fleet.
var ErrBadTarget = errors.New("bad target")

// Run diffs the checkout against the fleet. A broken cluster, Kustomization
// or object is reported in the Result; Run returns an error only when
// nothing can be diffed at all (no checkout, no matching source, bad
// arguments).
func Run(ctx context.Context, f *fleet.Fleet, opts Options) (*Result, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	res := &Result{APIVersion: APIVersion, Kind: Kind, Repo: opts.RepoDir, Kustomizations: []KustomizationResult{}, Objects: []ObjectResult{}, Skipped: []SkippedKustomization{}}
	sources, err := selectSources(f, opts)
	if err != nil {
		return nil, err
	}
	var srcNames []string
	for s := range sources {
		srcNames = append(srcNames, strings.TrimPrefix(s, "GitRepository/"))
	}
	sort.Strings(srcNames)
	res.Source = strings.Join(srcNames, ",")

	// Roots: live Kustomizations from this checkout.
	var roots []*kustomizev1.Kustomization
	for _, c := range f.Clusters {
		for _, o := range c.Objects {
			ks := o.Kustomization
			if ks == nil {
				continue
			}
			if src := sourceKey(ks); !sources[src] {
				res.Skipped = append(res.Skipped, SkippedKustomization{Namespace: ks.Namespace, Name: ks.Name, Reason: "source " + src + " is not this checkout"})
				continue
			}
			roots = append(roots, ks)
		}
	}
	sort.Slice(roots, func(i, j int) bool { return ksID(roots[i]) < ksID(roots[j]) })
	sort.Slice(res.Skipped, func(i, j int) bool {
		return res.Skipped[i].Namespace+"/"+res.Skipped[i].Name < res.Skipped[j].Namespace+"/"+res.Skipped[j].Name
	})
	sel, err := newSelector(f, opts, roots)
	if err != nil {
		return nil, err
	}

	b, err := NewBuilder(opts.RepoDir, f.Hub().Client, opts.StrictSubstitute)
	if err != nil {
		return nil, err
	}
	defer b.Close()

	e := &engine{f: f, opts: opts, sources: sources, sel: sel, builder: b, runners: map[string]*runner{}, results: map[string]*ksState{}}
	e.run(ctx, roots)
	e.collect(res)
	return res, nil
}

func ksID(ks *kustomizev1.Kustomization) string { return ks.Namespace + "/" + ks.Name }

func sourceKey(ks *kustomizev1.Kustomization) string {
	ns := ks.Spec.SourceRef.Namespace
	if ns == "" {
		ns = ks.Namespace
	}
	return ks.Spec.SourceRef.Kind + "/" + ns + "/" + ks.Spec.SourceRef.Name
}

// selectSources returns the GitRepositories ("GitRepository/ns/name") the
// checkout stands for.
func selectSources(f *fleet.Fleet, opts Options) (map[string]bool, error) {
	if opts.Source != "" {
		parts := strings.Split(opts.Source, "/")
		if len(parts) != 3 || parts[0] != "GitRepository" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("%w: --source %q must be GitRepository/NAMESPACE/NAME", ErrBadTarget, opts.Source)
		}
		return map[string]bool{opts.Source: true}, nil
	}
	origin, err := OriginURL(opts.RepoDir)
	if err != nil {
		return nil, err
	}
	want := NormalizeGitURL(origin)
	out := map[string]bool{}
	var seen []string
	for key, s := range f.Sources {
		if !strings.HasPrefix(key, "GitRepository/") {
			continue
		}
		u, _, _ := unstructured.NestedString(s.Object, "spec", "url")
		seen = append(seen, key+" ("+u+")")
		if NormalizeGitURL(u) == want {
			out[key] = true
		}
	}
	if len(out) == 0 {
		sort.Strings(seen)
		return nil, fmt.Errorf("no GitRepository in the hub has the checkout's origin URL %s (seen: %s); pass --source GitRepository/NAMESPACE/NAME",
			origin, strings.Join(seen, ", "))
	}
	return out, nil
}

// selector decides which Kustomizations the user asked for.
type selector struct {
	all      bool
	clusters map[string]bool
	ks       map[string]bool
	paths    []string
}

func newSelector(f *fleet.Fleet, opts Options, roots []*kustomizev1.Kustomization) (*selector, error) {
	s := &selector{clusters: map[string]bool{}, ks: map[string]bool{}}
	if len(opts.Targets) == 0 {
		s.all = true
		return s, nil
	}
	known := map[string]bool{}
	for _, r := range roots {
		known[ksID(r)] = true
	}
	for _, t := range opts.Targets {
		switch {
		case f.Cluster(t) != nil:
			s.clusters[t] = true
		case known[t]:
			s.ks[t] = true
		default:
			p := t
			if !filepath.IsAbs(p) {
				if _, err := os.Stat(filepath.Join(opts.RepoDir, p)); err == nil {
					p = filepath.Join(opts.RepoDir, p)
				}
			}
			abs, _ := filepath.Abs(p)
			rel, err := filepath.Rel(opts.RepoDir, abs)
			if _, serr := os.Stat(abs); serr != nil || err != nil || strings.HasPrefix(rel, "..") {
				return nil, fmt.Errorf("%w: %q is neither a cluster, a NAMESPACE/KUSTOMIZATION of this checkout, nor a path in %s", ErrBadTarget, t, opts.RepoDir)
			}
			s.paths = append(s.paths, filepath.Clean(rel))
		}
	}
	return s, nil
}

// wants reports whether a Kustomization was asked for. A path selects the
// Kustomizations whose spec.path is at, under or above it, and those whose
// build read a file under it (a base in apps/ selects every overlay using it).
func (s *selector) wants(cluster string, ks *kustomizev1.Kustomization, inputs []string) bool {
	if s.all || s.clusters[cluster] || s.ks[ksID(ks)] {
		return true
	}
	sep := string(filepath.Separator)
	p := filepath.Clean(strings.TrimPrefix(ks.Spec.Path, "./"))
	for _, want := range s.paths {
		if want == "." || p == want || strings.HasPrefix(p, want+sep) || strings.HasPrefix(want, p+sep) {
			return true
		}
		for _, in := range inputs {
			if in == want || strings.HasPrefix(in, want+sep) {
				return true
			}
		}
	}
	return false
}

// engine runs builds (one at a time, in BFS order) while each cluster's
// runner dry-runs the objects of the Kustomizations already built.
type engine struct {
	f       *fleet.Fleet
	opts    Options
	sources map[string]bool
	sel     *selector
	builder *Builder

	mu      sync.Mutex
	runners map[string]*runner
	results map[string]*ksState
	wg      sync.WaitGroup
}

// ksState is one Kustomization's result; gen increases when a parent's
// build gives it a different spec than the live one, and older results are
// dropped.
type ksState struct {
	gen     int
	cluster *fleet.Cluster
	ks      *kustomizev1.Kustomization
	isNew   bool
	err     string
	objects []ObjectResult
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
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		id := ksID(it.ks)
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
		objects, inputs, err := e.builder.BuildWithInputs(ctx, it.ks)
		st := e.newState(id, cluster, it.ks, it.isNew)
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
			for _, o := range objects {
				if o.GetKind() != kustomizev1.KustomizationKind || o.GroupVersionKind().Group != kustomizev1.GroupVersion.Group {
					continue
				}
				child := &kustomizev1.Kustomization{}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, child); err != nil {
					continue
				}
				if !e.sources[sourceKey(child)] {
					continue
				}
				_, live := e.liveKustomization(ksID(child))
				queue = append(queue, item{ks: child, isNew: !live})
			}
		}
		if !e.sel.wants(cluster.Name, it.ks, inputs) {
			e.drop(id)
			continue
		}
		e.dispatch(ctx, st, objects)
	}
	e.wg.Wait()
}

func (e *engine) liveKustomization(id string) (*kustomizev1.Kustomization, bool) {
	for _, c := range e.f.Clusters {
		for _, o := range c.Objects {
			if o.Kustomization != nil && ksID(o.Kustomization) == id {
				return o.Kustomization, true
			}
		}
	}
	return nil, false
}

func (e *engine) newState(id string, c *fleet.Cluster, ks *kustomizev1.Kustomization, isNew bool) *ksState {
	e.mu.Lock()
	defer e.mu.Unlock()
	gen := 0
	if old := e.results[id]; old != nil {
		gen = old.gen + 1
	}
	st := &ksState{gen: gen, cluster: c, ks: ks, isNew: isNew}
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
		if cur := e.results[ksID(st.ks)]; cur != st {
			return // superseded by a rebuild with the spec from git
		}
		st.objects = append(out, deleted...)
	}()
}

func ignoreRules(ks *kustomizev1.Kustomization) []jsondiff.IgnoreRule {
	var rules []jsondiff.IgnoreRule
	for _, rule := range ks.Spec.Ignore {
		jr := jsondiff.IgnoreRule{Paths: rule.Paths}
		if t := rule.Target; t != nil {
			jr.Selector = &jsondiff.Selector{Group: t.Group, Version: t.Version, Kind: t.Kind, Name: t.Name, Namespace: t.Namespace,
				AnnotationSelector: t.AnnotationSelector, LabelSelector: t.LabelSelector}
		}
		rules = append(rules, jr)
	}
	return rules
}

// crdKinds returns the group/kinds defined by CRDs in the build.
func crdKinds(objects []*unstructured.Unstructured) map[schema.GroupKind]bool {
	out := map[schema.GroupKind]bool{}
	for _, o := range objects {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		g, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		k, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		out[schema.GroupKind{Group: g, Kind: k}] = true
	}
	return out
}

func (e *engine) diffObject(ctx context.Context, st *ksState, cc *clusterClients, obj *unstructured.Unstructured, opts ssa.DiffOptions, crds map[schema.GroupKind]bool, namespaces map[string]bool) ObjectResult {
	or := ObjectResult{
		Cluster: st.cluster.Name, Kustomization: ksID(st.ks),
		APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName(),
	}
	if obj.GetAnnotations()[sopsMarker] != "" {
		or.Action, or.Reason = ActionSkipped, "SOPS-encrypted Secret: not decrypted"
		return or
	}
	if !e.opts.VerifyUnchanged && !hasFluxAnnotations(obj) && !opts.Force {
		live, err := cc.live.Lookup(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
		if err == nil && unchangedLocally(obj, live, fieldOwner.Field) {
			or.Action = ActionUnchanged
			return or
		}
	}
	entry, live, merged, err := cc.rm.Diff(ctx, obj, opts)
	if err != nil {
		gk := obj.GroupVersionKind().GroupKind()
		if kube.IsNoMatch(err) && crds[gk] {
			or.Action, or.Reason = ActionCreated, "its CustomResourceDefinition is created by the same build"
			or.Diff = Unified("", toYAML(mask(obj)), "live", "merged")
			return or
		}
		if ns := obj.GetNamespace(); ns != "" && namespaces[ns] && strings.Contains(err.Error(), `namespaces "`+ns+`" not found`) {
			or.Action, or.Reason = ActionCreated, "its Namespace is created by the same build"
			or.Diff = Unified("", toYAML(mask(obj)), "live", "merged")
			return or
		}
		or.Action = ActionError
		if kube.IsNoMatch(err) {
			or.Error = fmt.Sprintf("no kind %s in %s on cluster %s: install its CRD first", gk.Kind, obj.GetAPIVersion(), st.cluster.Name)
		} else {
			or.Error = cleanError(err)
		}
		return or
	}
	switch entry.Action {
	case ssa.CreatedAction:
		or.Action = ActionCreated
		or.Diff = Unified("", toYAML(mask(obj)), "live", "merged")
	case ssa.ConfiguredAction:
		or.Action = ActionDrifted
		or.Diff = Unified(toYAML(mask(live)), toYAML(mask(merged)), "live", "merged")
	case ssa.SkippedAction:
		or.Action, or.Reason = ActionSkipped, skipReason(obj)
	default:
		or.Action = ActionUnchanged
	}
	return or
}

// hasFluxAnnotations reports whether kustomize-controller's per-object
// annotations or labels apply: those objects always take ssa's own path.
func hasFluxAnnotations(obj *unstructured.Unstructured) bool {
	for _, k := range []string{reconcileKey, ssaKey, forceKey} {
		if _, ok := obj.GetAnnotations()[k]; ok {
			return true
		}
		if _, ok := obj.GetLabels()[k]; ok {
			return true
		}
	}
	return false
}

func skipReason(obj *unstructured.Unstructured) string {
	a := obj.GetAnnotations()
	l := obj.GetLabels()
	switch {
	case a[reconcileKey] == kustomizev1.DisabledValue || l[reconcileKey] == kustomizev1.DisabledValue:
		return reconcileKey + ": disabled"
	case a[ssaKey] == kustomizev1.IgnoreValue || l[ssaKey] == kustomizev1.IgnoreValue:
		return ssaKey + ": Ignore"
	case a[ssaKey] == kustomizev1.IfNotPresentValue || l[ssaKey] == kustomizev1.IfNotPresentValue:
		return ssaKey + ": IfNotPresent and the object exists"
	}
	return "skipped by kustomize-controller's rules"
}

// deletions reports the live inventory entries the new build no longer has,
// when the Kustomization prunes.
func (e *engine) deletions(ctx context.Context, st *ksState, cc *clusterClients, objects []*unstructured.Unstructured) []ObjectResult {
	live, ok := e.liveKustomization(ksID(st.ks))
	if !ok || !st.ks.Spec.Prune || live.Status.Inventory == nil {
		return nil
	}
	keep := map[string]bool{}
	for _, o := range objects {
		keep[object.UnstructuredToObjMetadata(o).String()] = true
	}
	var out []ObjectResult
	for _, entry := range live.Status.Inventory.Entries {
		if keep[entry.ID] {
			continue
		}
		om, err := object.ParseObjMetadata(entry.ID)
		if err != nil {
			continue
		}
		gvk := schema.GroupVersionKind{Group: om.GroupKind.Group, Version: entry.Version, Kind: om.GroupKind.Kind}
		or := ObjectResult{Cluster: st.cluster.Name, Kustomization: ksID(st.ks), APIVersion: gvk.GroupVersion().String(),
			Kind: gvk.Kind, Namespace: om.Namespace, Name: om.Name, Action: ActionDeleted}
		obj, err := cc.live.Lookup(ctx, gvk, om.Namespace, om.Name)
		switch {
		case err != nil:
			or.Action, or.Error = ActionError, cleanError(err)
		case obj == nil:
			continue // already gone
		case obj.GetAnnotations()[pruneKey] == kustomizev1.DisabledValue || obj.GetLabels()[pruneKey] == kustomizev1.DisabledValue:
			continue // kustomize-controller keeps it
		default:
			or.Diff = Unified(toYAML(mask(obj)), "", "live", "merged")
		}
		out = append(out, or)
	}
	return out
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
		return ksID(a.ks) < ksID(b.ks)
	})
	for _, st := range states {
		kr := KustomizationResult{Cluster: st.cluster.Name, Namespace: st.ks.Namespace, Name: st.ks.Name, Path: st.ks.Spec.Path, New: st.isNew, Error: st.err}
		objs := append([]ObjectResult(nil), st.objects...)
		sort.SliceStable(objs, func(i, j int) bool { return objs[i].ID() < objs[j].ID() })
		for _, o := range objs {
			kr.Counts.add(o.Action)
			res.Summary.add(o.Action)
			if o.Action != ActionUnchanged {
				res.Objects = append(res.Objects, o)
			}
		}
		res.Kustomizations = append(res.Kustomizations, kr)
	}
}
