package diff

import (
	"context"
	"errors"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/helmrender"
)

// helmFieldOwner is helm-controller's field manager, as its drift
// detection dry-runs with (internal/action/diff.go).
var helmFieldOwner = ssa.Owner{Field: helmrender.FieldManager, Group: helmv2.GroupVersion.Group}

// defaultNamespace puts namespaced objects without a namespace into the
// release namespace, as Helm does. The scope is the mapper's (the target's
// discovery); a kind it does not know (a CRD of the same chart), or every
// kind without a mapper (--no-live), is namespaced unless it is one of
// the built-in cluster-scoped kinds, like most custom resources.
func defaultNamespace(mapper meta.RESTMapper, o *unstructured.Unstructured, ns string) {
	if o.GetNamespace() != "" {
		return
	}
	var m *meta.RESTMapping
	err := errNoMapper
	if mapper != nil {
		m, err = mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
	}
	if err == nil && m.Scope.Name() == meta.RESTScopeNameNamespace {
		o.SetNamespace(ns)
		return
	}
	if err != nil && !clusterScoped[o.GroupVersionKind().GroupKind()] {
		o.SetNamespace(ns)
	}
}

var errNoMapper = errors.New("no RESTMapper")

// clusterScoped are the built-in cluster-scoped kinds a chart commonly
// renders.
var clusterScoped = map[schema.GroupKind]bool{
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: true,
	{Kind: "Namespace"}:        true,
	{Kind: "PersistentVolume"}: true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                       true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                true,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                                 true,
	{Group: "storage.k8s.io", Kind: "CSIDriver"}:                                    true,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                             true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}: true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:   true,
	{Group: "apiregistration.k8s.io", Kind: "APIService"}:                           true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:                              true,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                                    true,
}

func helmIgnoreRules(hr *helmv2.HelmRelease) []jsondiff.IgnoreRule {
	var rules []jsondiff.IgnoreRule
	for _, rule := range hr.GetDriftDetection().Ignore {
		rules = append(rules, ignoreRule(rule.Paths, rule.Target))
	}
	return rules
}

func (e *engine) diffHelmObject(ctx context.Context, cluster string, st *ksState, hr *helmv2.HelmRelease, cc *clusterClients, rm *ssa.ResourceManager,
	obj *unstructured.Unstructured, opts ssa.DiffOptions, crds map[schema.GroupKind]bool, createOnly bool) ObjectResult {
	or := ObjectResult{Cluster: cluster, Kustomization: fleet.ID(st.ks), HelmRelease: fleet.ID(hr),
		APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	if createOnly {
		live, err := cc.live.Lookup(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
		if err == nil && live != nil {
			or.Action = ActionUnchanged // crds: Create without SSA leaves existing CRDs alone
			return or
		}
	}
	if e.helmUnchangedLocally(ctx, cc, obj) {
		or.Action = ActionUnchanged
		return or
	}
	entry, live, merged, err := rm.Diff(ctx, obj, opts)
	if err != nil {
		gk := obj.GroupVersionKind().GroupKind()
		if crds[gk] {
			or.Action, or.Reason = ActionCreated, "its CustomResourceDefinition is installed by the same chart"
			or.setDiff(nil, obj)
			return or
		}
		if ns := obj.GetNamespace(); ns != "" && hr.GetInstall().CreateNamespace && hr.Spec.TargetNamespace == ns &&
			strings.Contains(err.Error(), `namespaces "`+ns+`" not found`) {
			or.Action, or.Reason = ActionCreated, "its Namespace is created by helm-controller (install.createNamespace)"
			or.setDiff(nil, obj)
			return or
		}
		or.Action, or.Error = ActionError, objectError(err, cc)
		return or
	}
	switch entry.Action {
	case ssa.CreatedAction:
		or.Action = ActionCreated
		or.setDiff(nil, obj)
	case ssa.ConfiguredAction:
		or.Action = ActionDrifted
		or.setDiff(live, merged)
		cur, _ := cc.live.Lookup(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
		or.OtherManagers = otherOwners(cur, live, merged, helmFieldOwner.Field)
	case ssa.SkippedAction:
		or.Action, or.Reason = ActionSkipped, helmv2.DriftDetectionMetadataKey+": "+helmv2.DriftDetectionDisabledValue
	default:
		or.Action = ActionUnchanged
	}
	return or
}

// helmDeletions reports the objects of the deployed release that the new
// render no longer has and that still exist: Helm deletes them on upgrade.
// The deployed objects are the live HelmRelease's status.inventory when
// helm-controller wrote one (v1.5+, Flux 2.8: the release manifest's
// objects with their namespaces complemented, plus the chart's crds/
// CRDs, which Helm never deletes), else the manifest in Helm storage.
func (e *engine) helmDeletions(ctx context.Context, cluster string, st *ksState, hr *helmv2.HelmRelease, cc *clusterClients,
	cur *helmrender.Current, rendered []*unstructured.Unstructured) []ObjectResult {
	key := objectKey
	keep := map[string]bool{}
	for _, o := range rendered {
		keep[key(o)] = true
	}
	manifest := map[string]*unstructured.Unstructured{}
	for _, o := range cur.Objects {
		defaultNamespace(cc.kube.Mapper, o, cur.Namespace)
		manifest[key(o)] = o
	}
	deployed := cur.Objects
	if hr.Status.Inventory != nil {
		deployed = inventoryObjects(hr.Status.Inventory, manifest)
	}
	var out []ObjectResult
	for _, o := range deployed {
		if keep[key(o)] || o.GetAnnotations()["helm.sh/resource-policy"] == "keep" {
			continue
		}
		or := ObjectResult{Cluster: cluster, Kustomization: fleet.ID(st.ks), HelmRelease: fleet.ID(hr), APIVersion: o.GetAPIVersion(),
			Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(), Action: ActionDeleted}
		live, err := cc.live.Lookup(ctx, o.GroupVersionKind(), o.GetNamespace(), o.GetName())
		switch {
		case err != nil:
			or.Action, or.Error = ActionError, cleanError(err)
		case live == nil:
			continue
		default:
			or.setDiff(live, nil)
		}
		out = append(out, or)
	}
	return out
}

// inventoryObjects are the objects a HelmRelease's status.inventory lists,
// as references (apiVersion, kind, namespace, name); the manifest's own
// object where the release manifest has it (for its annotations). A CRD
// the manifest does not have came from the chart's crds/ directory, which
// Helm never deletes: it is left out. Entries that do not parse are
// skipped.
func inventoryObjects(inv *helmv2.ResourceInventory, manifest map[string]*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, e := range inv.Entries {
		id, err := object.ParseObjMetadata(e.ID)
		if err != nil {
			continue
		}
		o := &unstructured.Unstructured{}
		o.SetGroupVersionKind(id.GroupKind.WithVersion(e.Version))
		o.SetNamespace(id.Namespace)
		o.SetName(id.Name)
		if m := manifest[objectKey(o)]; m != nil {
			out = append(out, m)
			continue
		}
		if id.GroupKind == (schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// objectKey is "group.Kind/namespace/name", the identity of an object on
// one cluster whatever its API version.
func objectKey(o *unstructured.Unstructured) string {
	return o.GroupVersionKind().GroupKind().String() + "/" + o.GetNamespace() + "/" + o.GetName()
}
