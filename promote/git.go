package promote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Git runs the git binary in one directory. Promote shells out to git
// (rather than a Go git library) so that worktrees, the author, commit
// signing and push authentication behave exactly as the user's git does.
type Git struct {
	// Dir is the working directory of every command.
	Dir string
	// Env is added to the process environment.
	Env []string
	// Binary is the git executable; default "git" from PATH.
	Binary string
}

// GitError is a failed git command with its output.
type GitError struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *GitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), msg)
}

func (e *GitError) Unwrap() error { return e.Err }

// hooksOff keeps the user's git hooks out of the commands promote runs:
// the commit is a machine edit, checked by CI on the pull request.
var hooksOff = []string{"-c", "core.hooksPath=" + os.DevNull}

func (g *Git) cmd(ctx context.Context, args ...string) *exec.Cmd {
	bin := g.Binary
	if bin == "" {
		bin = "git"
	}
	c := exec.CommandContext(ctx, bin, append(append([]string{}, hooksOff...), args...)...)
	c.Dir = g.Dir
	c.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	c.Env = append(c.Env, g.Env...)
	return c
}

// Run runs git with args and returns its stdout.
func (g *Git) Run(ctx context.Context, args ...string) (string, error) {
	return g.RunInput(ctx, nil, args...)
}

// RunInput runs git with stdin and returns its stdout.
func (g *Git) RunInput(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	c := g.cmd(ctx, args...)
	c.Stdin = stdin
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("promote needs the git binary on PATH: %w", err)
		}
		return out.String(), &GitError{Args: args, Stderr: errb.String(), Err: err}
	}
	return out.String(), nil
}

func (g *Git) line(ctx context.Context, args ...string) (string, error) {
	out, err := g.Run(ctx, args...)
	return strings.TrimSpace(out), err
}

// TopLevel returns the top directory of the checkout holding g.Dir.
func (g *Git) TopLevel(ctx context.Context) (string, error) {
	out, err := g.line(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", fmt.Errorf("%s is not inside a git checkout: pass --repo DIR (%w)", g.Dir, err)
	}
	return out, nil
}

// Commit resolves rev to a full commit hash.
func (g *Git) Commit(ctx context.Context, rev string) (string, error) {
	out, err := g.line(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil || out == "" {
		return "", fmt.Errorf("%q is not a commit of the checkout %s (fetch it first?)", rev, g.Dir)
	}
	return out, nil
}

// Upstream returns the upstream of the checked-out branch, e.g. origin/main.
func (g *Git) Upstream(ctx context.Context) (string, error) {
	out, err := g.line(ctx, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
	if err != nil || out == "" {
		return "", errors.New("the checked-out branch has no upstream (or HEAD is detached): pass --base BRANCH")
	}
	return out, nil
}

// Remotes lists the configured remotes.
func (g *Git) Remotes(ctx context.Context) ([]string, error) {
	out, err := g.Run(ctx, "remote")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// RemoteURL returns the configured URL of a remote ("" when none).
func (g *Git) RemoteURL(ctx context.Context, remote string) string {
	out, _ := g.line(ctx, "config", "--get", "remote."+remote+".url")
	return out
}

// BranchCommit returns the commit of a local branch, or "" when there is
// no such branch.
func (g *Git) BranchCommit(ctx context.Context, branch string) string {
	out, err := g.line(ctx, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch)
	if err != nil {
		return ""
	}
	return out
}

// CheckBranchName returns an error unless name is a valid branch name.
func (g *Git) CheckBranchName(ctx context.Context, name string) error {
	if _, err := g.Run(ctx, "check-ref-format", "--branch", name); err != nil {
		return fmt.Errorf("%q is not a valid branch name", name)
	}
	return nil
}

// ReadTree returns the files at commit whose paths keep accepts: regular
// files only (no symlinks, no submodules).
func (g *Git) ReadTree(ctx context.Context, commit string, keep func(string) bool) ([]File, error) {
	out, err := g.Run(ctx, "ls-tree", "-r", "-z", "--full-tree", commit)
	if err != nil {
		return nil, err
	}
	var paths, blobs []string
	for _, entry := range strings.Split(out, "\x00") {
		meta, p, ok := strings.Cut(entry, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		if len(f) != 3 || f[1] != "blob" || f[0] == "120000" || !keep(p) {
			continue
		}
		paths = append(paths, p)
		blobs = append(blobs, f[2])
	}
	if len(blobs) == 0 {
		return nil, nil
	}
	c := g.cmd(ctx, "cat-file", "--batch")
	c.Stdin = strings.NewReader(strings.Join(blobs, "\n") + "\n")
	var errb bytes.Buffer
	c.Stderr = &errb
	stdout, err := c.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	r := bufio.NewReader(stdout)
	files := make([]File, 0, len(paths))
	var readErr error
	for i := range blobs {
		header, err := r.ReadString('\n')
		if err != nil {
			readErr = err
			break
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			readErr = fmt.Errorf("unexpected git cat-file output %q", header)
			break
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			readErr = err
			break
		}
		data := make([]byte, size+1) // content and a newline
		if _, err := io.ReadFull(r, data); err != nil {
			readErr = err
			break
		}
		files = append(files, File{Path: paths[i], Data: data[:size]})
	}
	_, _ = io.Copy(io.Discard, r)
	if err := c.Wait(); err != nil {
		return nil, &GitError{Args: []string{"cat-file", "--batch"}, Stderr: errb.String(), Err: err}
	}
	if readErr != nil {
		return nil, fmt.Errorf("reading files of %s: %w", commit, readErr)
	}
	return files, nil
}

// Show returns the content of a file at commit, and whether it exists.
func (g *Git) Show(ctx context.Context, commit, path string) ([]byte, bool, error) {
	out, err := g.Run(ctx, "ls-tree", "-z", "--full-tree", commit, "--", path)
	if err != nil {
		return nil, false, err
	}
	meta, p, ok := strings.Cut(strings.TrimSuffix(out, "\x00"), "\t")
	f := strings.Fields(meta)
	if !ok || p != path || len(f) != 3 || f[1] != "blob" {
		return nil, false, nil
	}
	data, err := g.Run(ctx, "cat-file", "blob", f[2])
	if err != nil {
		return nil, false, err
	}
	return []byte(data), true, nil
}
