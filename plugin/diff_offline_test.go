package plugin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitopsRepo is a real git repository holding testdata/gitops, committed
// on main, on a branch "pr" checked out.
func gitopsRepo(t *testing.T) (dir, base string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "gitops")
	if out, err := exec.Command("cp", "-r", filepath.Join("..", "testdata", "gitops"), dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	gitOut(t, dir, "init", "-q", "-b", "main")
	gitOut(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
	gitOut(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
	gitOut(t, dir, "checkout", "-q", "-b", "pr")
	return dir, gitOut(t, dir, "rev-parse", "HEAD")
}

func TestDiffNoLive(t *testing.T) {
	dir, base := gitopsRepo(t)
	// No hub at all: no kubeconfig anywhere.
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	t.Setenv("HOME", t.TempDir())
	const secretValue = "s3cr3t-offline-value"
	// The PR: a changed ConfigMap on storage, a new Secret on the
	// hypervisor spoke, a ConfigMap dropped from a pruning Kustomization,
	// and a substituteFrom only the hub holds.
	editFile(t, dir, "clusters/storage/apps/configmap.yaml", "    vms\n", "    vms\n    backups\n")
	writeFile(t, dir, "clusters/hypervisor/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: nova-db\n  namespace: nova-compute\nstringData:\n  password: "+secretValue+"\n")
	editFile(t, dir, "clusters/hypervisor/kustomization.yaml", "  - daemonset.yaml\n", "  - daemonset.yaml\n  - secret.yaml\n")
	editFile(t, dir, "clusters/storage/rook-operator/kustomization.yaml", "  - configmap.yaml\n", "")
	editFile(t, dir, "clusters/management/control-plane-apps.yaml", "        name: cluster-vars\n", "        name: cluster-vars\n      - kind: Secret\n        name: hub-only-vars\n        optional: true\n")
	gitOut(t, dir, "add", "-A")
	gitOut(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "pr")

	r := run(t, "diff", "--repo", dir, "--color", "never", "--base", "main", "--no-live", "-o", "json")
	res := decodeDiff(t, r.stdout)
	if r.code != 1 || !res.NoLive || res.Base == nil || res.Base.Commit != base {
		t.Fatalf("--no-live: exit %d noLive %v base %+v\nstderr %s\n%s", r.code, res.NoLive, res.Base, r.stderr, r.stdout)
	}
	if strings.Contains(r.stdout, secretValue) {
		t.Fatalf("Secret value printed:\n%s", r.stdout)
	}
	got := map[string]string{}
	for _, o := range res.Objects {
		got[o.Cluster+" "+o.ID()] = string(o.Action)
	}
	want := map[string]string{
		"storage ConfigMap/rook-ceph/ceph-cluster-config":         "drifted",
		"hypervisor Secret/nova-compute/nova-db":                  "created",
		"storage ConfigMap/rook-ceph/rook-site-settings":          "deleted",
		"management Kustomization/flux-system/control-plane-apps": "drifted",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: want %s, got %q (all: %v)", k, v, got[k], got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("want exactly %d changes, got %v", len(want), got)
	}
	un := unchangedIDs(res)
	if !un["Kustomization/flux-system/control-plane-infrastructure"] || un["Kustomization/flux-system/storage-apps"] {
		t.Errorf("unchanged list: %+v", res.Unchanged)
	}
	if len(res.NotResolvedOffline) != 1 || !strings.HasPrefix(res.NotResolvedOffline[0], "Secret/flux-system/hub-only-vars") {
		t.Errorf("notResolvedOffline: %v", res.NotResolvedOffline)
	}
	for _, format := range []string{"text", "markdown"} {
		r := run(t, "diff", "--repo", dir, "--color", "never", "--base", "main", "--no-live", "-o", format)
		if r.code != 1 || !strings.Contains(r.stdout, "Live state was not read") || !strings.Contains(r.stdout, "hub-only-vars") ||
			!strings.Contains(r.stdout, "+    backups") || strings.Contains(r.stdout, secretValue) {
			t.Fatalf("-o %s: exit %d\n%s\n%s", format, r.code, r.stdout, r.stderr)
		}
	}
	// No change against the PR itself.
	if r := run(t, "diff", "--repo", dir, "--base", "pr", "--no-live", "-o", "json"); r.code != 0 || len(decodeDiff(t, r.stdout).Objects) != 0 {
		t.Fatalf("--base pr: exit %d %+v %+v", r.code, decodeDiff(t, r.stdout).Objects, decodeDiff(t, r.stdout).Kustomizations)
	}

	// Bad input: exit 2 naming it, the checkout untouched.
	status := gitOut(t, dir, "status", "--porcelain")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--no-live"}, "--no-live compares the checkout with a base revision: pass --base REF"},
		{[]string{"--base", "no-such-ref", "--no-live"}, `"no-such-ref" is not a branch, tag or commit`},
		{[]string{"--base", "v9.9.9"}, `"v9.9.9" is not a branch, tag or commit`},
	} {
		r := run(t, append([]string{"diff", "--repo", dir}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, want 2 and %q\n%s", c.args, r.code, c.want, r.stderr)
		}
	}
	if got := gitOut(t, dir, "status", "--porcelain"); got != status || got != "" {
		t.Fatalf("checkout changed: %q", got)
	}

	// A shallow clone without the base: named, with the fix.
	shallow := filepath.Join(t.TempDir(), "shallow")
	gitOut(t, dir, "clone", "-q", "--depth", "1", "--branch", "pr", "file://"+dir, shallow)
	r = run(t, "diff", "--repo", shallow, "--base", base, "--no-live")
	if r.code != 2 || !strings.Contains(r.stderr, "shallow clone") || !strings.Contains(r.stderr, base[:7]) {
		t.Fatalf("shallow clone: exit %d\n%s", r.code, r.stderr)
	}
	if got := gitOut(t, shallow, "status", "--porcelain"); got != "" {
		t.Fatalf("shallow checkout changed: %q", got)
	}
	if _, err := os.Stat(filepath.Join(shallow, ".git", "shallow")); err != nil {
		t.Fatalf("not a shallow clone: %v", err)
	}
}
