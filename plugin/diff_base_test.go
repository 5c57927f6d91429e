package plugin

import (
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

func unchangedIDs(res *diff.Result) map[string]bool {
	out := map[string]bool{}
	for _, u := range res.Unchanged {
		out[u.ID()] = true
	}
	return out
}

func TestDiffBase(t *testing.T) {
	t.Parallel()
	s, flags := loadSample(t, testfleet.SampleOptions{})
	ns := s.Namespace
	head := fixture.Git(t, s.RepoDir, "rev-parse", "HEAD")

	// Nothing changed since HEAD: nothing is diffed, everything is listed.
	r := run(t, diffArgs(s, flags, "-o", "json", "--base", "HEAD")...)
	res := decodeDiff(t, r.stdout)
	wantExit(t, "--base HEAD on a clean checkout", r, 0)
	if res.Base == nil {
		t.Fatalf("--base HEAD on a clean checkout: no base, want HEAD at %s", head)
	}
	expect.Equal(t, "--base HEAD on a clean checkout: base ref", res.Base.Ref, "HEAD")
	expect.Equal(t, "--base HEAD on a clean checkout: base commit", res.Base.Commit, head)
	if len(res.Kustomizations) != 0 {
		t.Errorf("clean checkout: Kustomizations diffed %+v, want none", res.Kustomizations)
	}
	if len(res.HelmReleases) != 0 {
		t.Errorf("clean checkout: HelmReleases rendered %+v, want none", res.HelmReleases)
	}
	if len(res.Unchanged) < 9 {
		t.Errorf("clean checkout: unchanged %+v, want every Kustomization (at least 9)", res.Unchanged)
	}
	for _, id := range []string{"HelmRelease/" + ns + "/memcached", "Kustomization/" + ns + "/storage-apps"} {
		if !unchangedIDs(res)[id] {
			t.Errorf("clean checkout: unchanged list %+v lacks %s", res.Unchanged, id)
		}
	}

	// A change to one spoke's path and to one HelmRelease's values, made
	// in the working tree and committed as a PR branch would be.
	fixture.EditFile(t, s.RepoDir, "clusters/storage/apps/configmap.yaml", "    vms\n", "    vms\n    backups\n")
	fixture.EditFile(t, s.RepoDir, "apps/management/helmreleases/memcached.yaml", "replicaCount: 3", "replicaCount: 2")
	fixture.Git(t, s.RepoDir, "checkout", "-q", "-b", "pr")
	fixture.Git(t, s.RepoDir, "commit", "-qam", "pr: storage pools, memcached replicas")
	status := fixture.Git(t, s.RepoDir, "status", "--porcelain")

	r = run(t, diffArgs(s, flags, "-o", "json", "--base", head[:10])...)
	res = decodeDiff(t, r.stdout)
	wantExit(t, "--base with a change", r, 1)
	if res.Base == nil {
		t.Fatalf("--base with a change: no base, want %s", head)
	}
	expect.Equal(t, "--base with a change: base commit", res.Base.Commit, head)
	diffed := map[string]bool{}
	for _, k := range res.Kustomizations {
		diffed[k.ID()] = true
	}
	expect.Equal(t, "storage-apps (changed) diffed", diffed[ns+"/storage-apps"], true)
	expect.Equal(t, "hypervisor-apps (untouched) diffed", diffed[ns+"/hypervisor-apps"], false)
	expect.Equal(t, "control-plane-infrastructure (untouched) diffed", diffed[ns+"/control-plane-infrastructure"], false)
	var hrs []string
	for _, h := range res.HelmReleases {
		hrs = append(hrs, h.ID())
	}
	expect.Equal(t, "HelmReleases rendered", strings.Join(hrs, ","), ns+"/memcached")
	un := unchangedIDs(res)
	for id, want := range map[string]bool{"Kustomization/" + ns + "/hypervisor-apps": true, "Kustomization/" + ns + "/storage-apps": false,
		"HelmRelease/" + ns + "/memcached": false, "HelmRelease/" + ns + "/rook-ceph": true} {
		expect.Equal(t, "unchanged "+id, un[id], want)
	}
	var sawPools, sawReplicas bool
	for _, o := range res.Objects {
		sawPools = sawPools || (o.Name == "ceph-cluster-config" && strings.Contains(o.Diff, "+    backups"))
		sawReplicas = sawReplicas || (o.HelmRelease == ns+"/memcached" && o.Action == diff.ActionDrifted)
	}
	if !sawPools {
		t.Errorf("ConfigMap ceph-cluster-config not live-diffed with the new pool:\n%s", r.stdout)
	}
	if !sawReplicas {
		t.Errorf("no object of memcached live-diffed as drifted:\n%s", r.stdout)
	}
	for _, format := range []string{"text", "markdown"} {
		r = run(t, diffArgs(s, flags, "-o", format, "--base", head)...)
		wantExit(t, "-o "+format, r, 1)
		expect.Contains(t, "-o "+format, r.stdout, head[:12], "unchanged by this change")
	}

	// An unknown base: exit 2 naming it; the checkout is untouched.
	r = run(t, diffArgs(s, flags, "--base", "no-such-ref")...)
	wantExit(t, "unknown base", r, 2)
	expect.Contains(t, "unknown base: stderr", r.stderr, `"no-such-ref" is not a branch, tag or commit`)
	if got := fixture.Git(t, s.RepoDir, "status", "--porcelain"); got != status {
		t.Fatalf("the checkout changed: %q, was %q", got, status)
	}
	if got := fixture.Git(t, s.RepoDir, "rev-parse", "HEAD", "--abbrev-ref", "HEAD"); !strings.HasSuffix(got, "\npr") {
		t.Fatalf("HEAD moved: %s", got)
	}
}
