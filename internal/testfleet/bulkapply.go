package testfleet

import (
	"context"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa/utils"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// applyConcurrently applies objects to target as kustomize-controller's
// apply sends each of them — a server-side apply patch forced by its field
// manager — n at a time, cluster definitions (Namespaces, CRDs) first, and
// returns the inventory of what it applied. Unlike ssa.ApplyAllStaged it
// neither reads nor dry-runs the objects first, and applies them
// concurrently instead of one by one: it bulk-loads the benchmark fleets
// (SampleOptions.ApplyConcurrency), where every object is new or changes
// its owner labels.
func applyConcurrently(ctx context.Context, target *Cluster, objects []*unstructured.Unstructured, n int) (*kustomizev1.ResourceInventory, error) {
	var defs, rest []*unstructured.Unstructured
	for _, o := range objects {
		if utils.IsClusterDefinition(o) {
			defs = append(defs, o)
		} else {
			rest = append(rest, o)
		}
	}
	inv := &kustomizev1.ResourceInventory{}
	for _, stage := range [][]*unstructured.Unstructured{defs, rest} {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(n)
		for _, o := range stage {
			g.Go(func() error {
				if err := target.Client.Apply(gctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), client.ForceOwnership, client.FieldOwner(kustomizeOwner.Field)); err != nil {
					return fmt.Errorf("applying %s to %s: %w", utils.FmtUnstructured(o), target.Name, err)
				}
				return nil
			})
			inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{
				ID:      object.UnstructuredToObjMetadata(o).String(),
				Version: o.GroupVersionKind().Version,
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	return inv, nil
}
