package diff

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/resourceset"
)

// ResourceSetResult is one ResourceSet of a hub build, expanded as the
// Flux Operator would: the objects it generates are in Objects with
// resourceSet set.
type ResourceSetResult struct {
	Cluster string `json:"cluster"`
	// Kustomization ("ns/name") applies the ResourceSet.
	Kustomization string `json:"kustomization"`
	Namespace     string `json:"namespace"`
	Name          string `json:"name"`
	// New is true when the ResourceSet is not in the hub yet.
	New bool `json:"new,omitempty"`
	// Providers are the ResourceSetInputProviders it reads ("ns/name").
	Providers []string `json:"providers,omitempty"`
	// Inputs is the number of input sets; Generated the objects they give.
	Inputs    int `json:"inputs"`
	Generated int `json:"generated"`
	// Waiting lists the spec.dependsOn entries the hub does not satisfy
	// yet: the operator applies nothing until they are.
	Waiting []string `json:"waiting,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// ID is "namespace/name".
func (r ResourceSetResult) ID() string { return r.Namespace + "/" + r.Name }

// operatorOwner is the Flux Operator's SSA field manager.
var operatorOwner = ssa.Owner{Field: "flux-operator", Group: resourceset.Group}

var (
	providerGVK    = schema.GroupVersionKind{Group: resourceset.Group, Version: "v1", Kind: resourceset.ProviderKind}
	resourceSetGVK = schema.GroupVersionKind{Group: resourceset.Group, Version: "v1", Kind: resourceset.Kind}
	operatorForce  = resourceset.Group + "/force"
)

// expansion is one ResourceSet of a hub build and what it generates.
type expansion struct {
	rs      *unstructured.Unstructured
	result  ResourceSetResult
	objects []*unstructured.Unstructured
}

// expandResourceSets expands the ResourceSets of a hub build, with the
// providers' exported inputs from the live hub. It returns every generated
// object: those the operator would apply to the hub, among them
// Kustomizations and HelmReleases that the run builds and renders in turn.
func (e *engine) expandResourceSets(ctx context.Context, st *ksState, objects []*unstructured.Unstructured) ([]*unstructured.Unstructured, []*expansion) {
	var sets []*unstructured.Unstructured
	for _, o := range objects {
		if resourceset.IsResourceSet(o) {
			sets = append(sets, o)
		}
	}
	if len(sets) == 0 {
		return nil, nil
	}
	var generated []*unstructured.Unstructured
	var out []*expansion
	cc, ccErr := e.runner(ctx, st.cluster).clientsFor(ctx, e.f, fleet.Object{Kind: kustomizev1.KustomizationKind, Kustomization: &kustomizev1.Kustomization{}})
	for _, rs := range sets {
		x := &expansion{rs: rs, result: ResourceSetResult{Cluster: st.cluster.Name, Kustomization: fleet.ID(st.ks), Namespace: rs.GetNamespace(), Name: rs.GetName()}}
		out = append(out, x)
		if ccErr != nil {
			x.result.Error = ccErr.Error()
			continue
		}
		if live, err := cc.live.Lookup(ctx, resourceSetGVK, rs.GetNamespace(), rs.GetName()); err == nil {
			x.result.New = live == nil
		}
		providers, err := liveProviders(ctx, cc, rs)
		if err != nil {
			x.result.Error = err.Error()
			continue
		}
		res, err := resourceset.Expand(rs, providers, resourceset.Options{Scope: mapperScope(cc.kube)})
		if err != nil {
			x.result.Error = err.Error()
			continue
		}
		for _, s := range res.Sources {
			if s.Kind == resourceset.ProviderKind {
				x.result.Providers = append(x.result.Providers, s.Namespace+"/"+s.Name)
			}
		}
		x.result.Inputs, x.result.Generated = res.Inputs, len(res.Objects)
		x.result.Waiting = unmetDependencies(ctx, cc, rs, res.DependsOn)
		x.objects = res.Objects
		generated = append(generated, res.Objects...)
	}
	return generated, out
}

// liveProviders lists the ResourceSetInputProviders of the ResourceSet's
// namespace in the hub, when its spec.inputsFrom names any.
func liveProviders(ctx context.Context, cc *clusterClients, rs *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if from, _, _ := unstructured.NestedSlice(rs.Object, "spec", "inputsFrom"); len(from) == 0 {
		return nil, nil
	}
	items, err := cc.live.list(ctx, providerGVK, rs.GetNamespace())
	if err != nil {
		if kube.IsNoMatch(err) {
			return nil, fmt.Errorf("ResourceSet %s/%s: the hub has no %s kind: install the Flux Operator's CRDs", rs.GetNamespace(), rs.GetName(), resourceset.ProviderKind)
		}
		return nil, fmt.Errorf("ResourceSet %s/%s: listing %ss: %w", rs.GetNamespace(), rs.GetName(), resourceset.ProviderKind, cleanErr(err))
	}
	out := make([]*unstructured.Unstructured, 0, len(items))
	for _, p := range items {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out, nil
}

func cleanErr(err error) error { return fmt.Errorf("%s", cleanError(err)) }

// mapperScope answers from the hub's RESTMapper; a kind it does not know
// (a CRD of the same build) falls back to resourceset.ClusterScoped.
func mapperScope(kc *kube.Client) resourceset.Scope {
	return func(gvk schema.GroupVersionKind) (bool, error) {
		m, err := kc.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return resourceset.ClusterScoped(gvk)
		}
		return m.Scope.Name() == "namespace", nil
	}
}

// dispatchResourceSets dry-runs the generated objects on the hub as the
// Flux Operator applies them (field manager flux-operator, impersonating
// the ResourceSet's spec.serviceAccountName when set) and reports the
// entries of the ResourceSet's live status.inventory it no longer
// generates as deleted; a ResourceSet the build prunes takes everything
// of its inventory with it (the operator's garbage collection).
func (e *engine) dispatchResourceSets(ctx context.Context, st *ksState, objects []*unstructured.Unstructured, exps []*expansion) {
	r := e.runner(ctx, st.cluster)
	if st.cluster.Hub {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			deleted := e.prunedResourceSets(ctx, st, objects)
			e.mu.Lock()
			defer e.mu.Unlock()
			st.rsObjects = append(st.rsObjects, deleted...)
		}()
	}
	e.mu.Lock()
	for _, x := range exps {
		st.resourceSets = append(st.resourceSets, x.result)
	}
	e.mu.Unlock()
	for _, x := range exps {
		if x.result.Error != "" {
			continue
		}
		sa, _, _ := unstructured.NestedString(x.rs.Object, "spec", "serviceAccountName")
		as := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: x.rs.GetNamespace()}, Spec: kustomizev1.KustomizationSpec{ServiceAccountName: sa}}
		base, err := r.clientsFor(ctx, e.f, fleet.Object{Kind: kustomizev1.KustomizationKind, Kustomization: as})
		if err != nil {
			e.setResourceSetError(st, x, err.Error())
			continue
		}
		cc := *base
		cc.rm = ssa.NewResourceManager(cc.live, nil, operatorOwner)
		cc.owner = operatorOwner.Field
		diffOpts := ssa.DiffOptions{
			Exclusions:    map[string]string{resourceset.ReconcileAnnotation: "disabled"},
			ForceSelector: map[string]string{operatorForce: "enabled"},
		}
		crds, namespaces := crdKinds(x.objects), namespaceNames(x.objects)
		e.progress(r, 0, len(x.objects))
		e.diffEach(r, x.objects, func(obj *unstructured.Unstructured) ObjectResult {
			return e.diffGenerated(ctx, st, &cc, x, obj, diffOpts, crds, namespaces)
		}, func(out []ObjectResult) {
			deleted := e.resourceSetDeletions(ctx, st, &cc, x)
			e.mu.Lock()
			defer e.mu.Unlock()
			st.rsObjects = append(st.rsObjects, append(out, deleted...)...)
		})
	}
}

func (e *engine) setResourceSetError(st *ksState, x *expansion, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range st.resourceSets {
		if st.resourceSets[i].ID() == x.result.ID() {
			st.resourceSets[i].Error = msg
		}
	}
}

// diffGenerated is diffObject for a generated object; a live object the
// operator is told to leave alone (fluxcd.controlplane.io/reconcile:
// disabled) is skipped.
func (e *engine) diffGenerated(ctx context.Context, st *ksState, cc *clusterClients, x *expansion, obj *unstructured.Unstructured, opts ssa.DiffOptions, crds map[schema.GroupKind]bool, namespaces map[string]bool) ObjectResult {
	rsID := x.rs.GetNamespace() + "/" + x.rs.GetName()
	if live, err := cc.live.Lookup(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName()); err == nil && live != nil &&
		live.GetAnnotations()[resourceset.ReconcileAnnotation] == "disabled" {
		return ObjectResult{Cluster: st.cluster.Name, Kustomization: fleet.ID(st.ks), ResourceSet: rsID,
			APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName(),
			Action: ActionSkipped, Reason: resourceset.ReconcileAnnotation + ": disabled on the live object"}
	}
	or := e.diffObject(ctx, st, cc, obj, opts, crds, namespaces)
	or.ResourceSet = rsID
	return or
}

// prunedResourceSets: a ResourceSet of the Kustomization's live inventory
// that the build no longer has is pruned by kustomize-controller (when the
// Kustomization prunes), and the operator then deletes everything of the
// ResourceSet's own inventory.
func (e *engine) prunedResourceSets(ctx context.Context, st *ksState, objects []*unstructured.Unstructured) []ObjectResult {
	live, ok := e.liveKustomization(fleet.ID(st.ks))
	if !ok || !st.ks.Spec.Prune || live.Status.Inventory == nil {
		return nil
	}
	keep := map[string]bool{}
	for _, o := range objects {
		keep[object.UnstructuredToObjMetadata(o).String()] = true
	}
	var out []ObjectResult
	for _, entry := range live.Status.Inventory.Entries {
		om, err := object.ParseObjMetadata(entry.ID)
		if err != nil || keep[entry.ID] || om.GroupKind != resourceSetGVK.GroupKind() {
			continue
		}
		cc, err := e.runner(ctx, st.cluster).clientsFor(ctx, e.f, fleet.Object{Kind: kustomizev1.KustomizationKind, Kustomization: &kustomizev1.Kustomization{}})
		if err != nil {
			return nil // the Kustomization's own dispatch reports the cluster
		}
		rs, err := cc.live.Lookup(ctx, resourceSetGVK, om.Namespace, om.Name)
		if err != nil || rs == nil {
			continue
		}
		out = append(out, e.inventoryDeletions(ctx, st, cc, rs, nil)...)
	}
	return out
}

// resourceSetDeletions reports the live ResourceSet's inventory entries it
// no longer generates; the operator deletes them unless annotated
// fluxcd.controlplane.io/prune: disabled.
func (e *engine) resourceSetDeletions(ctx context.Context, st *ksState, cc *clusterClients, x *expansion) []ObjectResult {
	live, err := cc.live.Lookup(ctx, resourceSetGVK, x.rs.GetNamespace(), x.rs.GetName())
	if err != nil || live == nil {
		return nil
	}
	return e.inventoryDeletions(ctx, st, cc, live, x.objects)
}

// inventoryDeletions reports the entries of a live ResourceSet's
// status.inventory that are not among objects, and still exist.
func (e *engine) inventoryDeletions(ctx context.Context, st *ksState, cc *clusterClients, live *unstructured.Unstructured, objects []*unstructured.Unstructured) []ObjectResult {
	rsID := live.GetNamespace() + "/" + live.GetName()
	entries, _, _ := unstructured.NestedSlice(live.Object, "status", "inventory", "entries")
	keep := map[string]bool{}
	for _, o := range objects {
		keep[object.UnstructuredToObjMetadata(o).String()] = true
	}
	var out []ObjectResult
	for _, raw := range entries {
		entry, _ := raw.(map[string]any)
		id, _ := entry["id"].(string)
		version, _ := entry["v"].(string)
		if keep[id] {
			continue
		}
		om, err := object.ParseObjMetadata(id)
		if err != nil {
			continue
		}
		gvk := schema.GroupVersionKind{Group: om.GroupKind.Group, Version: version, Kind: om.GroupKind.Kind}
		or := ObjectResult{Cluster: st.cluster.Name, Kustomization: fleet.ID(st.ks), ResourceSet: rsID,
			APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Namespace: om.Namespace, Name: om.Name, Action: ActionDeleted}
		obj, err := cc.live.Lookup(ctx, gvk, om.Namespace, om.Name)
		switch {
		case err != nil:
			or.Action, or.Error = ActionError, cleanError(err)
		case obj == nil:
			continue // already gone
		case obj.GetAnnotations()[resourceset.PruneAnnotation] == "disabled":
			continue // the operator keeps it
		default:
			or.Diff = objectDiff(obj, nil)
		}
		out = append(out, or)
	}
	return out
}

// unmetDependencies checks spec.dependsOn against the live hub as the
// operator does: the object must exist and, with ready: true, have a Ready
// condition True (a readyExpr is not evaluated: the entry says so). A
// namespaced kind without a namespace is looked up in the ResourceSet's.
func unmetDependencies(ctx context.Context, cc *clusterClients, rs *unstructured.Unstructured, deps []resourceset.Dependency) []string {
	var out []string
	scope := mapperScope(cc.kube)
	for _, d := range deps {
		ns := d.Namespace
		gv, err := schema.ParseGroupVersion(d.APIVersion)
		if err != nil {
			out = append(out, fmt.Sprintf("%s %s: bad apiVersion %q", d.Kind, d.Name, d.APIVersion))
			continue
		}
		if namespaced, _ := scope(gv.WithKind(d.Kind)); ns == "" && namespaced {
			ns = rs.GetNamespace()
		}
		ref := d.Kind + "/" + d.Name
		if ns != "" {
			ref = d.Kind + "/" + ns + "/" + d.Name
		}
		obj, err := cc.live.Lookup(ctx, gv.WithKind(d.Kind), ns, d.Name)
		switch {
		case err != nil && kube.IsNoMatch(err):
			out = append(out, ref+": no such kind in the hub")
		case err != nil:
			out = append(out, ref+": "+cleanError(err))
		case obj == nil:
			out = append(out, ref+": not found")
		case d.Ready && d.ReadyExpr != "":
			out = append(out, ref+": readyExpr not evaluated by kubectl c5c3")
		case d.Ready && !readyTrue(obj):
			out = append(out, ref+": not Ready")
		}
	}
	return out
}

func readyTrue(obj *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			return m["status"] == "True"
		}
	}
	return false
}

// hasResourceSet reports whether the Kustomization's build has a
// ResourceSet (its block is printed even when nothing changes).
func hasResourceSet(r *Result, k KustomizationResult) bool {
	for _, s := range r.ResourceSets {
		if s.Cluster == k.Cluster && s.Kustomization == k.ID() {
			return true
		}
	}
	return false
}

// writeResourceSet prints a ResourceSet's line: its inputs, providers and
// generated objects, what it waits for, or why it could not be expanded.
func writeResourceSet(b *strings.Builder, s ResourceSetResult, p printers.Palette) {
	fmt.Fprintf(b, "%s", p.Bold("ResourceSet "+s.ID()))
	if s.Error != "" {
		fmt.Fprintf(b, " %s %s\n", p.Red("✗ error:"), s.Error)
		return
	}
	fmt.Fprintf(b, ": %d input sets", s.Inputs)
	if len(s.Providers) > 0 {
		fmt.Fprintf(b, " (providers %s)", strings.Join(s.Providers, ", "))
	}
	fmt.Fprintf(b, " → %d objects", s.Generated)
	if s.New {
		b.WriteString(", new")
	}
	b.WriteString("\n")
	for _, w := range s.Waiting {
		fmt.Fprintf(b, "  %s %s\n", p.Yellow("waits for"), w)
	}
}
