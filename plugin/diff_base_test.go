package plugin

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// gitOut runs the git CLI in dir: the oracle for what the checkout holds.
func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func unchangedIDs(res *diff.Result) map[string]bool {
	out := map[string]bool{}
	for _, u := range res.Unchanged {
		out[u.ID()] = true
	}
	return out
}

func TestDiffBase(t *testing.T) {
	s, flags := loadSample(t, testfleet.SampleOptions{})
	ns := s.Namespace
	head := gitOut(t, s.RepoDir, "rev-parse", "HEAD")

	// Nothing changed since HEAD: nothing is diffed, everything is listed.
	r := run(t, diffArgs(s, flags, "-o", "json", "--base", "HEAD")...)
	res := decodeDiff(t, r.stdout)
	if r.code != 0 || res.Base == nil || res.Base.Ref != "HEAD" || res.Base.Commit != head {
		t.Fatalf("--base HEAD on a clean checkout: exit %d base %+v\n%s", r.code, res.Base, r.stderr)
	}
	if len(res.Kustomizations) != 0 || len(res.HelmReleases) != 0 || len(res.Unchanged) < 9 {
		t.Fatalf("clean checkout: want nothing diffed and every Kustomization unchanged: %+v %+v unchanged %+v", res.Kustomizations, res.HelmReleases, res.Unchanged)
	}
	if !unchangedIDs(res)["HelmRelease/"+ns+"/memcached"] || !unchangedIDs(res)["Kustomization/"+ns+"/storage-apps"] {
		t.Fatalf("unchanged list lacks memcached or storage-apps: %+v", res.Unchanged)
	}

	// A change to one spoke's path and to one HelmRelease's values, made
	// in the working tree and committed as a PR branch would be.
	editFile(t, s.RepoDir, "clusters/storage/apps/configmap.yaml", "    vms\n", "    vms\n    backups\n")
	editFile(t, s.RepoDir, "apps/management/helmreleases/memcached.yaml", "replicaCount: 3", "replicaCount: 2")
	gitOut(t, s.RepoDir, "checkout", "-q", "-b", "pr")
	gitOut(t, s.RepoDir, "commit", "-qam", "pr: storage pools, memcached replicas")
	status := gitOut(t, s.RepoDir, "status", "--porcelain")

	r = run(t, diffArgs(s, flags, "-o", "json", "--base", head[:10])...)
	res = decodeDiff(t, r.stdout)
	if r.code != 1 || res.Base.Commit != head {
		t.Fatalf("--base with a change: exit %d base %+v\n%s\n%s", r.code, res.Base, r.stderr, r.stdout)
	}
	diffed := map[string]bool{}
	for _, k := range res.Kustomizations {
		diffed[k.ID()] = true
	}
	if !diffed[ns+"/storage-apps"] || diffed[ns+"/hypervisor-apps"] || diffed[ns+"/control-plane-infrastructure"] {
		t.Fatalf("want storage-apps diffed and the untouched spokes not: %+v", res.Kustomizations)
	}
	var hrs []string
	for _, h := range res.HelmReleases {
		hrs = append(hrs, h.ID())
	}
	if len(hrs) != 1 || hrs[0] != ns+"/memcached" {
		t.Fatalf("want only memcached rendered, got %v", hrs)
	}
	un := unchangedIDs(res)
	if !un["Kustomization/"+ns+"/hypervisor-apps"] || un["Kustomization/"+ns+"/storage-apps"] || un["HelmRelease/"+ns+"/memcached"] || !un["HelmRelease/"+ns+"/rook-ceph"] {
		t.Fatalf("unchanged list: %+v", res.Unchanged)
	}
	var sawPools, sawReplicas bool
	for _, o := range res.Objects {
		sawPools = sawPools || (o.Name == "ceph-cluster-config" && strings.Contains(o.Diff, "+    backups"))
		sawReplicas = sawReplicas || (o.HelmRelease == ns+"/memcached" && o.Action == diff.ActionDrifted)
	}
	if !sawPools || !sawReplicas {
		t.Fatalf("want the ConfigMap and memcached's objects live-diffed (pools %v, replicas %v):\n%s", sawPools, sawReplicas, r.stdout)
	}
	for _, format := range []string{"text", "markdown"} {
		r = run(t, diffArgs(s, flags, "-o", format, "--base", head)...)
		if r.code != 1 || !strings.Contains(r.stdout, head[:12]) || !strings.Contains(r.stdout, "unchanged by this change") {
			t.Fatalf("-o %s: exit %d, want the base commit and the unchanged list:\n%s", format, r.code, r.stdout)
		}
	}

	// An unknown base: exit 2 naming it; the checkout is untouched.
	r = run(t, diffArgs(s, flags, "--base", "no-such-ref")...)
	if r.code != 2 || !strings.Contains(r.stderr, `"no-such-ref" is not a branch, tag or commit`) {
		t.Fatalf("unknown base: exit %d\n%s", r.code, r.stderr)
	}
	if got := gitOut(t, s.RepoDir, "status", "--porcelain"); got != status {
		t.Fatalf("the checkout changed: %q, was %q", got, status)
	}
	if got := gitOut(t, s.RepoDir, "rev-parse", "HEAD", "--abbrev-ref", "HEAD"); !strings.HasSuffix(got, "\npr") {
		t.Fatalf("HEAD moved: %s", got)
	}
}
