package promote

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// promoteBranches returns the promote/... branches by label (promote/x for
// local ones, origin/promote/x for origin's) and their commits. Origin's
// current branches (ls-remote) replace stale remote-tracking ones; those
// whose commit the checkout lacks are listed as unfetched.
func (r *run) promoteBranches(ctx context.Context, h *History, offline bool) (map[string]string, error) {
	refs, err := r.git.Refs(ctx, "refs/heads/"+BranchPrefix, "refs/remotes/"+pipeline.PushRemote+"/"+BranchPrefix)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for ref, sha := range refs {
		out[strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/remotes/")] = sha
	}
	if offline || r.origin == "" {
		return out, nil
	}
	remote, err := r.remoteBranches(ctx, BranchPrefix+"*")
	if err != nil {
		h.Problems = append(h.Problems, fmt.Sprintf("could not ask %s for its %s branches (listed from local refs only): %v", pipeline.PushRemote, BranchPrefix, err))
		return out, nil
	}
	for label := range out {
		if strings.HasPrefix(label, pipeline.PushRemote+"/") {
			delete(out, label) // origin's answer is current
		}
	}
	names := make([]string, 0, len(remote))
	for name := range remote {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sha := remote[name]
		if !r.git.HasCommit(ctx, sha) {
			h.Unfetched = append(h.Unfetched, RemoteBranch{Branch: name, Commit: sha})
			continue
		}
		out[pipeline.PushRemote+"/"+name] = sha
	}
	return out, nil
}

// remoteBranches asks origin (where promote pushes: its push URL) for its
// branches matching pattern.
func (r *run) remoteBranches(ctx context.Context, pattern string) (map[string]string, error) {
	url, err := r.git.PushURL(ctx, pipeline.PushRemote)
	if err != nil {
		return nil, err
	}
	return r.git.RemoteBranches(ctx, url, pattern)
}

// promotions reads the promotion commits of the base and the branches,
// newest first, with their trailers and where they are.
func (r *run) promotions(ctx context.Context, env, baseCommit string, branches map[string]string) ([]Promotion, error) {
	onBase, err := r.git.LogTrailers(ctx, TrailerPromotedTo, baseCommit)
	if err != nil {
		return nil, err
	}
	merged := map[string]bool{}
	for _, e := range onBase {
		merged[e.Commit] = true
	}
	labels := make([]string, 0, len(branches))
	for l := range branches {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	revs := []string{baseCommit}
	where := map[string][]string{}
	for _, l := range labels {
		revs = append(revs, branches[l])
		entries, err := r.git.LogTrailers(ctx, TrailerPromotedTo, branches[l], "^"+baseCommit)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			where[e.Commit] = append(where[e.Commit], l)
		}
		if merged[branches[l]] {
			where[branches[l]] = append(where[branches[l]], l)
		}
	}
	all, err := r.git.LogTrailers(ctx, TrailerPromotedTo, revs...)
	if err != nil {
		return nil, err
	}
	out := []Promotion{}
	for _, e := range all {
		p := promotionOf(e)
		if env != "" && p.To != env {
			continue
		}
		p.Merged = merged[e.Commit]
		p.Branches = append([]string{}, where[e.Commit]...)
		out = append(out, p)
	}
	return out, nil
}

// promotionOf reads a commit's trailers.
func promotionOf(e gitrepo.LogEntry) Promotion {
	p := Promotion{Commit: e.Commit, Time: e.Time.UTC(), Author: e.Author, Subject: e.Subject,
		To: e.Trailer(TrailerPromotedTo), RolledBackTo: e.Trailer(TrailerRolledBackTo), Pins: []PinMove{}}
	if len(e.Parents) > 0 {
		p.Parent = e.Parents[0]
	}
	if from := e.Trailer(TrailerPromotedFrom); from != "" {
		env, commit, _ := strings.Cut(from, "@")
		p.From = &PromotionSource{Environment: env, Commit: commit}
	}
	p.Evidence.Soaked = e.Trailer(TrailerSoaked)
	if v := e.Trailer(TrailerVerified); v != "" {
		p.Evidence.Verified = parseVerified(v)
	}
	return p
}

var verifiedRE = regexp.MustCompile(`^(\d+) Kustomizations?, (\d+) HelmReleases? on (.+)$`)

// parseVerified reads "14 Kustomizations, 9 HelmReleases on management,
// control-plane, storage".
func parseVerified(s string) *Verified {
	v := &Verified{Text: s}
	if m := verifiedRE.FindStringSubmatch(s); m != nil {
		v.Kustomizations, _ = strconv.Atoi(m[1])
		v.HelmReleases, _ = strconv.Atoi(m[2])
		for _, c := range strings.Split(m[3], ",") {
			if c = strings.TrimSpace(c); c != "" {
				v.Clusters = append(v.Clusters, c)
			}
		}
	}
	return v
}

// pinMoves compares the pins of the YAML files a commit changed, before
// and after it, with promote's pin scanner. The nth occurrence of a key in
// a file is matched with the nth.
func (r *run) pinMoves(ctx context.Context, parent, commit string) ([]PinMove, []string) {
	moves := []PinMove{}
	if parent == "" {
		return moves, nil
	}
	changed, err := r.git.ChangedFiles(ctx, parent, commit)
	if err != nil {
		return moves, []string{fmt.Sprintf("reading the diff of %s: %v", short(commit), err)}
	}
	keep := map[string]bool{}
	for _, f := range changed {
		if pipeline.IsYAML(f) {
			keep[f] = true
		}
	}
	read := func(c string) ([]pipeline.Pin, error) {
		files, err := r.git.ReadTree(ctx, c, func(p string) bool { return keep[p] })
		if err != nil {
			return nil, err
		}
		return pipeline.Scan(files)
	}
	before, err := read(parent)
	if err != nil {
		return moves, []string{fmt.Sprintf("reading the pins before %s: %v", short(commit), err)}
	}
	after, err := read(commit)
	if err != nil {
		return moves, []string{fmt.Sprintf("reading the pins of %s: %v", short(commit), err)}
	}
	old := map[string][]pipeline.Pin{}
	for _, p := range before {
		old[p.File+"\x00"+p.Key] = append(old[p.File+"\x00"+p.Key], p)
	}
	seen := map[string]int{}
	for _, p := range after {
		id := p.File + "\x00" + p.Key
		n := seen[id]
		seen[id]++
		if n >= len(old[id]) || old[id][n].Value == p.Value {
			continue
		}
		moves = append(moves, PinMove{Key: p.Key, Kind: p.Kind, Field: p.Field, File: p.File, Line: p.Line, Old: old[id][n].Value, New: p.Value})
	}
	return moves, nil
}
