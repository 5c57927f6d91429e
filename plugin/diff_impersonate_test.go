package plugin

import (
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestDiffServiceAccount: a Kustomization with spec.serviceAccountName is
// dry-run as that service account, as Flux applies it — on the hub as on a
// spoke. Without RBAC every object of it fails with an error naming the
// service account (exit 2), the other Kustomizations are still diffed; with
// get and patch (no list: Flux needs no more) it diffs as before.
func TestDiffServiceAccount(t *testing.T) {
	t.Parallel()
	s, flags := loadSample(t, testfleet.SampleOptions{})
	c := ctx(t)
	args := diffArgs(s, flags, "-o", "json", "--verify-unchanged")
	base := map[string]diff.Counts{}
	r := run(t, args...)
	if r.code != 0 {
		t.Fatalf("baseline: exit %d\n%s", r.code, r.stderr)
	}
	for _, k := range decodeDiff(t, r.stdout).Kustomizations {
		base[k.Name] = k.Counts
	}
	if base["management-apps"].Unchanged == 0 || base["control-plane-infrastructure"].Unchanged == 0 {
		t.Fatalf("baseline diffs nothing: %+v", base)
	}

	fixture.EditFile(t, s.RepoDir, "clusters/management/management-apps.yaml", "  prune: true\n", "  prune: true\n  serviceAccountName: deployer\n")
	fixture.EditFile(t, s.RepoDir, "clusters/management/control-plane-infrastructure.yaml", "  prune: true\n", "  prune: true\n  serviceAccountName: deployer\n")
	sa := s.Namespace + "/deployer"
	user := "system:serviceaccount:" + s.Namespace + ":deployer"

	check := func(step string, denied map[string]bool) {
		t.Helper()
		r := run(t, args...)
		res := decodeDiff(t, r.stdout)
		want := 1 // the parent's build changes the two Kustomizations
		if len(denied) > 0 {
			want = 2
		}
		if r.code != want {
			t.Fatalf("%s: exit %d, want %d\n%s", step, r.code, want, r.stderr)
		}
		errs := map[string][]string{}
		for _, o := range res.Objects {
			if o.Error != "" {
				errs[o.Kustomization] = append(errs[o.Kustomization], o.Error)
			}
		}
		for _, k := range res.Kustomizations {
			b := base[k.Name]
			if k.Name == "flux-system" { // applies the two edited Kustomizations
				b.Unchanged, b.Drifted = b.Unchanged-2, b.Drifted+2
			}
			switch {
			case denied[k.Name]:
				what := step + ": " + k.Name
				expect.Equal(t, what+": error", k.Error, "")
				expect.Equal(t, what+": objects refused", k.Counts.Errors, b.Unchanged)
				expect.Equal(t, what+": objects unchanged", k.Counts.Unchanged, 0)
				for _, e := range errs[k.ID()] {
					expect.Contains(t, what+": object error", e, "as ServiceAccount "+sa+" (spec.serviceAccountName)", user, "forbidden")
				}
			case k.Error != "" || k.Counts != b:
				t.Errorf("%s: %s counts %+v error %q, want %+v as before", step, k.Name, k.Counts, k.Error, b)
			}
		}
	}
	check("no RBAC", map[string]bool{"management-apps": true, "control-plane-infrastructure": true})

	grant := func(cl client.Client) {
		t.Helper()
		name := s.Namespace + "-deployer"
		expect.NoError(t, client.IgnoreAlreadyExists(cl.Create(c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.Namespace}})))
		expect.NoError(t, cl.Create(c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "deployer"}}))
		expect.NoError(t, cl.Create(c, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "patch", "escalate", "bind"}}}}))
		expect.NoError(t, cl.Create(c, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: s.Namespace, Name: "deployer"}}}))
	}
	// Rights on the hub only: the hub Kustomization diffs as before, the
	// spoke one is still refused — by the spoke.
	grant(s.Fleet.Hub.Client)
	check("RBAC on the hub", map[string]bool{"control-plane-infrastructure": true})
	grant(s.Fleet.Spokes["control-plane"].Client)
	check("RBAC on both", nil)
}
