package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
)

// TestDiffNoLiveCommand: `diff --base REF --no-live` on a checkout, with
// no kubeconfig anywhere (KUBECONFIG and HOME point at nothing): args →
// exit code → stdout/stderr, and no row writes to the checkout. What the
// engine reports offline is diff's TestRunOffline, TestRunOfflineHelm and
// TestRunOfflineSkippedHub.
func TestDiffNoLiveCommand(t *testing.T) {
	dir, base := fixture.GitopsRepo(t)
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	t.Setenv("HOME", t.TempDir())
	// The PR: a changed ConfigMap on storage.
	fixture.EditFile(t, dir, "clusters/storage/apps/configmap.yaml", "    vms\n", "    vms\n    backups\n")
	fixture.Git(t, dir, "commit", "-qam", "pr")
	// A shallow clone without the base.
	shallow := filepath.Join(t.TempDir(), "shallow")
	fixture.Git(t, dir, "clone", "-q", "--depth", "1", "--branch", "pr", "file://"+dir, shallow)
	if _, err := os.Stat(filepath.Join(shallow, ".git", "shallow")); err != nil {
		t.Fatalf("not a shallow clone: %v", err)
	}
	for _, tc := range []struct {
		name     string
		repo     string
		args     []string
		code     int
		noStdout bool
		stdout   []string
		stderr   []string
	}{
		{name: "changes against main -o json", repo: dir, args: []string{"--base", "main", "--no-live", "-o", "json"}, code: 1, stdout: []string{`"noLive": true`}},
		{name: "changes against main", repo: dir, args: []string{"--base", "main", "--no-live"}, code: 1, stdout: []string{"Live state was not read", "+    backups"}},
		{name: "changes against main -o markdown", repo: dir, args: []string{"--base", "main", "--no-live", "-o", "markdown"}, code: 1, stdout: []string{"Live state was not read", "+    backups"}},
		{name: "changes against main --offline", repo: dir, args: []string{"--base", "main", "--no-live", "--offline"}, code: 1, stdout: []string{"+    backups"}},
		{name: "nothing against the PR", repo: dir, args: []string{"--base", "pr", "--no-live", "-o", "json"}, code: 0, stdout: []string{`"objects": []`}},
		{name: "--no-live without --base", repo: dir, args: []string{"--no-live"}, code: 2, noStdout: true,
			stderr: []string{"--no-live compares the checkout with a base revision: pass --base REF"}},
		{name: "unknown --base", repo: dir, args: []string{"--base", "no-such-ref", "--no-live"}, code: 2, noStdout: true,
			stderr: []string{`"no-such-ref" is not a branch, tag or commit`}},
		{name: "unknown --base, live", repo: dir, args: []string{"--base", "v9.9.9"}, code: 2, noStdout: true,
			stderr: []string{`"v9.9.9" is not a branch, tag or commit`}},
		{name: "shallow clone without the base", repo: shallow, args: []string{"--base", base, "--no-live"}, code: 2,
			stderr: []string{"shallow clone", base[:7]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, append([]string{"diff", "--repo", tc.repo, "--color", "never"}, tc.args...)...)
			wantExit(t, strings.Join(tc.args, " "), r, tc.code)
			if tc.noStdout {
				expect.Equal(t, "stdout", r.stdout, "")
			}
			if len(tc.stdout) > 0 {
				expect.Contains(t, "stdout", r.stdout, tc.stdout...)
			}
			if len(tc.stderr) > 0 {
				expect.Contains(t, "stderr", r.stderr, tc.stderr...)
			}
		})
	}
	for _, repo := range []string{dir, shallow} {
		if got := fixture.Git(t, repo, "status", "--porcelain"); got != "" {
			t.Fatalf("checkout %s changed: %q", repo, got)
		}
	}
}
