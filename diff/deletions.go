package diff

import (
	"context"

	"github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// deletions reports the live inventory entries the new build no longer has,
// when the Kustomization prunes.
func (e *engine) deletions(ctx context.Context, st *ksState, cc *clusterClients, objects []*unstructured.Unstructured) []ObjectResult {
	live, ok := e.liveKustomization(fleet.ID(st.ks))
	if !ok || !st.ks.Spec.Prune || live.Status.Inventory == nil {
		return nil
	}
	keep := map[string]bool{}
	for _, o := range objects {
		keep[object.UnstructuredToObjMetadata(o).String()] = true
	}
	renamed := sopsGenerated(objects)
	var out []ObjectResult
	for _, entry := range live.Status.Inventory.Entries {
		if keep[entry.ID] {
			continue
		}
		om, err := object.ParseObjMetadata(entry.ID)
		if err != nil {
			continue
		}
		if m := generatedName.FindStringSubmatch(om.Name); m != nil && renamed[om.GroupKind.Kind+"/"+om.Namespace+"/"+m[1]] {
			continue // built from SOPS ciphertext under another hash: reported skipped
		}
		gvk := schema.GroupVersionKind{Group: om.GroupKind.Group, Version: entry.Version, Kind: om.GroupKind.Kind}
		or := ObjectResult{Cluster: st.cluster.Name, Kustomization: fleet.ID(st.ks), APIVersion: gvk.GroupVersion().String(),
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
			or.setDiff(obj, nil)
		}
		out = append(out, or)
	}
	return out
}
