package status_test

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"slices"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/status"
)

// The engine's scenarios on the test fleet: each test loads a sample of
// its own (own hub and workload namespaces, own checkout), edits it and
// calls status.Build as the command does, then renders the report with
// status' own renderers. What the command adds — flags, exit codes,
// --watch on a terminal — is plugin's.

// scenario is a loaded sample and a context for the test's requests.
type scenario struct {
	s   *testfleet.Sample
	ctx context.Context
}

// loadScenario loads the sample for t, which runs in parallel.
func loadScenario(t *testing.T) *scenario {
	t.Helper()
	f := testfleet.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(t), OwnNamespaces: true})
	if err != nil {
		t.Fatalf("loading the sample: %v", err)
	}
	return &scenario{s: s, ctx: ctx}
}

// build discovers the sample's fleet from the hub and builds its status
// as `kubectl c5c3 status -n <sample> --flux-namespace <sample>` does,
// two days from now (the command tests' clock).
func (sc *scenario) build(t *testing.T, opts status.Options) (*status.Report, time.Time) {
	t.Helper()
	hub, err := kube.NewClient(sc.s.Fleet.Hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	fl, err := fleet.Discover(sc.ctx, hub, fleet.Options{Namespace: sc.s.Namespace, FluxNamespace: sc.s.Namespace})
	if err != nil {
		t.Fatalf("discovering the fleet: %v", err)
	}
	now := time.Now().Add(48 * time.Hour)
	opts.FluxNamespace, opts.Now = sc.s.Namespace, now
	r, err := status.Build(sc.ctx, fl, opts)
	if err != nil {
		t.Fatalf("status.Build: %v", err)
	}
	return r, now
}

// tree and table render the report as the command does with --color never.
func tree(t *testing.T, r *status.Report, now time.Time) string {
	t.Helper()
	var b bytes.Buffer
	expect.NoError(t, status.WriteTree(&b, r, status.RenderOptions{Now: now}))
	return b.String()
}

func table(t *testing.T, r *status.Report, now time.Time) string {
	t.Helper()
	var b bytes.Buffer
	expect.NoError(t, status.WriteTable(&b, r, status.RenderOptions{Now: now}))
	return b.String()
}

// roundTrip is the report as -o json prints it, read back strictly.
func roundTrip(t *testing.T, r *status.Report) *status.Report {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	expect.NoError(t, err)
	var back status.Report
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("the report is not a FleetStatus: %v\n%s", err, b)
	}
	if back.APIVersion != status.APIVersion || back.Kind != status.Kind {
		t.Fatalf("schema header %s/%s", back.APIVersion, back.Kind)
	}
	return &back
}

// wantHealthy checks the summary's verdict, the command's exit code (0
// healthy, 1 not).
func wantHealthy(t *testing.T, what string, r *status.Report, healthy bool) {
	t.Helper()
	if r.Summary.Healthy != healthy {
		t.Fatalf("%s: summary healthy %v, want %v: %+v", what, r.Summary.Healthy, healthy, r.Summary)
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

// TestStatusHelmStorage: the sample's memcached HelmRelease is installed
// for real on the control-plane spoke (Helm v4 SDK, storage Secrets in
// namespace memcached) and its status.history records revision 1 as
// helm-controller writes it, so status flags nothing. Then, by hand on
// the spoke: a `helm upgrade` to revision 2 is flagged (both revisions and
// statuses, not healthy, kept by FailingOnly, counted in the summary);
// recording revision 2 in the history clears it; revision 2's status label
// set to failed is flagged; the storage Secrets deleted are flagged as a
// missing release. A kubeconfig whose user may not list Secrets leaves the
// release unchecked with a short reason and not flagged; an unreachable
// spoke leaves it out (its error says why).
func TestStatusHelmStorage(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t)
	s, c := sc.s, sc.ctx
	sns := s.SpokeNamespace
	spoke := s.Fleet.Spokes["control-plane"]
	hrID := "HelmRelease/" + s.Namespace + "/memcached"
	// statusOf is `status --cluster control-plane [--failing]` and
	// memcached's object in its report (read back from JSON).
	statusOf := func(failing bool) (*status.Report, time.Time, status.Object) {
		t.Helper()
		r, now := sc.build(t, status.Options{Cluster: "control-plane", FailingOnly: failing})
		for _, c := range roundTrip(t, r).Clusters { // none when --failing finds nothing
			for _, o := range c.Objects {
				if o.ID() == hrID {
					return r, now, o
				}
			}
		}
		return r, now, status.Object{}
	}
	memcached := func(what string) (*status.Report, time.Time, status.Object) {
		t.Helper()
		r, now, o := statusOf(false)
		if o.ID() != hrID {
			t.Fatalf("%s: no %s in\n%s", what, hrID, tree(t, r, now))
		}
		return r, now, o
	}
	// flagged checks that status reports problem for memcached in the
	// report, the tree, the summary, FailingOnly and the verdict.
	flagged := func(what, problem string, storageRevision int, storageStatus string) {
		t.Helper()
		r, _, o := memcached(what)
		wantHealthy(t, what, r, false)
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
		if r.Summary.ReleaseProblems != 1 {
			t.Errorf("%s: summary: %d release problems, want 1", what, r.Summary.ReleaseProblems)
		}
		if r.Summary.Healthy {
			t.Errorf("%s: summary healthy, want not", what)
		}
		failing, now, _ := statusOf(true)
		wantHealthy(t, what+": --failing tree", failing, false)
		ft := tree(t, failing, now)
		if !slices.Contains(detailOf(ft, hrID+" · Ready · "), "release: "+problem) {
			t.Errorf("%s: --failing tree lacks the detail %q under %s", what, "release: "+problem, hrID)
		}
		expect.Contains(t, what+": --failing tree", ft, ", 1 release differing from Helm storage")
	}

	r, now, o := memcached("installed release")
	clean := status.Release{Name: "memcached", StorageNamespace: sns("memcached"), Revision: 1, Status: "deployed", StorageRevision: 1, StorageStatus: "deployed"}
	wantHealthy(t, "installed release", r, true)
	if o.Release == nil || *o.Release != clean {
		t.Fatalf("installed release: release %+v, want %+v", o.Release, clean)
	}
	if r.Summary.ReleaseProblems != 0 {
		t.Fatalf("installed release: summary: %d release problems, want 0", r.Summary.ReleaseProblems)
	}
	if tr := tree(t, r, now); strings.Contains(tr, "release") {
		t.Fatalf("installed release: the tree mentions a release\n%s", tr)
	}

	// (b) helm upgrade --set replicaCount=1 by hand: revision 2 in
	// storage, history says 1.
	ch, err := s.Fleet.SampleChart("memcached", "7.4.16")
	expect.NoError(t, err)
	expect.NoError(t, s.Fleet.UpgradeRelease(c, testfleet.Release{Target: spoke, Name: "memcached", Namespace: sns("memcached"), StorageNamespace: sns("memcached"),
		Chart: ch, Values: map[string]any{"replicaCount": 1}}))
	flagged("after helm upgrade by hand",
		"Helm storage on control-plane has release "+sns("memcached")+"/memcached at revision 2 deployed; helm-controller reports revision 1 deployed", 2, "deployed")
	r, now, _ = statusOf(false)
	golden.Assert(t, "status-release-upgraded.tree", tree(t, r, now))
	r, now, _ = statusOf(true)
	if tab := table(t, r, now); !strings.Contains(tab, "release: Helm storage on control-plane has release "+sns("memcached")+"/memcached at revision 2 deployed; helm-controller reports revision 1 deployed; Helm install succeeded") {
		t.Errorf("--failing table:\n%s", tab)
	}

	// helm-controller records revision 2: nothing to flag.
	hr := &helmv2.HelmRelease{}
	expect.NoError(t, s.Fleet.Hub.Client.Get(c, client.ObjectKey{Namespace: s.Namespace, Name: "memcached"}, hr))
	stamp := metav1.NewTime(time.Now().Truncate(time.Second))
	rev2 := *hr.Status.History.Latest()
	rev2.Version, rev2.LastDeployed = 2, stamp
	hr.Status.History[0].Status = "superseded"
	hr.Status.History = append(helmv2.Snapshots{&rev2}, hr.Status.History...)
	expect.NoError(t, s.Fleet.Hub.Client.Status().Update(c, hr))
	r, _, o = memcached("history at revision 2")
	wantHealthy(t, "history at revision 2", r, true)
	if o.Release == nil {
		t.Fatalf("history at revision 2: no release, want storage revision 2")
	}
	expect.Equal(t, "history at revision 2: problem", o.Release.Problem, "")
	expect.Equal(t, "history at revision 2: storage revision", o.Release.StorageRevision, 2)

	// (c) same revision, another status: revision 2's status label, set
	// on its metadata only.
	sec := &metav1.PartialObjectMetadata{}
	sec.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	expect.NoError(t, spoke.Client.Get(c, client.ObjectKey{Namespace: sns("memcached"), Name: "sh.helm.release.v1.memcached.v2"}, sec))
	before := sec.DeepCopy()
	sec.Labels["status"] = "failed"
	expect.NoError(t, spoke.Client.Patch(c, sec, client.MergeFrom(before)))
	flagged("after revision 2's status changed",
		"Helm storage on control-plane has release "+sns("memcached")+"/memcached at revision 2 failed; helm-controller reports revision 2 deployed", 2, "failed")

	// (a) the storage Secrets deleted.
	expect.NoError(t, spoke.Client.DeleteAllOf(c, &corev1.Secret{}, client.InNamespace(sns("memcached")), client.MatchingLabels{"owner": "helm", "name": "memcached"}))
	flagged("after the storage Secrets were deleted",
		"Helm storage on control-plane has no release "+sns("memcached")+"/memcached; helm-controller reports revision 2 deployed", 0, "")

	// A user who may not list Secrets: not compared, not flagged.
	token, err := spoke.ServiceAccountToken(c, "c5c3-release", "reader-"+s.Namespace, 90*24*time.Hour)
	expect.NoError(t, err)
	kc, err := spoke.KubeconfigWithToken(token)
	expect.NoError(t, err)
	expect.NoError(t, s.SetKubeconfig(c, "control-plane", kc))
	r, now, o = memcached("forbidden")
	wantHealthy(t, "forbidden", r, true)
	if o.Release == nil {
		t.Fatalf("forbidden: no release, want the error reading Helm's storage")
	}
	expect.Equal(t, "forbidden: problem", o.Release.Problem, "")
	expect.Equal(t, "forbidden: error", o.Release.Error, "not allowed to list Secrets in "+sns("memcached")+" on control-plane")
	expect.Equal(t, "forbidden: release problems in the summary", r.Summary.ReleaseProblems, 0)
	tr := tree(t, r, now)
	if got := detailOf(tr, hrID+" · Ready · "); !slices.Contains(got, "release not checked: not allowed to list Secrets in "+sns("memcached")+" on control-plane") {
		t.Errorf("forbidden: tree\n%s", tr)
	}
	if failing, now, _ := statusOf(true); strings.Contains(tree(t, failing, now), "memcached") {
		t.Errorf("forbidden: --failing shows the unchecked release\n%s", tree(t, failing, now))
	}

	// An unreachable spoke: no release, the cluster's error says why.
	expect.NoError(t, s.BreakKubeconfig(c, "control-plane", testfleet.FaultUnreachable))
	if r, _, o := memcached("unreachable"); r.Summary.Healthy || o.Release != nil {
		t.Fatalf("unreachable: healthy %v, release %+v", r.Summary.Healthy, o.Release)
	}
}
