package plugin

import (
	"bytes"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// gitopsCheckout is a user's checkout of the sample gitops repo: main with
// origin/main as upstream and an author in its config.
func gitopsCheckout(t testing.TB) string {
	t.Helper()
	root, err := testfleet.ModuleRoot()
	expect.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "c5c3-gitops")
	expect.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(root, "testdata", "gitops"))))
	for _, args := range [][]string{
		{"init", "--quiet", "--initial-branch=main"}, {"config", "user.name", "Dana Operator"}, {"config", "user.email", "dana@c5c3.example"},
		{"add", "--all"}, {"commit", "--quiet", "-m", "sample"}, {"remote", "add", "origin", "https://github.com/c5c3/c5c3-gitops.git"},
		{"update-ref", "refs/remotes/origin/main", "HEAD"}, {"config", "branch.main.remote", "origin"}, {"config", "branch.main.merge", "refs/heads/main"},
	} {
		promoteGit(t, dir, args...)
	}
	return dir
}

// holdPush is a git server middleware that holds the push's receive-pack
// request — before the server sees it (landed=false) or after the server
// took the branch (landed=true) — until the client goes away; arrived is
// closed when it holds one.
type holdPush struct {
	landed  bool
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

func (h *holdPush) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/git-receive-pack") {
			next.ServeHTTP(w, req)
			return
		}
		if h.landed {
			next.ServeHTTP(httptest.NewRecorder(), req)
		}
		h.once.Do(func() { close(h.arrived) })
		select {
		case <-req.Context().Done():
		case <-h.release:
		}
		http.Error(w, "gone", http.StatusServiceUnavailable)
	})
}

// waitUntil polls until cond holds (bounded; the test fails if it never
// does).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPromoteInterrupted sends SIGINT, as Ctrl-C does (to the process
// group), to the real binary at several points of a promotion, and checks
// that it leaves no worktree, no temporary directory, no half-made branch,
// that origin has either nothing or the settled branch, and that the
// output says which.
func TestPromoteInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := buildPlugin(t)
	for _, tc := range []struct {
		name string
		// setUp prepares the checkout and returns what to wait for before
		// the signal.
		setUp      func(t *testing.T, dir string) (ready func() bool, bare string, args []string)
		code       int
		want       []string
		onOrigin   bool // the branch is on origin and kept locally
		worktree   bool // the temporary worktree exists when the signal is sent
		stdoutWant string
	}{
		{name: "before the commit, while previewing against the hub", setUp: func(t *testing.T, dir string) (func() bool, string, []string) {
			// A hub that never answers: the edit is made in the worktree,
			// the --diff preview waits for the hub.
			arrived, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				once.Do(func() { close(arrived) })
				select {
				case <-req.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(hub.Close)
			t.Cleanup(func() { close(release) })
			kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
			expect.NoError(t, os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: hub, cluster: {server: "+hub.URL+"}}]\n"+
				"users: [{name: u, user: {}}]\ncontexts: [{name: hub, context: {cluster: hub, user: u}}]\ncurrent-context: hub\n"), 0o600))
			// No --request-timeout: the interrupt alone ends the wait.
			return closed(arrived), "", []string{"--diff", "--kubeconfig", kubeconfig, "--request-timeout", "0"}
		}, code: 130, want: []string{"error: "}, worktree: true},
		{name: "while signing the commit", setUp: func(t *testing.T, dir string) (func() bool, string, []string) {
			marker := filepath.Join(t.TempDir(), "signing")
			gpg := filepath.Join(t.TempDir(), "gpg")
			expect.NoError(t, os.WriteFile(gpg, []byte("#!/bin/sh\n: > "+marker+"\nexec sleep 60\n"), 0o755))
			promoteGit(t, dir, "config", "commit.gpgsign", "true")
			promoteGit(t, dir, "config", "gpg.program", gpg)
			return func() bool { _, err := os.Stat(marker); return err == nil }, "", nil
		}, code: 130, want: []string{"error: committing: "}, worktree: true},
		{name: "during the push, before it landed", setUp: func(t *testing.T, dir string) (func() bool, string, []string) {
			h := &holdPush{arrived: make(chan struct{}), release: make(chan struct{})}
			bare := servePushURL(t, dir, h.middleware)
			t.Cleanup(func() { close(h.release) })
			return closed(h.arrived), bare, []string{"--push"}
		}, code: 130, want: []string{"was interrupted (origin does not have it), so the local branch ", " was removed again; your checkout is as before"}},
		{name: "during the push, after it landed", setUp: func(t *testing.T, dir string) (func() bool, string, []string) {
			h := &holdPush{landed: true, arrived: make(chan struct{}), release: make(chan struct{})}
			bare := servePushURL(t, dir, h.middleware)
			t.Cleanup(func() { close(h.release) })
			return closed(h.arrived), bare, []string{"--push"}
		}, code: 130, onOrigin: true, want: []string{"was interrupted after the push landed: origin has ", "; the local branch stays"}, stdoutWant: "Pushed "},
		{name: "after the push, opening the pull request", setUp: func(t *testing.T, dir string) (func() bool, string, []string) {
			bare := servePushURL(t, dir)
			arrived, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				once.Do(func() { close(arrived) })
				select {
				case <-req.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(api.Close)
			t.Cleanup(func() { close(release) })
			t.Setenv("GITHUB_TOKEN", "ghp_test")
			return closed(arrived), bare, []string{"--open-pr", "--github-api-url", api.URL}
		}, code: 130, onOrigin: true, want: []string{" is pushed to origin, but "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := gitopsCheckout(t)
			ready, bare, args := tc.setUp(t, dir)
			tmp := t.TempDir()
			before := checkoutState(t, dir)
			head := promoteGit(t, dir, "rev-parse", "HEAD")
			branch := "promote/staging-to-production-" + head[:7]

			cmd := exec.Command(bin, append([]string{"promote", "staging", "production", "--from-revision", "HEAD", "--skip-health-check",
				"--repo", dir, "--color", "never"}, args...)...)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "KUBECONFIG="+os.DevNull)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			expect.NoError(t, cmd.Start())
			waitUntil(t, tc.name, ready)
			if entries, _ := os.ReadDir(tmp); tc.worktree && (len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "kubectl-c5c3-worktree-")) {
				t.Errorf("no temporary worktree when the signal is sent: %v", entries)
			}
			expect.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT))
			err := cmd.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if !strings.Contains(stdout.String(), tc.stdoutWant) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdoutWant, stdout.String())
			}
			// No worktree, no temporary directory, and the branch only when
			// origin has it too.
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("left in TMPDIR: %v", entries)
			}
			if tc.onOrigin {
				local := promoteGit(t, dir, "rev-parse", "refs/heads/"+branch)
				if remote := promoteGit(t, bare, "rev-parse", "refs/heads/"+branch); remote != local {
					t.Errorf("origin has %s at %s, the checkout at %s", branch, remote, local)
				}
				if after := checkoutState(t, dir, branch); after != before {
					t.Errorf("checkout changed beyond the branch:\n%s\n---\n%s", before, after)
				}
				return
			}
			if after := checkoutState(t, dir); after != before {
				t.Errorf("checkout changed:\n%s\n---\n%s", before, after)
			}
			if bare != "" {
				if out, err := exec.Command("git", "-C", bare, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch).CombinedOutput(); err == nil {
					t.Errorf("origin has the branch: %s", out)
				}
			}
		})
	}
}

func closed(c chan struct{}) func() bool {
	return func() bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
}
