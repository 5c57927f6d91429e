package promote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

func TestMain(m *testing.M) {
	// Tests must not depend on (or be disturbed by) the developer's git
	// configuration: CI has none.
	os.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	log.SetOutput(io.Discard) // gittestserver logs every request
	// A TMPDIR of the package's own (the tests run in parallel, so one
	// test cannot tell its temporary directories from another's): promote
	// must leave none of its worktrees behind in it.
	tmp, err := os.MkdirTemp("", "c5c3-promote-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("TMPDIR", tmp)
	code := testfleet.Run(m)
	if left, _ := filepath.Glob(filepath.Join(tmp, "kubectl-c5c3-*")); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: promote left temporary directories behind: %s\n", strings.Join(left, ", "))
		code = 1
	}
	os.RemoveAll(tmp)
	os.Exit(code)
}

// gitT runs git in dir and fails the test on error.
func gitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitOut(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

func gitOut(dir string, args ...string) (string, error) {
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(),
		"GIT_AUTHOR_DATE=2026-11-01T12:00:00Z", "GIT_COMMITTER_DATE=2026-11-01T12:00:00Z",
		"GIT_AUTHOR_NAME=C5C3 Setup", "GIT_AUTHOR_EMAIL=setup@c5c3.example",
		"GIT_COMMITTER_NAME=C5C3 Setup", "GIT_COMMITTER_EMAIL=setup@c5c3.example")
	out, err := c.CombinedOutput()
	return string(out), err
}

// testRepo is a user's checkout of the sample gitops repo.
type testRepo struct {
	Dir string
	// Commit is the first commit (main).
	Commit string
}

// newRepo makes a checkout of testdata/gitops on branch main with an
// origin remote whose upstream origin/main is that commit, and a
// repository-local author (the user's git config).
func newRepo(t *testing.T) *testRepo {
	t.Helper()
	root, err := testfleet.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "c5c3-gitops")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, "testdata", "gitops"))); err != nil {
		t.Fatal(err)
	}
	return initRepo(t, dir)
}

// initRepo turns dir into such a checkout.
func initRepo(t *testing.T, dir string) *testRepo {
	t.Helper()
	gitT(t, dir, "init", "--quiet", "--initial-branch=main")
	gitT(t, dir, "config", "user.name", "Dana Operator")
	gitT(t, dir, "config", "user.email", "dana@c5c3.example")
	gitT(t, dir, "add", "--all")
	gitT(t, dir, "commit", "--quiet", "-m", "c5c3-gitops: sample fleet")
	gitT(t, dir, "remote", "add", "origin", "https://github.com/c5c3/c5c3-gitops.git")
	setUpstream(t, dir)
	return &testRepo{Dir: dir, Commit: gitT(t, dir, "rev-parse", "HEAD")}
}

// setUpstream points origin/main at HEAD and makes it main's upstream, as
// a fetch would.
func setUpstream(t *testing.T, dir string) {
	t.Helper()
	gitT(t, dir, "update-ref", "refs/remotes/origin/main", "HEAD")
	gitT(t, dir, "config", "branch.main.remote", "origin")
	gitT(t, dir, "config", "branch.main.merge", "refs/heads/main")
}

// commitFile writes a file in the checkout and commits it on the current
// branch; it returns the commit.
func commitFile(t *testing.T, dir, file, content, msg string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	gitT(t, dir, "add", "--", file)
	gitT(t, dir, "commit", "--quiet", "-m", msg)
	return gitT(t, dir, "rev-parse", "HEAD")
}

// replaceInFile edits a committed file and commits the edit.
func replaceInFile(t *testing.T, dir, file, old, new, msg string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	return commitFile(t, dir, file, strings.Replace(string(b), old, new, 1), msg)
}

// checkout is everything about a checkout promote must not change.
type checkout struct {
	Head, Branch, Status, Refs, Worktrees, Index, Files, Config string
}

func snapshot(t *testing.T, dir string) checkout {
	t.Helper()
	index, err := os.ReadFile(filepath.Join(dir, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	config, err := os.ReadFile(filepath.Join(dir, ".git", "config"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, fmt.Sprintf("%s %x", rel, sha256.Sum256(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	worktreesDir, _ := os.ReadDir(filepath.Join(dir, ".git", "worktrees"))
	return checkout{
		Head:      gitT(t, dir, "rev-parse", "HEAD"),
		Branch:    gitT(t, dir, "symbolic-ref", "--quiet", "HEAD"),
		Status:    gitT(t, dir, "status", "--porcelain=v1", "--ignored", "--untracked-files=all"),
		Refs:      gitT(t, dir, "for-each-ref", "--format=%(refname) %(objectname)"),
		Worktrees: gitT(t, dir, "worktree", "list", "--porcelain") + fmt.Sprintf(" admin dirs: %d", len(worktreesDir)),
		Index:     fmt.Sprintf("%x", sha256.Sum256(index)),
		Files:     strings.Join(files, "\n"),
		Config:    string(config),
	}
}

// assertUntouched checks that the checkout is as in before, except for
// refs listed in newRefs (e.g. the promotion branch after a success).
func assertUntouched(t *testing.T, dir string, before checkout, newRefs ...string) {
	t.Helper()
	after := snapshot(t, dir)
	if !strings.Contains(after.Worktrees, " admin dirs: 0") || strings.Count(after.Worktrees, "worktree ") != 1 {
		t.Errorf("a worktree was left behind:\n%s", after.Worktrees)
	}
	after.Refs, before.Refs = dropRefs(after.Refs, newRefs), dropRefs(before.Refs, newRefs)
	if after != before {
		t.Errorf("the checkout changed:\nbefore %+v\nafter  %+v", before, after)
	}
	if after.Status != "" {
		t.Errorf("git status is not clean:\n%s", after.Status)
	}
}

// dropRefs removes the lines of the given refs from a for-each-ref list.
func dropRefs(list string, drop []string) string {
	var refs []string
	for _, l := range strings.Split(list, "\n") {
		keep := true
		for _, r := range drop {
			if strings.HasPrefix(l, r+" ") {
				keep = false
			}
		}
		if keep {
			refs = append(refs, l)
		}
	}
	return strings.Join(refs, "\n")
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// normalize replaces the commits of a run with stable names for golden
// files: the full hash with NAME-full, the short one with NAME.
func normalize(s string, commits map[string]string) string {
	for sha, name := range commits {
		s = strings.ReplaceAll(s, sha, name+"-full")
		s = strings.ReplaceAll(s, sha[:7], name)
	}
	return s
}
