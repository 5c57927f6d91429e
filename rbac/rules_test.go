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
