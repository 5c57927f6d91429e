package helmrender_test

import (
	"context"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestCurrentReleaseSecrets: Helm's own actions write a release's history
// into Secrets on a real apiserver through Helm's Secrets driver — install
// (1), upgrade (2), rollback to 1 (3), and an upgrade that failed (4).
// CurrentRelease, which lists those Secrets once and decodes only what it
// needs, finds what Helm's storage finds: the deployed release (3, with
// revision 1's manifest), the last revision (4, failed).
func TestCurrentReleaseSecrets(t *testing.T) {
	f := testfleet.StartForTest(t, testfleet.Options{Spokes: []string{"control-plane"}})
	ctx := context.Background()
	ns := "helm-storage"
	if err := f.Hub.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(f.Hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	secrets := cs.CoreV1().Secrets(ns)
	st := storage.Init(driver.NewSecrets(secrets))
	v1, v2 := loadDir(t, "webapp-0.1.0"), loadDir(t, "webapp-0.2.0")
	install(t, st, "apps-webapp", v1, common.Values{"greeting": "first"})
	upgrade(t, st, v2, common.Values{"greeting": "second"})
	rollback(t, st, 1)
	upgrade(t, st, v2, common.Values{"greeting": "third"})
	r, err := st.Get("apps-webapp", 4)
	if err != nil {
		t.Fatal(err)
	}
	failed := r.(*helmrelease.Release)
	failed.Info.Status = rcommon.StatusFailed
	if err := st.Update(failed); err != nil {
		t.Fatal(err)
	}
	// A deployed release only before revision 4: mark 3 deployed again,
	// as Helm leaves it when an upgrade fails.
	r, err = st.Get("apps-webapp", 3)
	if err != nil {
		t.Fatal(err)
	}
	third := r.(*helmrelease.Release)
	third.Info.Status = rcommon.StatusDeployed
	if err := st.Update(third); err != nil {
		t.Fatal(err)
	}

	cur, err := helmrender.CurrentRelease(secrets, "apps-webapp")
	if err != nil || cur == nil {
		t.Fatalf("CurrentRelease: %v, %v", cur, err)
	}
	deployed, err := st.Deployed("apps-webapp")
	if err != nil {
		t.Fatal(err)
	}
	last, err := st.Last("apps-webapp")
	if err != nil {
		t.Fatal(err)
	}
	d, l := deployed.(*helmrelease.Release), last.(*helmrelease.Release)
	if cur.Revision != d.Version || cur.Revision != 3 {
		t.Errorf("deployed revision %d, Helm's storage %d (want 3)", cur.Revision, d.Version)
	}
	if cur.LastRevision != l.Version || cur.LastStatus != l.Info.Status.String() || cur.LastStatus != "failed" {
		t.Errorf("last revision %d %s, Helm's storage %d %s (want 4 failed)", cur.LastRevision, cur.LastStatus, l.Version, l.Info.Status)
	}
	if cur.ManifestRevision != 1 || cur.ChartVersion != "0.1.0" {
		t.Errorf("manifest of revision %d, chart %s; want revision 1's, 0.1.0", cur.ManifestRevision, cur.ChartVersion)
	}
	if got := releaseAnnotations(t, cur.Objects); got != "revision 1, upgrade false" {
		t.Errorf("deployed manifest %q, want revision 1's", got)
	}
	if none, err := helmrender.CurrentRelease(secrets, "absent"); err != nil || none != nil {
		t.Errorf("a release without storage: %v, %v; want nil, nil", none, err)
	}
}
