package plugin

import (
	"context"
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/status"
)

// TestE2EController runs the real Flux kustomize-controller (built by
// `make flux-bins`) against the test fleet and checks that what
// `kubectl c5c3 status` and `kubectl c5c3 diff` read is what Flux writes:
// after a real reconcile, status shows every Kustomization Ready at the
// served revision with the controller's inventory, and diff finds nothing
// to change. An edit in the checkout and a hand edit on a spoke are
// exactly what diff reports; once the edit is published as a new artifact
// and reconciled, status shows the new revision and diff is clean again.
func TestE2EController(t *testing.T) {
	t.Parallel()
	if !testing.Short() {
		if _, err := testfleet.FluxBinDir(); err != nil {
			t.Fatal(err) // before starting the fleet: fail fast
		}
	}
	fl := testfleet.Get(t)
	setup, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	s, err := fl.LoadSampleWithController(setup, testfleet.SampleOptions{Namespace: testfleet.Namespace(t), OwnNamespaces: true})
	if err != nil {
		t.Fatalf("real kustomize-controller: %v", err)
	}
	sns := s.SpokeNamespace
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kustomize-controller log %s (tail):\n%s", s.Controller.LogFile, s.Controller.LogTail(60))
		} else if errs := s.Controller.LogErrors(); len(errs) > 0 {
			t.Logf("kustomize-controller logged %d errors (transient ones are normal):\n%s", len(errs), strings.Join(errs, "\n"))
		}
		if err := s.Close(); err != nil {
			t.Errorf("stopping kustomize-controller: %v", err)
		}
	})
	v, _ := testfleet.ControllerVersion("kustomize-controller")
	t.Logf("real kustomize-controller %s reconciled the sample in %s", v, time.Since(start).Round(time.Millisecond))
	flags := []string{"--kubeconfig", fl.HubKubeconfig, "-n", s.Namespace, "--flux-namespace", s.Namespace, "--color", "never"}

	kss := readyKustomizations(t, s, s.Revision)
	if len(kss) != 9 {
		t.Fatalf("the controller made %d Kustomizations, want 9 (flux-system + 8 from clusters/management)", len(kss))
	}
	// management-tenants uses targetNamespace, namePrefix, commonMetadata,
	// images, patches, components, ignore and force: what the controller
	// applied is what diff just found unchanged. Check a few of its effects.
	hub := fl.Hub.Client
	tenantAPI := &appsv1.Deployment{}
	expect.NoError(t, hub.Get(ctx(t), client.ObjectKey{Namespace: sns("c5c3-tenants"), Name: "c5c3-tenant-api"}, tenantAPI))
	// The rest builds on what management-tenants applied: each check stops the test.
	if img := tenantAPI.Spec.Template.Spec.Containers[0].Image; img != "ghcr.io/c5c3/tenant-api:1.4.2" {
		t.Fatalf("management-tenants' tenant-api: image %s, want ghcr.io/c5c3/tenant-api:1.4.2", img)
	}
	if n := *tenantAPI.Spec.Replicas; n != 2 {
		t.Fatalf("management-tenants' tenant-api: %d replicas, want 2", n)
	}
	if l := tenantAPI.Labels["app.kubernetes.io/part-of"]; l != "c5c3" {
		t.Fatalf("management-tenants' tenant-api: label app.kubernetes.io/part-of %q, want c5c3", l)
	}
	if a := tenantAPI.Annotations["c5c3.cobaltcore.io/owner"]; a != "platform-team" {
		t.Fatalf("management-tenants' tenant-api: annotation c5c3.cobaltcore.io/owner %q, want platform-team", a)
	}
	checkStatusAgainstController(t, s, flags, s.Revision)
	assertNoDrift(t, s, flags, "after the first reconcile")

	// An unpushed edit in the checkout: a new image tag (drifted), a new
	// ConfigMap with a postBuild variable (created) and a PDB dropped from
	// a base (deleted, prune). And a hand edit on the storage spoke.
	repo := s.RepoDir
	fixture.EditFile(t, repo, "clusters/control-plane/apps/kustomization.yaml", `newTag: "2025.1-p1"`, `newTag: "2025.1-p3"`)
	fixture.EditFile(t, repo, "apps/glance/base/kustomization.yaml", "  - pdb.yaml\n", "")
	added := "e2e-" + s.Namespace // other tests share the spokes
	writeFile(t, repo, "clusters/hypervisor/e2e.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+added+"\n  namespace: "+sns("nova-compute")+"\ndata:\n  cluster: \"${cluster_name}\"\n")
	fixture.EditFile(t, repo, "clusters/hypervisor/kustomization.yaml", "  - daemonset.yaml\n", "  - daemonset.yaml\n  - e2e.yaml\n")
	c := ctx(t)
	storage := fl.Spokes["storage"].Client
	cm := &corev1.ConfigMap{}
	expect.NoError(t, storage.Get(c, client.ObjectKey{Namespace: sns("rook-ceph"), Name: "ceph-cluster-config"}, cm))
	cm.Data["pools"] = "images\n"
	expect.NoError(t, storage.Update(c, cm, client.FieldOwner("e2e-hand-edit")))
	// On the hub: a component's ConfigMap changes in git; one Deployment is
	// scaled by hand (drift), another where spec.ignore covers replicas (no
	// drift).
	fixture.EditFile(t, repo, "apps/tenants/components/audit/configmap.yaml", "level: Metadata", "level: RequestResponse")
	scale(t, hub, sns("c5c3-tenants"), "c5c3-tenant-api", 3)
	scale(t, hub, sns("c5c3-tenants"), "c5c3-tenant-api-scaled", 5)

	r := run(t, diffArgs(s.Sample, flags, "-o", "json", "--helm=false")...)
	res := decodeDiff(t, r.stdout)
	if r.code != 1 || res.HasErrors() {
		t.Fatalf("diff after edits: exit %d, want 1\nstderr %s\n%s", r.code, r.stderr, r.stdout)
	}
	got := changes(res)
	want := []string{
		"control-plane control-plane-apps Deployment/" + sns("openstack") + "/keystone-api drifted",
		"control-plane control-plane-apps PodDisruptionBudget/" + sns("openstack") + "/glance-api deleted",
		"hypervisor hypervisor-apps ConfigMap/" + sns("nova-compute") + "/" + added + " created",
		"management management-tenants ConfigMap/" + sns("c5c3-tenants") + "/c5c3-audit-policy drifted",
		"management management-tenants Deployment/" + sns("c5c3-tenants") + "/c5c3-tenant-api drifted",
		"storage storage-apps ConfigMap/" + sns("rook-ceph") + "/ceph-cluster-config drifted",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff reports\n  %s\nwant exactly\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if s := res.Summary; s.Created != 1 {
		t.Errorf("summary: %d created, want 1", s.Created)
	}
	if s := res.Summary; s.Drifted != 4 {
		t.Errorf("summary: %d drifted, want 4", s.Drifted)
	}
	if s := res.Summary; s.Deleted != 1 {
		t.Errorf("summary: %d deleted, want 1", s.Deleted)
	}
	for _, o := range res.Objects {
		switch o.Name {
		case "keystone-api":
			if !strings.Contains(o.Diff, "ghcr.io/c5c3/keystone:2025.1-p3") {
				t.Errorf("keystone diff lacks the new tag:\n%s", o.Diff)
			}
		case "ceph-cluster-config":
			if !strings.Contains(o.Diff, "vms") {
				t.Errorf("hand edit not shown:\n%s", o.Diff)
			}
		}
	}

	// Push: the controller reconciles the new revision everywhere, prunes,
	// and takes the hand-edited field back.
	rev, err := s.Publish(c, "e2e: keystone 2025.1-p3, drop the glance PDB, add a ConfigMap")
	expect.NoError(t, err)
	wait, cancelWait := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelWait()
	start = time.Now()
	if _, err := s.WaitReady(wait, rev); err != nil {
		t.Fatal(err)
	}
	t.Logf("new revision reconciled in %s", time.Since(start).Round(time.Millisecond))
	readyKustomizations(t, s, rev)
	checkStatusAgainstController(t, s, flags, rev)
	assertNoDrift(t, s, flags, "after reconciling the pushed edit")

	// What the controller did on the spokes.
	cp := fl.Spokes["control-plane"].Client
	dep := &appsv1.Deployment{}
	expect.NoError(t, cp.Get(c, client.ObjectKey{Namespace: sns("openstack"), Name: "keystone-api"}, dep))
	if img := dep.Spec.Template.Spec.Containers[0].Image; img != "ghcr.io/c5c3/keystone:2025.1-p3" {
		t.Errorf("keystone image %q", img)
	}
	if err := cp.Get(c, client.ObjectKey{Namespace: sns("openstack"), Name: "glance-api"}, &policyv1.PodDisruptionBudget{}); !apierrors.IsNotFound(err) {
		t.Errorf("glance-api PDB not pruned: %v", err)
	}
	hv := fl.Spokes["hypervisor"].Client
	addedCM := &corev1.ConfigMap{}
	expect.NoError(t, hv.Get(c, client.ObjectKey{Namespace: sns("nova-compute"), Name: added}, addedCM))
	if addedCM.Data["cluster"] != "hypervisor" {
		t.Errorf("%s: postBuild not substituted: %v", added, addedCM.Data)
	}
	expect.NoError(t, storage.Get(c, client.ObjectKey{Namespace: sns("rook-ceph"), Name: "ceph-cluster-config"}, cm))
	if !strings.Contains(cm.Data["pools"], "vms") {
		t.Errorf("hand edit not reverted by the controller: %q", cm.Data["pools"])
	}
	expect.NoError(t, hub.Get(c, client.ObjectKey{Namespace: sns("c5c3-tenants"), Name: "c5c3-tenant-api"}, tenantAPI))
	if *tenantAPI.Spec.Replicas != 2 {
		t.Errorf("hand-scaled c5c3-tenant-api not taken back to the patched 2 replicas: %d", *tenantAPI.Spec.Replicas)
	}

	// Revert and push again: the spokes are back to the sample (the next
	// test sharing them starts from there), and diff is clean once more.
	fixture.EditFile(t, repo, "clusters/control-plane/apps/kustomization.yaml", `newTag: "2025.1-p3"`, `newTag: "2025.1-p1"`)
	fixture.EditFile(t, repo, "apps/glance/base/kustomization.yaml", "  - service.yaml\n", "  - service.yaml\n  - pdb.yaml\n")
	fixture.EditFile(t, repo, "clusters/hypervisor/kustomization.yaml", "  - e2e.yaml\n", "")
	fixture.EditFile(t, repo, "apps/tenants/components/audit/configmap.yaml", "level: RequestResponse", "level: Metadata")
	scale(t, hub, sns("c5c3-tenants"), "c5c3-tenant-api-scaled", 1)
	expect.NoError(t, os.Remove(filepath.Join(repo, "clusters/hypervisor/e2e.yaml")))
	rev, err = s.Publish(c, "e2e: revert")
	expect.NoError(t, err)
	wait2, cancelWait2 := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelWait2()
	if _, err := s.WaitReady(wait2, rev); err != nil {
		t.Fatal(err)
	}
	checkStatusAgainstController(t, s, flags, rev)
	assertNoDrift(t, s, flags, "after reconciling the revert")
	if err := hv.Get(c, client.ObjectKey{Namespace: sns("nova-compute"), Name: added}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("%s not pruned after the revert: %v", added, err)
	}
	expect.NoError(t, cp.Get(c, client.ObjectKey{Namespace: sns("openstack"), Name: "glance-api"}, &policyv1.PodDisruptionBudget{}))
}

// scale sets a hub Deployment of management-tenants (in namespace ns) to n
// replicas, as a hand edit (its own field manager).
func scale(t *testing.T, hub client.Client, ns, name string, n int32) {
	t.Helper()
	d := &appsv1.Deployment{}
	expect.NoError(t, hub.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: name}, d))
	d.Spec.Replicas = &n
	expect.NoError(t, hub.Update(ctx(t), d, client.FieldOwner("e2e-hand-edit")))
}

// readyKustomizations returns the namespace's Kustomizations, checking that
// each is Ready at revision with an inventory written by the controller.
func readyKustomizations(t *testing.T, s *testfleet.LiveSample, revision string) []kustomizev1.Kustomization {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kss, err := s.WaitReady(c, revision)
	if err != nil {
		t.Fatal(err)
	}
	for _, ks := range kss {
		if ks.Status.Inventory == nil || len(ks.Status.Inventory.Entries) == 0 {
			t.Errorf("Kustomization %s: the controller wrote no inventory", ks.Name)
		}
	}
	return kss
}

// checkStatusAgainstController compares `status -o json` with the
// Kustomizations the controller wrote: every one Ready at revision, not
// stale, with the controller's inventory size, on a reachable cluster. The
// HelmReleases are never reconciled (no helm-controller): they are the only
// objects not Ready, with state Unknown, which makes status exit 1.
func checkStatusAgainstController(t *testing.T, s *testfleet.LiveSample, flags []string, revision string) {
	t.Helper()
	c := ctx(t)
	var list kustomizev1.KustomizationList
	expect.NoError(t, s.Fleet.Hub.Client.List(c, &list, client.InNamespace(s.Namespace)))
	inventory := map[string]int{}
	for _, ks := range list.Items {
		inventory[ks.Name] = len(ks.Status.Inventory.Entries)
	}

	r := run(t, append([]string{"status", "-o", "json"}, flags...)...)
	rep := decode(t, r.stdout)
	if r.stderr != "" {
		t.Errorf("status stderr: %s", r.stderr)
	}
	seen := map[string]bool{}
	var helmReleases int
	for _, cl := range rep.Clusters {
		if !cl.Reachable {
			t.Errorf("cluster %s unreachable: %s", cl.Name, cl.Error)
		}
		for _, o := range cl.Objects {
			switch o.Kind {
			case "Kustomization":
				seen[o.Name] = true
				what := "status " + cl.Name + "/" + o.Name
				expect.Equal(t, what+": state", o.State, status.StateReady)
				expect.Equal(t, what+": Ready ("+o.Message+")", o.Ready, "True")
				expect.Equal(t, what+": stale", o.Stale, false)
				expect.Equal(t, what+": revision", o.Revision, revision)
				expect.Equal(t, what+": source revision", o.SourceRevision, revision)
				if o.Inventory == nil || *o.Inventory != inventory[o.Name] {
					t.Errorf("status %s/%s: inventory %v, the controller wrote %d entries", cl.Name, o.Name, o.Inventory, inventory[o.Name])
				}
			case "HelmRelease":
				helmReleases++
				if o.State != status.StateUnknown {
					t.Errorf("HelmRelease %s: state %s, want Unknown (no helm-controller runs)", o.Name, o.State)
				}
			default:
				t.Errorf("unexpected object %s %s", o.Kind, o.Name)
			}
		}
	}
	for _, name := range []string{"control-plane", "hypervisor", "storage"} {
		found := false
		for _, cl := range rep.Clusters {
			found = found || cl.Name == name
		}
		if !found {
			t.Errorf("status lists no cluster %s", name)
		}
	}
	if len(seen) != len(list.Items) {
		t.Errorf("status shows %d Kustomizations, the hub has %d", len(seen), len(list.Items))
	}
	sum := rep.Summary
	if r.code != 1 {
		t.Errorf("status: exit %d, want 1 (the HelmReleases Unknown)", r.code)
	}
	if helmReleases != 3 {
		t.Errorf("status: %d HelmReleases, want 3", helmReleases)
	}
	if sum.Ready != len(list.Items) {
		t.Errorf("status: %d ready, want the %d Kustomizations", sum.Ready, len(list.Items))
	}
	if sum.Objects != len(list.Items)+helmReleases {
		t.Errorf("status: %d objects, want %d Kustomizations + %d HelmReleases", sum.Objects, len(list.Items), helmReleases)
	}
	if sum.Healthy {
		t.Errorf("status: summary healthy, want not (the HelmReleases Unknown)")
	}
}

// assertNoDrift: diff of the checkout against what the controller applied
// finds nothing to change, and no errors — both with the local check of
// managed fields and with a server dry-run of every object. These diffs
// run with --helm=false (also the one after the edits): no helm-controller
// runs in this test, so the sample's HelmReleases are not installed and
// their renders would all be "created"; rendering is checked against the
// real helm-controller in TestE2EHelmController.
func assertNoDrift(t *testing.T, s *testfleet.LiveSample, flags []string, when string) {
	t.Helper()
	for _, extra := range [][]string{nil, {"--verify-unchanged"}} {
		r := run(t, diffArgs(s.Sample, flags, append([]string{"-o", "json", "--helm=false"}, extra...)...)...)
		res := decodeDiff(t, r.stdout)
		what := fmt.Sprintf("diff %v %s", extra, when)
		if res.HasChanges() {
			t.Errorf("%s: changes (the diff engine disagrees with the real controller):\n  %s\n%s", what, strings.Join(changes(res), "\n  "), objectDiffs(res))
		}
		if res.HasErrors() {
			t.Errorf("%s: errors, want none\n%s", what, r.stdout)
		}
		wantExit(t, what, r, 0)
		if len(res.Kustomizations) != 9 || res.Summary.Unchanged < 45 {
			t.Fatalf("diff %v %s: want 9 Kustomizations and every object unchanged: %+v", extra, when, res.Summary)
		}
	}
}

// changes lists the changed objects as "cluster kustomization ID action"
// (the Kustomization without its namespace).
func changes(res *diff.Result) []string {
	var out []string
	for _, o := range res.Objects {
		if o.Action == diff.ActionUnchanged || o.Action == diff.ActionSkipped {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", o.Cluster, o.Kustomization[strings.Index(o.Kustomization, "/")+1:], o.ID(), o.Action))
	}
	sort.Strings(out)
	return out
}

func objectDiffs(res *diff.Result) string {
	var b strings.Builder
	for _, o := range res.Objects {
		fmt.Fprintf(&b, "--- %s %s (%s) %s%s\n%s\n", o.Cluster, o.ID(), o.Action, o.Reason, o.Error, o.Diff)
	}
	return b.String()
}
