package status

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// accessTarget is one kind in one namespace of an inventory.
type accessTarget struct{ group, kind, namespace string }

func (t accessTarget) String() string {
	gk := t.kind
	if t.group != "" {
		gk += "." + t.group
	}
	if t.namespace == "" {
		return gk + " (cluster-scoped)"
	}
	return gk + " in " + t.namespace
}

// inventoryTargets returns the distinct kinds and namespaces of an
// object's inventory, and whether it has one.
func inventoryTargets(o fleet.Object) ([]accessTarget, bool, error) {
	ids := o.Inventory()
	if ids == nil {
		return nil, false, nil
	}
	seen := map[accessTarget]bool{}
	var out []accessTarget
	for _, id := range ids {
		om, err := object.ParseObjMetadata(id)
		if err != nil {
			return nil, true, fmt.Errorf("inventory entry %q: %w", id, err)
		}
		t := accessTarget{group: om.GroupKind.Group, kind: om.GroupKind.Kind, namespace: om.Namespace}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, true, nil
}

// serviceAccountCheck asks the target cluster, impersonating o's
// service account, whether it may patch every kind of o's inventory in
// its namespace (one SelfSubjectAccessReview per kind and namespace).
func serviceAccountCheck(ctx context.Context, f *fleet.Fleet, c *fleet.Cluster, o fleet.Object) AccessCheck {
	sa := o.Meta().GetNamespace() + "/" + o.ServiceAccountName()
	chk := AccessCheck{Check: CheckServiceAccount, Object: o.ID(), ServiceAccount: sa}
	fail := func(format string, a ...any) AccessCheck {
		chk.State = AccessFailed
		chk.Message = fmt.Sprintf("ServiceAccount %s (%s): ", sa, o.ID()) + fmt.Sprintf(format, a...)
		chk.short = "ServiceAccount " + sa + " not checked"
		return chk
	}
	targets, hasInventory, err := inventoryTargets(o)
	if err != nil {
		return fail("%v", err)
	}
	if !hasInventory {
		chk.State = AccessOK
		chk.Message = fmt.Sprintf("ServiceAccount %s (%s): no inventory yet, nothing to check", sa, o.ID())
		chk.short = "ServiceAccount " + sa + ": no inventory"
		return chk
	}
	admin, err := f.Client(ctx, c, "")
	if err != nil {
		return fail("%v", err)
	}
	imp, err := f.ClientFor(ctx, c, o)
	if err != nil {
		return fail("%v", err)
	}
	var denied []string
	for _, t := range targets {
		m, err := admin.Mapper.RESTMapping(schema.GroupKind{Group: t.group, Kind: t.kind})
		if kube.IsNoMatch(err) {
			continue // the kind is gone from the cluster: nothing to patch
		}
		if err != nil {
			return fail("mapping %s: %v", t, err)
		}
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: t.namespace, Verb: "patch", Group: t.group, Resource: m.Resource.Resource},
		}}
		if err := imp.Client.Create(ctx, review); err != nil {
			return fail("cannot ask the cluster as the service account: %v", err)
		}
		if !review.Status.Allowed {
			denied = append(denied, t.String())
		}
	}
	if len(denied) > 0 {
		chk.State = AccessFailed
		chk.Denied = denied
		chk.Message = fmt.Sprintf("ServiceAccount %s (%s) may not patch %s: Flux cannot apply them; grant it patch on these kinds",
			sa, o.ID(), strings.Join(denied, ", "))
		chk.short = "ServiceAccount " + sa + " denied"
		return chk
	}
	chk.State = AccessOK
	chk.Message = fmt.Sprintf("ServiceAccount %s (%s) may patch the %s of its inventory", sa, o.ID(), plural(len(targets), "kind"))
	chk.short = "ServiceAccount " + sa + " may patch"
	return chk
}
