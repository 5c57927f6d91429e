package kube

import "testing"

// TestServiceAccountOf: only system:serviceaccount:NS:NAME is a service
// account; other users and malformed names are not.
func TestServiceAccountOf(t *testing.T) {
	for user, want := range map[string]string{
		"system:serviceaccount:openstack:c5c3-diff": "openstack/c5c3-diff",
		"system:serviceaccount:openstack":           "",
		"system:serviceaccount::name":               "",
		"system:serviceaccount:ns:a:b":              "",
		"admin":                                     "",
		"system:node:worker-1":                      "",
	} {
		ns, name, ok := ServiceAccountOf(user)
		got := ""
		if ok {
			got = ns + "/" + name
		}
		if got != want {
			t.Errorf("ServiceAccountOf(%q) = %q, want %q", user, got, want)
		}
	}
}
