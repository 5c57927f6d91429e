package rbac

import (
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// TestRuleSet: names gather per group, resource and verbs; a rule without
// names covers every name and absorbs named ones; output is sorted.
func TestRuleSet(t *testing.T) {
	s := ruleSet{}
	s.add("", "secrets", []string{"get"}, "b-kubeconfig")
	s.add("", "secrets", []string{"get"}, "a-kubeconfig", "b-kubeconfig")
	s.add("apps", "deployments", dryRunVerbs)
	s.add("", "configmaps", []string{"get"}, "vars")
	s.add("", "configmaps", []string{"get"})
	s.add("", "configmaps", []string{"get"}, "other")
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"a-kubeconfig", "b-kubeconfig"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "patch"}},
	}
	if got := s.rules(); !reflect.DeepEqual(got, want) {
		t.Fatalf("rules\n%+v\nwant\n%+v", got, want)
	}
}

// TestAddDryRun: the dry-run of a resource is one rule, with create once
// any object of the checkout may be new, whichever was added first.
func TestAddDryRun(t *testing.T) {
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create", "get", "list", "patch"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "patch"}},
	}
	for _, createFirst := range []bool{true, false} {
		s := ruleSet{}
		if createFirst {
			s.addDryRun("", "configmaps", true)
		}
		s.addDryRun("", "configmaps", false)
		s.addDryRun("apps", "deployments", false)
		s.addDryRun("", "configmaps", true)
		if got := s.rules(); !reflect.DeepEqual(got, want) {
			t.Errorf("create first %v: rules\n%+v\nwant\n%+v", createFirst, got, want)
		}
	}
}
