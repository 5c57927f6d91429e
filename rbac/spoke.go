package rbac

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// SpokeName is the name of the ClusterRole made for a spoke's kubeconfig
// user.
const SpokeName = "c5c3-diff"

// Spoke is the ClusterRole the kubeconfig user of spoke c needs there for
// diff: the dry-run (get, list, patch) of the kinds in the inventories of
// the Kustomizations applied to it; for its HelmReleases, Helm's storage
// Secrets in their storage namespaces (get, list) and the Flux objects
// and sources of HelmReleases in spoke builds (get, list); impersonation of
// the spec.serviceAccountName of each. The kinds a chart renders are not in
// any inventory: a HelmRelease's are taken from the same inventory rules
// when its Kustomization lists them, else they must be added.
func Spoke(ctx context.Context, f *fleet.Fleet, c *fleet.Cluster) ([]client.Object, error) {
	if c.Hub {
		return nil, fmt.Errorf("cluster %s is the hub: use rbac diff without --cluster", c.Name)
	}
	cl, err := f.Client(ctx, c, "")
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	rules := byNamespace{}
	all := rules.in("")
	for _, r := range fluxReads[1:3] {
		for _, res := range r.resources {
			all.add(r.group, res, []string{"get", "list"})
		}
	}
	for _, o := range c.Objects {
		if ks := o.Kustomization; ks != nil {
			if sa := ks.Spec.ServiceAccountName; sa != "" {
				all.add("", "serviceaccounts", []string{"impersonate"}, sa)
			}
			if inv := ks.Status.Inventory; inv != nil {
				ids := make([]string, 0, len(inv.Entries))
				for _, e := range inv.Entries {
					ids = append(ids, e.ID)
				}
				if err := addInventory(rules, cl.Mapper, ids, false); err != nil {
					return nil, fmt.Errorf("Kustomization %s/%s on %s: %w", ks.Namespace, ks.Name, c.Name, err)
				}
			}
			continue
		}
		hr := o.HelmRelease
		if sa := hr.Spec.ServiceAccountName; sa != "" {
			all.add("", "serviceaccounts", []string{"impersonate"}, sa)
		}
		all.add("", "secrets", []string{"get", "list"})
	}
	role := &rbacv1.ClusterRole{ObjectMeta: objectMeta(SpokeName, ""), Rules: all.rules()}
	setTypeMeta(role)
	return []client.Object{role}, nil
}
