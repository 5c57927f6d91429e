package helmrender_test

import (
	"context"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"

	"github.com/c5c3/kubectl-c5c3/helmrender"
)

// TestRenderRollbackRevision: Helm's own actions install webapp 0.1.0
// (revision 1), upgrade it to 0.2.0 (revision 2, which drops the
// PodDisruptionBudget) and roll back to revision 1, which stores revision
// 3 with revision 1's chart, values and manifest. The deployed release is
// revision 3 with revision 1's objects (deletions are relative to it);
// rendered again as it was made it is revision 1's install, exactly the
// manifest Helm stored; helm-controller's next upgrade renders revision 4
// (the highest in storage + 1). A rollback to that rollback still renders
// as revision 1; with the restored revision pruned from storage the chain
// ends at the revision the rollback names.
func TestRenderRollbackRevision(t *testing.T) {
	ctx := context.Background()
	v1, v2 := loadDir(t, "webapp-0.1.0"), loadDir(t, "webapp-0.2.0")
	st := storage.Init(driver.NewMemory())
	installed := install(t, st, "apps-webapp", v1, common.Values{"greeting": "first"})
	upgrade(t, st, v2, common.Values{"greeting": "second"})
	rollback(t, st, 1)

	cur := current(t, st, "apps-webapp")
	if cur.Revision != 3 || cur.LastRevision != 3 || cur.ManifestRevision != 1 || cur.ChartVersion != "0.1.0" {
		t.Fatalf("after the rollback: revision %d, last %d, manifest of %d, chart %s; want 3, 3, 1, 0.1.0",
			cur.Revision, cur.LastRevision, cur.ManifestRevision, cur.ChartVersion)
	}
	if got, want := strings.Join(ids(cur.Objects), ","), strings.Join(ids(installed.Objects), ","); got != want {
		t.Errorf("rolled-back release objects %s, want revision 1's %s", got, want)
	}
	stored := releaseAnnotations(t, cur.Objects)
	if stored != "revision 1, upgrade false" {
		t.Fatalf("Helm's rollback stored the manifest %q, want revision 1's", stored)
	}
	h := hr("webapp", nil)
	again, err := helmrender.Render(ctx, helmrender.Request{HelmRelease: h, Chart: v1, Values: common.Values{"greeting": "first"},
		From: cur, Revision: cur.ManifestRevision, Capabilities: caps})
	if err != nil {
		t.Fatal(err)
	}
	if got := releaseAnnotations(t, again.Objects); got != stored {
		t.Errorf("the rolled-back release rendered again: %s, stored %s", got, stored)
	}
	if got, want := strings.Join(ids(again.Objects), ","), strings.Join(ids(cur.Objects), ","); got != want {
		t.Errorf("the rolled-back release rendered again: objects %s, stored %s", got, want)
	}
	next, err := helmrender.Render(ctx, helmrender.Request{HelmRelease: h, Chart: v2, Values: common.Values{"greeting": "third"}, From: cur, Capabilities: caps})
	if err != nil {
		t.Fatal(err)
	}
	if got := releaseAnnotations(t, next.Objects); got != "revision 4, upgrade true" {
		t.Errorf("the next upgrade after the rollback: %s, want revision 4, upgrade true", got)
	}
	if strings.Contains(strings.Join(ids(next.Objects), ","), "PodDisruptionBudget") || !strings.Contains(strings.Join(ids(cur.Objects), ","), "PodDisruptionBudget") {
		t.Errorf("0.2.0 drops the PodDisruptionBudget the rolled-back release has: rendered %v, deployed %v", ids(next.Objects), ids(cur.Objects))
	}

	// A rollback of a rollback: revision 5 restores revision 3, itself
	// revision 1's manifest.
	upgrade(t, st, v2, common.Values{"greeting": "fourth"})
	rollback(t, st, 3)
	if cur := current(t, st, "apps-webapp"); cur.Revision != 5 || cur.ManifestRevision != 1 {
		t.Errorf("rollback to a rollback: revision %d, manifest of %d; want 5, 1", cur.Revision, cur.ManifestRevision)
	} else if got := releaseAnnotations(t, cur.Objects); got != stored {
		t.Errorf("rollback to a rollback stored %s, want %s", got, stored)
	}
	if _, err := st.Delete("apps-webapp", 3); err != nil {
		t.Fatal(err)
	}
	if cur := current(t, st, "apps-webapp"); cur.ManifestRevision != 3 {
		t.Errorf("restored revision pruned: manifest of %d, want 3 (what the rollback names)", cur.ManifestRevision)
	}
}

// TestPredictAfterRollback: after helm-controller's rollback remediation
// the history's latest snapshot is the rollback's revision, so the
// checkout's chart is compared with the restored one; a rollback by hand
// (a revision the history does not record) is taken over with an upgrade,
// as helm-controller's release-object check does.
func TestPredictAfterRollback(t *testing.T) {
	st := storage.Init(driver.NewMemory())
	vals := common.Values{"greeting": "first"}
	install(t, st, "apps-webapp", loadDir(t, "webapp-0.1.0"), vals)
	upgrade(t, st, loadDir(t, "webapp-0.2.0"), common.Values{"greeting": "second"})
	rollback(t, st, 1)
	cur := current(t, st, "apps-webapp")
	snap := func(version int, chart string) helmv2.Snapshots {
		return helmv2.Snapshots{{APIVersion: helmv2.CurrentSnapshotAPIVersion, Name: "apps-webapp", Namespace: "apps",
			Version: version, ChartVersion: chart, ConfigDigest: helmrender.ValuesDigest(vals)}}
	}
	for _, tc := range []struct {
		name    string
		history helmv2.Snapshots
		chart   string
		plan    helmrender.Plan
		reason  string
	}{
		{"remediated, checkout restored", snap(3, "0.1.0"), "0.1.0", helmrender.PlanNone, "chart and values unchanged"},
		{"remediated, checkout bumped", snap(3, "0.1.0"), "0.2.0", helmrender.PlanUpgrade, "chart version 0.1.0 → 0.2.0"},
		{"rolled back by hand", snap(2, "0.2.0"), "0.2.0", helmrender.PlanUpgrade, "release apps/apps-webapp.v3 in Helm storage not made for the HelmRelease (history has apps/apps-webapp.v2)"},
	} {
		h := hr("webapp", func(h *helmv2.HelmRelease) { h.Status.History = tc.history })
		if p := helmrender.Predict(h, tc.chart, vals, cur); p.Plan != tc.plan || p.Reason != tc.reason {
			t.Errorf("%s: %s (%s), want %s (%s)", tc.name, p.Plan, p.Reason, tc.plan, tc.reason)
		}
	}
}

// upgrade upgrades apps-webapp in st to ch with Helm's own upgrade action.
func upgrade(t *testing.T, st *storage.Storage, ch *helmrender.Loaded, vals common.Values) {
	t.Helper()
	up := action.NewUpgrade(helmConfig(st))
	up.Namespace = "apps"
	if _, err := up.RunWithContext(context.Background(), "apps-webapp", ch.Chart, vals.AsMap()); err != nil {
		t.Fatal(err)
	}
}

// rollback rolls apps-webapp in st back to revision with Helm's own
// rollback action.
func rollback(t *testing.T, st *storage.Storage, revision int) {
	t.Helper()
	rb := action.NewRollback(helmConfig(st))
	rb.Version = revision
	if err := rb.Run("apps-webapp"); err != nil {
		t.Fatalf("rollback to %d: %v", revision, err)
	}
}
