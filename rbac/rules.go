package rbac

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ruleSet gathers rules keyed by API group, resource and verbs; names, when
// any rule of a key has none, are dropped (the rule covers all names).
type ruleSet map[ruleKey]map[string]bool

type ruleKey struct {
	group, resource, verbs string
}

// add allows verbs on group/resource, limited to names when given.
func (s ruleSet) add(group, resource string, verbs []string, names ...string) {
	k := ruleKey{group, resource, strings.Join(verbs, ",")}
	cur, ok := s[k]
	switch {
	case ok && cur == nil:
		return
	case len(names) == 0:
		s[k] = nil
		return
	case !ok:
		cur = map[string]bool{}
		s[k] = cur
	}
	for _, n := range names {
		if n != "" {
			cur[n] = true
		}
	}
}

// rules are the policy rules, one per group, resource and verbs, sorted.
func (s ruleSet) rules() []rbacv1.PolicyRule {
	keys := make([]ruleKey, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.group != b.group {
			return a.group < b.group
		}
		if a.resource != b.resource {
			return a.resource < b.resource
		}
		return a.verbs < b.verbs
	})
	out := make([]rbacv1.PolicyRule, 0, len(keys))
	for _, k := range keys {
		r := rbacv1.PolicyRule{APIGroups: []string{k.group}, Resources: []string{k.resource}, Verbs: strings.Split(k.verbs, ",")}
		for n := range s[k] {
			r.ResourceNames = append(r.ResourceNames, n)
		}
		sort.Strings(r.ResourceNames)
		out = append(out, r)
	}
	return out
}

// byNamespace is a ruleSet per namespace; "" holds cluster-scoped rules.
type byNamespace map[string]ruleSet

func (b byNamespace) in(ns string) ruleSet {
	if b[ns] == nil {
		b[ns] = ruleSet{}
	}
	return b[ns]
}

// namespaces are b's namespaces but "", sorted.
func (b byNamespace) namespaces() []string {
	var out []string
	for ns := range b {
		if ns != "" {
			out = append(out, ns)
		}
	}
	sort.Strings(out)
	return out
}

// dryRunVerbs are what a server-side apply dry-run of an object that
// exists needs, with the LIST that reads the live objects of its kind;
// createVerbs add what the dry-run of an object that does not exist yet
// needs (the apply is authorised as a create).
var (
	dryRunVerbs = []string{"get", "list", "patch"}
	createVerbs = []string{"create", "get", "list", "patch"}
)

// addDryRun allows the dry-run of group/resource, with create when
// create is set; one rule per resource (create's covers the other).
func (s ruleSet) addDryRun(group, resource string, create bool) {
	withCreate := ruleKey{group, resource, strings.Join(createVerbs, ",")}
	if create {
		delete(s, ruleKey{group, resource, strings.Join(dryRunVerbs, ",")})
		s.add(group, resource, createVerbs)
		return
	}
	if _, ok := s[withCreate]; !ok {
		s.add(group, resource, dryRunVerbs)
	}
}

// addInventory allows the dry-run of every kind in inventory entries
// (Flux's "NAMESPACE_NAME_GROUP_KIND" ids) in their namespaces, mapping
// kinds to resources with mapper. Cluster-scoped kinds go to "".
func addInventory(into byNamespace, mapper meta.RESTMapper, ids []string, namespaced bool) error {
	for _, id := range ids {
		om, err := object.ParseObjMetadata(id)
		if err != nil {
			return fmt.Errorf("inventory entry %q: %w", id, err)
		}
		m, err := mapper.RESTMapping(schema.GroupKind{Group: om.GroupKind.Group, Kind: om.GroupKind.Kind})
		if err != nil {
			return fmt.Errorf("inventory entry %q: %w", id, err)
		}
		ns := om.Namespace
		if m.Scope.Name() != meta.RESTScopeNameNamespace || !namespaced {
			ns = ""
		}
		into.in(ns).addDryRun(m.Resource.Group, m.Resource.Resource, false)
	}
	return nil
}
