package status

import (
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCompareRelease(t *testing.T) {
	for _, tc := range []struct {
		name            string
		revision        int
		status          string
		stored          []storedRevision
		problem         string
		storageRevision int
		storageStatus   string
	}{
		{"same revision and status", 2, "deployed", []storedRevision{{1, "superseded"}, {2, "deployed"}}, "", 2, "deployed"},
		{"no storage Secret", 1, "deployed", nil,
			"Helm storage on storage has no release apps/web; helm-controller reports revision 1 deployed", 0, ""},
		{"uninstalled by helm-controller, no storage", 3, "uninstalled", nil, "", 0, ""},
		{"upgraded by hand", 1, "deployed", []storedRevision{{2, "deployed"}, {1, "superseded"}},
			"Helm storage on storage has release apps/web at revision 2 deployed; helm-controller reports revision 1 deployed", 2, "deployed"},
		{"rolled back by hand", 2, "deployed", []storedRevision{{1, "superseded"}, {3, "deployed"}, {2, "superseded"}},
			"Helm storage on storage has release apps/web at revision 3 deployed; helm-controller reports revision 2 deployed", 3, "deployed"},
		{"older revision only (history pruned by hand)", 4, "deployed", []storedRevision{{2, "superseded"}},
			"Helm storage on storage has release apps/web at revision 2 superseded; helm-controller reports revision 4 deployed", 2, "superseded"},
		{"same revision, other status", 1, "deployed", []storedRevision{{1, "failed"}},
			"Helm storage on storage has release apps/web at revision 1 failed; helm-controller reports revision 1 deployed", 1, "failed"},
		{"uninstalled by hand with --keep-history", 1, "deployed", []storedRevision{{1, "uninstalled"}},
			"Helm storage on storage has release apps/web at revision 1 uninstalled; helm-controller reports revision 1 deployed", 1, "uninstalled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Release{Name: "web", StorageNamespace: "apps", Revision: tc.revision, Status: tc.status}
			compareRelease("storage", r, tc.stored)
			if r.Problem != tc.problem || r.StorageRevision != tc.storageRevision || r.StorageStatus != tc.storageStatus {
				t.Errorf("got %+v\nwant problem %q, storage revision %d %q", r, tc.problem, tc.storageRevision, tc.storageStatus)
			}
		})
	}
}

func TestReleaseOf(t *testing.T) {
	hr := func(mut func(*helmv2.HelmRelease)) *helmv2.HelmRelease {
		h := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "web"}}
		h.Status.History = helmv2.Snapshots{{Name: "apps-web", Namespace: "apps", Version: 2, Status: "deployed"}}
		mut(h)
		return h
	}
	long := strings.Repeat("x", 60)
	for _, tc := range []struct {
		name string
		hr   *helmv2.HelmRelease
		want *Release
	}{
		{"no history", hr(func(h *helmv2.HelmRelease) { h.Status.History = nil }), nil},
		{"history's name, storage in the HelmRelease's namespace", hr(func(*helmv2.HelmRelease) {}),
			&Release{Name: "apps-web", StorageNamespace: "flux-system", Revision: 2, Status: "deployed"}},
		{"spec.storageNamespace", hr(func(h *helmv2.HelmRelease) { h.Spec.StorageNamespace = "helm" }),
			&Release{Name: "apps-web", StorageNamespace: "helm", Revision: 2, Status: "deployed"}},
		{"status.storageNamespace wins: the current release is stored there", hr(func(h *helmv2.HelmRelease) {
			h.Spec.StorageNamespace, h.Status.StorageNamespace = "new", "old"
		}), &Release{Name: "apps-web", StorageNamespace: "old", Revision: 2, Status: "deployed"}},
		// Past 53 characters: the first 40, "-" and 12 hex digits of the SHA-256.
		{"no name in history: helm-controller's release name, shortened", hr(func(h *helmv2.HelmRelease) {
			h.Status.History[0].Name = ""
			h.Spec.TargetNamespace, h.Name = "apps", long
		}), &Release{Name: "apps-" + strings.Repeat("x", 35) + "-d06aa9d2764c", StorageNamespace: "flux-system", Revision: 2, Status: "deployed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := releaseOf(tc.hr)
			if tc.want == nil || got == nil {
				if got != tc.want {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			if *got != *tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestReleaseProblemNeedsAttention: a release problem keeps a Ready
// object under --failing, counts in the summary and makes it unhealthy; a
// storage that could not be read does neither.
func TestReleaseProblemNeedsAttention(t *testing.T) {
	flagged := Object{Kind: "HelmRelease", Name: "web", State: StateReady, Release: &Release{Problem: "Helm storage on storage has no release apps/web; helm-controller reports revision 1 deployed"}}
	unread := Object{Kind: "HelmRelease", Name: "db", State: StateReady, Release: &Release{Error: "not allowed to list Secrets in apps on storage"}}
	r := &Report{Clusters: []Cluster{{Name: "storage", Reachable: true, Objects: []Object{flagged, unread}}}}
	if !flagged.NeedsAttention() || unread.NeedsAttention() {
		t.Fatalf("NeedsAttention: flagged %v, unread %v", flagged.NeedsAttention(), unread.NeedsAttention())
	}
	r.Summary = summarize(r)
	if want := (Summary{Clusters: 1, Objects: 2, Ready: 2, ReleaseProblems: 1}); r.Summary != want {
		t.Errorf("summary %+v, want %+v", r.Summary, want)
	}
	filterFailing(r)
	if len(r.Clusters) != 1 || len(r.Clusters[0].Objects) != 1 || r.Clusters[0].Objects[0].Name != "web" {
		t.Errorf("--failing kept %+v", r.Clusters)
	}
}
