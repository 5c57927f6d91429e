package rbac

import (
	"context"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// SpokeName is the name of the roles and bindings made for a spoke's
// kubeconfig user.
const SpokeName = "c5c3-diff"

// Spoke is the RBAC the kubeconfig user of spoke c needs there for diff,
// bound to that user (asked of the spoke with a SelfSubjectReview): a
// ClusterRole and ClusterRoleBinding with get and list on the Flux objects
// and sources of HelmReleases in spoke builds, the dry-run (get, list,
// patch) of the cluster-scoped kinds applied to the spoke and impersonation
// of the spec.serviceAccountName of each Kustomization and HelmRelease;
// then a Role and RoleBinding per namespace with the dry-run of the
// namespaced kinds applied there — the inventories of the Kustomizations
// and of the HelmReleases (status.inventory, what helm-controller applied
// for the release) — and get, list on the Secrets of the HelmReleases'
// storage namespaces (Helm's release records, which Helm lists by label).
// A Secret anywhere else is not readable.
func Spoke(ctx context.Context, f *fleet.Fleet, c *fleet.Cluster, opts Options) ([]client.Object, error) {
	if c.Hub {
		return nil, fmt.Errorf("cluster %s is the hub: use rbac diff without --cluster", c.Name)
	}
	cl, err := f.Client(ctx, c, "")
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	user, err := kube.WhoAmI(ctx, cl.Config)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: the user of its kubeconfig: %w", c.Name, err)
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
				if err := addInventory(rules, cl.Mapper, ids, true); err != nil {
					return nil, fmt.Errorf("Kustomization %s/%s on %s: %w", ks.Namespace, ks.Name, c.Name, err)
				}
			}
			continue
		}
		hr := o.HelmRelease
		if sa := hr.Spec.ServiceAccountName; sa != "" {
			all.add("", "serviceaccounts", []string{"impersonate"}, sa)
		}
		if err := releaseRules(rules, cl, hr); err != nil {
			return nil, fmt.Errorf("HelmRelease %s/%s on %s: %w", hr.Namespace, hr.Name, c.Name, err)
		}
	}
	if opts.Checkout != nil {
		if err := checkoutSpokeRules(c, cl.Mapper, opts.Checkout, rules); err != nil {
			return nil, err
		}
	}
	if err := dropMissingNamespaces(ctx, cl.Client, rules); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	return objects(rules, SpokeName, subjectOf(user)), nil
}

// releaseRules adds what diffing the HelmRelease hr needs on its target
// cl: get and list on the Secrets of its storage namespace (Helm's
// release records, listed by label) and the dry-run of the kinds
// helm-controller applied for it (status.inventory) in their namespaces.
func releaseRules(rules byNamespace, cl *kube.Client, hr *helmv2.HelmRelease) error {
	rules.in(hr.GetStorageNamespace()).add("", "secrets", []string{"get", "list"})
	inv := hr.Status.Inventory
	if inv == nil {
		return nil
	}
	ids := make([]string, 0, len(inv.Entries))
	for _, e := range inv.Entries {
		ids = append(ids, e.ID)
	}
	return addInventory(rules, cl.Mapper, ids, true)
}

// subjectOf is the RBAC subject of user: a service account for
// "system:serviceaccount:NAMESPACE:NAME", else the user.
func subjectOf(user string) rbacv1.Subject {
	if ns, name, ok := kube.ServiceAccountOf(user); ok {
		return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
	}
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}
}
