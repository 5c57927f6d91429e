package gitrepo

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
	"time"
)

// Git runs the user's git binary (from PATH) in one directory, with hooks
// and terminal prompts off (see the package doc for why the CLI).
type Git struct {
	// Dir is the working directory of every command.
	Dir string
}

// File is a file read from a tree: its slash-separated path from the top
// of the repository, and its content.
type File struct {
	Path string
	Data []byte
}

// CommandError is a failed git command with its output.
type CommandError struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *CommandError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), msg)
}

func (e *CommandError) Unwrap() error { return e.Err }

// Signaled reports whether err is a git command that a signal ended
// (Ctrl-C reaches git and the plugin together, as one process group).
func Signaled(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == -1
}

// hooksOff keeps the user's git hooks out of every command: promote's
// commits are machine edits, checked by CI on the pull request.
var hooksOff = []string{"-c", "core.hooksPath=" + os.DevNull}

func (g *Git) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, "git", append(append([]string{}, hooksOff...), args...)...)
	c.Dir = g.Dir
	c.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	c.WaitDelay = waitDelay
	return c
}

// waitDelay bounds how long a cancelled git command is waited for after it
// was killed: a child it started (git push's remote helper, holding the
// connection) may keep its output open, and an interrupted run must still
// get on with settling and cleaning up.
const waitDelay = 5 * time.Second

// Run runs git with args and returns its stdout; a failure is a
// *CommandError carrying git's stderr.
func (g *Git) Run(ctx context.Context, args ...string) (string, error) {
	c := g.cmd(ctx, args...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("this needs the git binary on PATH: %w", err)
		}
		return out.String(), &CommandError{Args: args, Stderr: errb.String(), Err: err}
	}
	return out.String(), nil
}

func (g *Git) line(ctx context.Context, args ...string) (string, error) {
	out, err := g.Run(ctx, args...)
	return strings.TrimSpace(out), err
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
		return nil, &CommandError{Args: []string{"cat-file", "--batch"}, Stderr: errb.String(), Err: err}
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

// EverContained reports whether text was ever added to or removed from one
// of paths in the history of rev (git log -S, the "pickaxe"): a commit
// reachable from rev changed how often text occurs in those files. It is
// false for text that never appeared there.
func (g *Git) EverContained(ctx context.Context, rev, text string, paths []string) (bool, error) {
	if text == "" || len(paths) == 0 {
		return false, nil
	}
	args := append([]string{"log", "-1", "--format=%H", "-S" + text, "--end-of-options", rev, "--"}, paths...)
	out, err := g.line(ctx, args...)
	if err != nil {
		return false, err
	}
	return out != "", nil
}
