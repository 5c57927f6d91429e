package plugin

import (
	"slices"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/status"
)

// TestStatusHelmStorage: the sample's memcached HelmRelease is installed
// for real on the control-plane spoke (Helm v4 SDK, storage Secrets in
// namespace memcached) and its status.history records revision 1 as
// helm-controller writes it, so status flags nothing. Then, by hand on
// the spoke: a `helm upgrade` to revision 2 is flagged (both revisions and
// statuses, exit 1, kept by --failing, counted in the summary); recording
// revision 2 in the history clears it; revision 2's status label set to
// failed is flagged; the storage Secrets deleted are flagged as a missing
// release. A kubeconfig whose user may not list Secrets leaves the
// release unchecked with a short reason and not flagged; an unreachable
// spoke leaves it out (its error says why).
func TestStatusHelmStorage(t *testing.T) {
	t.Parallel()
	s, flags := loadSample(t, testfleet.SampleOptions{})
	sns := s.SpokeNamespace
	c := ctx(t)
	spoke := s.Fleet.Spokes["control-plane"]
	hrID := "HelmRelease/" + s.Namespace + "/memcached"
	statusOf := func(args ...string) (result, status.Object, status.Summary) {
		t.Helper()
		r := run(t, append(append([]string{"status", "--cluster", "control-plane"}, args...), flags...)...)
		if len(args) == 0 || args[len(args)-1] != "json" {
			return r, status.Object{}, status.Summary{}
		}
		rep := decode(t, r.stdout)
		for _, o := range rep.Clusters[0].Objects {
			if o.ID() == hrID {
				return r, o, rep.Summary
			}
		}
		t.Fatalf("no %s in\n%s", hrID, r.stdout)
		return r, status.Object{}, status.Summary{}
	}
	// flagged checks that status reports problem for memcached in JSON,
	// the tree, the summary, --failing and the exit code.
	flagged := func(what, problem string, storageRevision int, storageStatus string) {
		t.Helper()
		r, o, sum := statusOf("-o", "json")
		wantExit(t, what, r, 1)
		if o.Release == nil {
			t.Fatalf("%s: no release, want problem %q", what, problem)
		}
		if o.Release.Problem != problem {
			t.Errorf("%s: release problem %q, want %q", what, o.Release.Problem, problem)
		}
		if o.Release.StorageRevision != storageRevision {
			t.Errorf("%s: storage revision %d, want %d", what, o.Release.StorageRevision, storageRevision)
		}
		if o.Release.StorageStatus != storageStatus {
			t.Errorf("%s: storage status %q, want %q", what, o.Release.StorageStatus, storageStatus)
		}
		if o.State != status.StateReady {
			t.Errorf("%s: state %q, want %s", what, o.State, status.StateReady)
		}
		if sum.ReleaseProblems != 1 {
			t.Errorf("%s: summary: %d release problems, want 1", what, sum.ReleaseProblems)
		}
		if sum.Healthy {
			t.Errorf("%s: summary healthy, want not", what)
		}
		tree, _, _ := statusOf("--failing")
		wantExit(t, what+": --failing tree", tree, 1)
		if !slices.Contains(detailOf(tree.stdout, hrID+" · Ready · "), "release: "+problem) {
			t.Errorf("%s: --failing tree lacks the detail %q under %s", what, "release: "+problem, hrID)
		}
		wantContains(t, what+": --failing tree", tree.stdout, ", 1 release differing from Helm storage")
	}

	r, o, sum := statusOf("-o", "json")
	clean := status.Release{Name: "memcached", StorageNamespace: sns("memcached"), Revision: 1, Status: "deployed", StorageRevision: 1, StorageStatus: "deployed"}
	wantExit(t, "installed release", r, 0)
	if o.Release == nil || *o.Release != clean {
		t.Fatalf("installed release: release %+v, want %+v", o.Release, clean)
	}
	if sum.ReleaseProblems != 0 {
		t.Fatalf("installed release: summary: %d release problems, want 0", sum.ReleaseProblems)
	}
	if tree, _, _ := statusOf(); tree.code != 0 || strings.Contains(tree.stdout, "release") {
		t.Fatalf("installed release: exit %d\n%s", tree.code, tree.stdout)
	}

	// (b) helm upgrade --set replicaCount=1 by hand: revision 2 in
	// storage, history says 1.
	ch, err := s.Fleet.SampleChart("memcached", "7.4.16")
	must(t, err)
	must(t, s.Fleet.UpgradeRelease(c, testfleet.Release{Target: spoke, Name: "memcached", Namespace: sns("memcached"), StorageNamespace: sns("memcached"),
		Chart: ch, Values: map[string]any{"replicaCount": 1}}))
	flagged("after helm upgrade by hand",
		"Helm storage on control-plane has release "+sns("memcached")+"/memcached at revision 2 deployed; helm-controller reports revision 1 deployed", 2, "deployed")
	tree, _, _ := statusOf()
	golden.Assert(t, "status-release-upgraded.tree", tree.stdout)
	table, _, _ := statusOf("--failing", "-o", "table")
	if !strings.Contains(table.stdout, "release: Helm storage on control-plane has release "+sns("memcached")+"/memcached at revision 2 deployed; helm-controller reports revision 1 deployed; Helm install succeeded") {
		t.Errorf("--failing table:\n%s", table.stdout)
	}

	// helm-controller records revision 2: nothing to flag.
	hr := &helmv2.HelmRelease{}
	must(t, s.Fleet.Hub.Client.Get(c, client.ObjectKey{Namespace: s.Namespace, Name: "memcached"}, hr))
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	rev2 := *hr.Status.History.Latest()
	rev2.Version, rev2.LastDeployed = 2, now
	hr.Status.History[0].Status = "superseded"
	hr.Status.History = append(helmv2.Snapshots{&rev2}, hr.Status.History...)
	must(t, s.Fleet.Hub.Client.Status().Update(c, hr))
	r, o, _ = statusOf("-o", "json")
	wantExit(t, "history at revision 2", r, 0)
	if o.Release == nil {
		t.Fatalf("history at revision 2: no release, want storage revision 2")
	}
	wantEqual(t, "history at revision 2: problem", o.Release.Problem, "")
	wantEqual(t, "history at revision 2: storage revision", o.Release.StorageRevision, 2)

	// (c) same revision, another status: revision 2's status label, set
	// on its metadata only.
	sec := &metav1.PartialObjectMetadata{}
	sec.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	must(t, spoke.Client.Get(c, client.ObjectKey{Namespace: sns("memcached"), Name: "sh.helm.release.v1.memcached.v2"}, sec))
	before := sec.DeepCopy()
	sec.Labels["status"] = "failed"
	must(t, spoke.Client.Patch(c, sec, client.MergeFrom(before)))
	flagged("after revision 2's status changed",
		"Helm storage on control-plane has release "+sns("memcached")+"/memcached at revision 2 failed; helm-controller reports revision 2 deployed", 2, "failed")

	// (a) the storage Secrets deleted.
	must(t, spoke.Client.DeleteAllOf(c, &corev1.Secret{}, client.InNamespace(sns("memcached")), client.MatchingLabels{"owner": "helm", "name": "memcached"}))
	flagged("after the storage Secrets were deleted",
		"Helm storage on control-plane has no release "+sns("memcached")+"/memcached; helm-controller reports revision 2 deployed", 0, "")

	// A user who may not list Secrets: not compared, not flagged.
	token, err := spoke.ServiceAccountToken(c, "c5c3-release", "reader-"+s.Namespace, 90*24*time.Hour)
	must(t, err)
	kc, err := spoke.KubeconfigWithToken(token)
	must(t, err)
	must(t, s.SetKubeconfig(c, "control-plane", kc))
	r, o, sum = statusOf("-o", "json")
	wantExit(t, "forbidden", r, 0)
	if o.Release == nil {
		t.Fatalf("forbidden: no release, want the error reading Helm's storage")
	}
	wantEqual(t, "forbidden: problem", o.Release.Problem, "")
	wantEqual(t, "forbidden: error", o.Release.Error, "not allowed to list Secrets in "+sns("memcached")+" on control-plane")
	wantEqual(t, "forbidden: release problems in the summary", sum.ReleaseProblems, 0)
	tree, _, _ = statusOf()
	if got := detailOf(tree.stdout, hrID+" · Ready · "); !slices.Contains(got, "release not checked: not allowed to list Secrets in "+sns("memcached")+" on control-plane") {
		t.Errorf("forbidden: tree\n%s", tree.stdout)
	}
	if failing, _, _ := statusOf("--failing"); strings.Contains(failing.stdout, "memcached") {
		t.Errorf("forbidden: --failing shows the unchecked release\n%s", failing.stdout)
	}

	// An unreachable spoke: no release, the cluster's error says why.
	must(t, s.BreakKubeconfig(c, "control-plane", testfleet.FaultUnreachable))
	if r, o, _ := statusOf("-o", "json"); r.code != 1 || o.Release != nil {
		t.Fatalf("unreachable: exit %d, release %+v", r.code, o.Release)
	}
}

// detailOf returns the detail lines under the tree node whose first line
// contains label, without the tree's lines and indentation.
func detailOf(tree, label string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(tree, "\n") {
		switch {
		case strings.Contains(l, "── "):
			in = strings.Contains(l, label)
		case in:
			out = append(out, strings.TrimLeft(l, "│ "))
		}
	}
	return out
}
