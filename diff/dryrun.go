package diff

import (
	"context"
	"fmt"
	"github.com/fluxcd/pkg/apis/kustomize"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// fieldOwner is kustomize-controller's SSA field manager.
var fieldOwner = ssa.Owner{Field: "kustomize-controller", Group: kustomizev1.GroupVersion.Group}

var (
	reconcileKey = kustomizev1.GroupVersion.Group + "/reconcile"
	ssaKey       = kustomizev1.GroupVersion.Group + "/ssa"
	forceKey     = kustomizev1.GroupVersion.Group + "/force"
	pruneKey     = kustomizev1.GroupVersion.Group + "/prune"
)

func ignoreRules(ks *kustomizev1.Kustomization) []jsondiff.IgnoreRule {
	var rules []jsondiff.IgnoreRule
	for _, rule := range ks.Spec.Ignore {
		rules = append(rules, ignoreRule(rule.Paths, rule.Target))
	}
	return rules
}

// ignoreRule is one Flux ignore rule (a Kustomization's spec.ignore, a
// HelmRelease's driftDetection.ignore) as ssa's jsondiff takes it.
func ignoreRule(paths []string, t *kustomize.Selector) jsondiff.IgnoreRule {
	jr := jsondiff.IgnoreRule{Paths: paths}
	if t != nil {
		jr.Selector = &jsondiff.Selector{Group: t.Group, Version: t.Version, Kind: t.Kind, Name: t.Name, Namespace: t.Namespace,
			AnnotationSelector: t.AnnotationSelector, LabelSelector: t.LabelSelector}
	}
	return jr
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

func (e *engine) diffObject(ctx context.Context, st *ksState, cc *clusterClients, obj *unstructured.Unstructured, opts ssa.DiffOptions, crds map[schema.GroupKind]bool, namespaces map[string]bool) (or ObjectResult) {
	or = ObjectResult{
		Cluster: st.cluster.Name, Kustomization: fleet.ID(st.ks),
		APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName(),
	}
	if form := obj.GetAnnotations()[sopsMarker]; form != "" {
		or.Action, or.Reason = ActionSkipped, form
		return or
	}
	if obj.GetAnnotations()[decryptedMarker] != "" {
		// Decrypted in memory: the server sees it without the marker, the
		// report never shows its content (Secrets are masked as always).
		obj = obj.DeepCopy()
		a := obj.GetAnnotations()
		delete(a, decryptedMarker)
		obj.SetAnnotations(a)
		defer func() {
			if obj.GetKind() != "Secret" && or.Diff != "" {
				or.Diff, or.images = "", nil
				or.Reason = strings.TrimPrefix(or.Reason+"; decrypted SOPS data: diff not shown", "; ")
			}
		}()
	}
	if !e.opts.VerifyUnchanged && !hasFluxAnnotations(obj) && !opts.Force {
		live, err := cc.live.Lookup(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
		if err == nil && unchangedLocally(obj, live, cc.fieldManager()) {
			or.Action = ActionUnchanged
			return or
		}
	}
	entry, live, merged, err := cc.rm.Diff(ctx, obj, opts)
	if err != nil {
		gk := obj.GroupVersionKind().GroupKind()
		if kube.IsNoMatch(err) && crds[gk] {
			or.Action, or.Reason = ActionCreated, "its CustomResourceDefinition is created by the same build"
			or.setDiff(nil, obj)
			return or
		}
		if ns := obj.GetNamespace(); ns != "" && namespaces[ns] && strings.Contains(err.Error(), `namespaces "`+ns+`" not found`) {
			or.Action, or.Reason = ActionCreated, "its Namespace is created by the same build"
			or.setDiff(nil, obj)
			return or
		}
		or.Action = ActionError
		if kube.IsNoMatch(err) {
			or.Error = fmt.Sprintf("no kind %s in %s on cluster %s: install its CRD first", gk.Kind, obj.GetAPIVersion(), st.cluster.Name)
		} else {
			or.Error = objectError(err, cc)
		}
		return or
	}
	switch entry.Action {
	case ssa.CreatedAction:
		or.Action = ActionCreated
		or.setDiff(nil, obj)
		if cur, _ := cc.live.Lookup(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName()); cur != nil {
			or.Recreate, or.Reason = true, recreateReason
			or.observe(cur, obj)
		}
	case ssa.ConfiguredAction:
		or.Action = ActionDrifted
		or.setDiff(live, merged)
		cur, _ := cc.live.Lookup(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
		or.OtherManagers = otherOwners(cur, live, merged, cc.fieldManager())
	case ssa.SkippedAction:
		or.Action, or.Reason = ActionSkipped, skipReason(obj)
	default:
		or.Action = ActionUnchanged
	}
	return or
}

// recreateReason explains a created object that exists already.
const recreateReason = "exists, but an immutable field changes and force is on: it is deleted and created again"

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
