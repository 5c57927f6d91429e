package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Trailer is one "Key: value" line of a commit message's trailer block.
type Trailer struct {
	Key, Value string
}

// LogEntry is one commit as LogTrailers reads it.
type LogEntry struct {
	Commit  string
	Parents []string
	// Time is the committer date.
	Time time.Time
	// Author is "name <email>".
	Author  string
	Subject string
	// Trailers are the message's trailers as git parses them (unfolded).
	Trailers []Trailer
}

// Trailer returns the value of the first trailer called key
// (case-insensitive), or "".
func (e LogEntry) Trailer(key string) string {
	for _, t := range e.Trailers {
		if strings.EqualFold(t.Key, key) {
			return t.Value
		}
	}
	return ""
}

// LogTrailers lists the commits reachable from revs (newest first, parents
// after their children) whose message has a line starting with
// trailerKey+":", with their trailers.
func (g *Git) LogTrailers(ctx context.Context, trailerKey string, revs ...string) ([]LogEntry, error) {
	if len(revs) == 0 {
		return nil, nil
	}
	const format = "--format=%H%x1f%P%x1f%cI%x1f%an <%ae>%x1f%s%x1f%(trailers:only,unfold)%x1e"
	args := append([]string{"log", "--date-order", "--grep=^" + trailerKey + ":", format, "--end-of-options"}, revs...)
	out, err := g.Run(ctx, append(args, "--")...)
	if err != nil {
		return nil, err
	}
	var entries []LogEntry
	for _, rec := range strings.Split(out, "\x1e") {
		rec = strings.TrimLeft(rec, "\n")
		if rec == "" {
			continue
		}
		f := strings.Split(rec, "\x1f")
		if len(f) != 6 {
			return nil, fmt.Errorf("unexpected git log output %q", rec)
		}
		when, err := time.Parse(time.RFC3339, f[2])
		if err != nil {
			return nil, fmt.Errorf("commit %s: committer date %q: %w", f[0], f[2], err)
		}
		e := LogEntry{Commit: f[0], Parents: strings.Fields(f[1]), Time: when, Author: f[3], Subject: f[4]}
		for _, line := range strings.Split(f[5], "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) != "" && !strings.ContainsAny(k, " \t") {
				e.Trailers = append(e.Trailers, Trailer{Key: k, Value: strings.TrimSpace(v)})
			}
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// Refs returns the refs under the given prefixes (e.g. refs/heads/promote/)
// with their commits.
func (g *Git) Refs(ctx context.Context, prefixes ...string) (map[string]string, error) {
	out, err := g.Run(ctx, append([]string{"for-each-ref", "--format=%(refname) %(objectname)"}, prefixes...)...)
	if err != nil {
		return nil, err
	}
	refs := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if name, sha, ok := strings.Cut(l, " "); ok {
			refs[name] = sha
		}
	}
	return refs, nil
}

// HasCommit reports whether the repository has the commit.
func (g *Git) HasCommit(ctx context.Context, sha string) bool {
	_, err := g.Run(ctx, "cat-file", "-e", sha+"^{commit}")
	return err == nil
}

// IsAncestor reports whether commit a is b or an ancestor of b.
func (g *Git) IsAncestor(ctx context.Context, a, b string) (bool, error) {
	_, err := g.Run(ctx, "merge-base", "--is-ancestor", a, b)
	var ce *CommandError
	var ee *exec.ExitError
	if errors.As(err, &ce) && errors.As(ce.Err, &ee) && ee.ExitCode() == 1 {
		return false, nil
	}
	return err == nil, err
}

// ChangedFiles lists the paths that differ between two commits.
func (g *Git) ChangedFiles(ctx context.Context, from, to string) ([]string, error) {
	out, err := g.Run(ctx, "diff-tree", "-r", "-z", "--name-only", "--no-renames", from, to)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, p := range strings.Split(out, "\x00") {
		if p != "" {
			files = append(files, p)
		}
	}
	return files, nil
}

// PushURL is the URL git pushes to for remote (its pushurl if set, with
// insteadOf/pushInsteadOf applied).
func (g *Git) PushURL(ctx context.Context, remote string) (string, error) {
	return g.line(ctx, "remote", "get-url", "--push", remote)
}

// RemoteBranches asks the repository at url (git ls-remote, authenticated
// as git does) for its branches matching pattern (e.g. "promote/*"); it
// returns branch names (without refs/heads/) and their commits.
func (g *Git) RemoteBranches(ctx context.Context, url, pattern string) (map[string]string, error) {
	out, err := g.Run(ctx, "ls-remote", "--heads", "--end-of-options", url, "refs/heads/"+pattern)
	if err != nil {
		// The URL may carry a password: never quote it.
		var ce *CommandError
		if errors.As(err, &ce) {
			safe := withoutPassword(url)
			return nil, &CommandError{Args: []string{"ls-remote", safe}, Stderr: strings.ReplaceAll(ce.Stderr, url, safe), Err: ce.Err}
		}
		return nil, err
	}
	branches := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if sha, ref, ok := strings.Cut(l, "\t"); ok {
			if name, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
				branches[name] = sha
			}
		}
	}
	return branches, nil
}
