package promote

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// The trailers of promotion and rollback commits. Promoted-To marks a
// commit as a promotion; Soaked and Verified are the evidence gates'
// record; Rolled-Back-To names the promotion whose pins a rollback restores.
const (
	TrailerPromotedFrom = "Promoted-From"
	TrailerPromotedTo   = "Promoted-To"
	TrailerSoaked       = "Soaked"
	TrailerVerified     = "Verified"
	TrailerRolledBackTo = "Rolled-Back-To"
)

// HistoryKind is the kind of `promote history -o json|yaml`.
const HistoryKind = "PromotionHistory"

// BranchPrefix is the prefix of the branches promote and rollback make;
// history looks for promotions on them.
const BranchPrefix = "promote/"

// HistoryOptions say which promotions to list.
type HistoryOptions struct {
	// RepoDir is a directory inside the gitops checkout (only read).
	RepoDir string
	// Environment, when set, lists only promotions to it.
	Environment string
	// Base is the branch promotions are merged into; default the
	// checked-out branch's upstream.
	Base string
	// Offline lists only local refs: origin is not asked for its
	// promote/... branches.
	Offline bool
	// Fleet discovers an environment's hub, for whether it runs a
	// promotion; nil leaves the live state out.
	Fleet func(ctx context.Context, env *Environment) (*fleet.Fleet, error)
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// History is the promotion ledger read from git. Its JSON form is the
// documented schema of `promote history -o json` (kind PromotionHistory);
// fields are only added.
type History struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Base is the branch promotions are merged into, BaseCommit its commit.
	Base       string `json:"base"`
	BaseCommit string `json:"baseCommit"`
	// Environment is the ENV argument ("" for all).
	Environment string `json:"environment,omitempty"`
	// Promotions, newest first.
	Promotions []Promotion `json:"promotions"`
	// Environments is the live state of every environment promoted to
	// (absent without a hub).
	Environments []EnvironmentState `json:"environments,omitempty"`
	// Unfetched are origin's promote branches whose commits the checkout
	// does not have (git fetch to list them).
	Unfetched []RemoteBranch `json:"unfetched"`
	// Problems are what could not be read; the rest is listed anyway.
	Problems []string `json:"problems"`
}

// Promotion is one promotion (or rollback) commit.
type Promotion struct {
	Commit string `json:"commit"`
	Parent string `json:"parent,omitempty"`
	// Time is the committer date, in UTC.
	Time    time.Time `json:"time"`
	Author  string    `json:"author"`
	Subject string    `json:"subject"`
	// From is the Promoted-From trailer (absent on a rollback).
	From *PromotionSource `json:"from,omitempty"`
	// To is the Promoted-To trailer.
	To string `json:"to"`
	// RolledBackTo is the Rolled-Back-To trailer: the promotion whose pins
	// this commit restores.
	RolledBackTo string   `json:"rolledBackTo,omitempty"`
	Evidence     Evidence `json:"evidence"`
	// Merged is true when the commit is on the base branch.
	Merged bool `json:"merged"`
	// Branches hold the commit: the base, local promote/... branches and
	// origin's (origin/promote/...).
	Branches []string `json:"branches"`
	// Pins are the pins the commit moved, read from its diff.
	Pins []PinMove `json:"pins"`
	// Live is what the target's hub runs (absent without a hub).
	Live *PromotionLive `json:"live,omitempty"`
	// Problems are what could not be read about this commit.
	Problems []string `json:"problems,omitempty"`
}

// PromotionSource is the Promoted-From trailer: environment@commit.
type PromotionSource struct {
	Environment string `json:"environment"`
	Commit      string `json:"commit"`
}

// Evidence is what the gates recorded in the commit's trailers.
type Evidence struct {
	// Soaked is the Soaked trailer, e.g. 2h13m.
	Soaked string `json:"soaked,omitempty"`
	// Verified is the Verified trailer.
	Verified *Verified `json:"verified,omitempty"`
}

// Verified is the Verified trailer, e.g. "14 Kustomizations, 9
// HelmReleases on management, control-plane, storage".
type Verified struct {
	// Text is the trailer as written.
	Text string `json:"text"`
	// Kustomizations, HelmReleases and Clusters are parsed from Text (zero
	// when it has another form).
	Kustomizations int      `json:"kustomizations"`
	HelmReleases   int      `json:"helmReleases"`
	Clusters       []string `json:"clusters,omitempty"`
}

// PinMove is one pin a commit changed.
type PinMove struct {
	Key   string `json:"key"`
	Kind  string `json:"kind"`
	Field string `json:"field"`
	File  string `json:"file"`
	Line  int    `json:"line"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// PromotionLive says whether the target environment runs a promotion.
type PromotionLive struct {
	// Running: every hub Kustomization of the target applied this commit
	// or a descendant of it.
	Running bool `json:"running"`
	// Current: the newest listed promotion of the target that is running.
	Current bool `json:"current"`
	// Healthy: running, and the target passes the health gate (Ready, not
	// suspended, reconciled).
	Healthy bool `json:"healthy"`
}

// EnvironmentState is the live state of one environment's hub
// Kustomizations.
type EnvironmentState struct {
	Name           string                `json:"name"`
	Kustomizations []KustomizationHealth `json:"kustomizations"`
	Healthy        bool                  `json:"healthy"`
	// Running is the commit of its current promotion ("" when none).
	Running  string   `json:"running,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// RemoteBranch is a branch on origin.
type RemoteBranch struct {
	Branch string `json:"branch"`
	Commit string `json:"commit"`
}

// ReadHistory lists the promotions recorded in git: commits with a
// Promoted-To trailer on the base branch and on promote/... branches —
// local, origin's remote-tracking ones and (unless Offline) those origin
// has now — with the pins each moved, its evidence and, with a hub,
// whether its target runs it and is healthy. What cannot be read (origin,
// a hub) is a problem in the result, not an error.
func ReadHistory(ctx context.Context, o HistoryOptions) (*History, error) {
	r := &run{o: Options{RepoDir: o.RepoDir, Base: o.Base, Fleet: o.Fleet}, git: &gitrepo.Git{Dir: o.RepoDir}, log: o.Log}
	if r.log == nil {
		r.log = io.Discard
	}
	base, baseCommit, err := r.readConfig(ctx)
	if err != nil {
		return nil, err
	}
	if o.Environment != "" {
		if _, err := r.cfg.Environment(o.Environment); err != nil {
			return nil, err
		}
	}
	h := &History{APIVersion: APIVersion, Kind: HistoryKind, Base: base, BaseCommit: baseCommit, Environment: o.Environment,
		Promotions: []Promotion{}, Unfetched: []RemoteBranch{}, Problems: []string{}}
	branches, err := r.promoteBranches(ctx, h, o.Offline)
	if err != nil {
		return nil, err
	}
	promotions, err := r.promotions(ctx, o.Environment, baseCommit, branches)
	if err != nil {
		return nil, err
	}
	h.Promotions = promotions
	for i := range h.Promotions {
		p := &h.Promotions[i]
		if p.Merged {
			p.Branches = append([]string{base}, p.Branches...)
		}
		p.Pins, p.Problems = r.pinMoves(ctx, p.Parent, p.Commit)
	}
	if o.Fleet != nil {
		r.liveStates(ctx, h)
	}
	return h, nil
}

// promoteBranches returns the promote/... branches by label (promote/x for
// local ones, origin/promote/x for origin's) and their commits. Origin's
// current branches (ls-remote) replace stale remote-tracking ones; those
// whose commit the checkout lacks are listed as unfetched.
func (r *run) promoteBranches(ctx context.Context, h *History, offline bool) (map[string]string, error) {
	refs, err := r.git.Refs(ctx, "refs/heads/"+BranchPrefix, "refs/remotes/"+PushRemote+"/"+BranchPrefix)
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
		h.Problems = append(h.Problems, fmt.Sprintf("could not ask %s for its %s branches (listed from local refs only): %v", PushRemote, BranchPrefix, err))
		return out, nil
	}
	for label := range out {
		if strings.HasPrefix(label, PushRemote+"/") {
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
		out[PushRemote+"/"+name] = sha
	}
	return out, nil
}

// remoteBranches asks origin (where promote pushes: its push URL) for its
// branches matching pattern.
func (r *run) remoteBranches(ctx context.Context, pattern string) (map[string]string, error) {
	url, err := r.git.PushURL(ctx, PushRemote)
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
		if IsYAML(f) {
			keep[f] = true
		}
	}
	read := func(c string) ([]Pin, error) {
		files, err := r.git.ReadTree(ctx, c, func(p string) bool { return keep[p] })
		if err != nil {
			return nil, err
		}
		return Scan(files)
	}
	before, err := read(parent)
	if err != nil {
		return moves, []string{fmt.Sprintf("reading the pins before %s: %v", short(commit), err)}
	}
	after, err := read(commit)
	if err != nil {
		return moves, []string{fmt.Sprintf("reading the pins of %s: %v", short(commit), err)}
	}
	old := map[string][]Pin{}
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

// liveStates reads the hub of every environment promoted to and marks the
// promotions its Kustomizations run.
func (r *run) liveStates(ctx context.Context, h *History) {
	envs := map[string]bool{}
	for _, p := range h.Promotions {
		envs[p.To] = true
	}
	if h.Environment != "" {
		envs[h.Environment] = true
	}
	for _, e := range r.cfg.Environments {
		if !envs[e.Name] {
			continue
		}
		env := e
		st := r.liveState(ctx, &env)
		current := false
		for i := range h.Promotions {
			p := &h.Promotions[i]
			if p.To != env.Name {
				continue
			}
			if st.applied == nil {
				continue // unknown: the problem says why
			}
			p.Live = &PromotionLive{}
			p.Live.Running = r.runs(ctx, p.Commit, st.applied)
			p.Live.Healthy = p.Live.Running && st.Healthy
			if p.Live.Running && !current {
				p.Live.Current, current = true, true
				st.Running = p.Commit
			}
		}
		h.Environments = append(h.Environments, st.EnvironmentState)
		for _, pr := range st.Problems {
			h.Problems = append(h.Problems, "environment "+env.Name+": "+pr)
		}
	}
}

// envLive is an environment's live state and the commits its
// Kustomizations applied (nil when they cannot tell).
type envLive struct {
	EnvironmentState
	applied []string
}

func (r *run) liveState(ctx context.Context, env *Environment) envLive {
	st := envLive{EnvironmentState: EnvironmentState{Name: env.Name, Kustomizations: []KustomizationHealth{}}}
	f, err := r.fleetOf(ctx, env)
	if err != nil {
		st.Problems = append(st.Problems, err.Error())
		return st
	}
	kss, err := SelectKustomizations(f, env, r.origin)
	if err != nil {
		st.Problems = append(st.Problems, err.Error())
		return st
	}
	hc := checkHealth(f, env, kss, false)
	st.Kustomizations, st.Healthy = hc.Kustomizations, hc.Healthy
	applied := []string{}
	for _, k := range hc.Kustomizations {
		switch {
		case k.Commit == "":
			st.Problems = append(st.Problems, fmt.Sprintf("Kustomization %s has applied no git commit (%q)", k.ID(), k.AppliedRevision))
			return st
		case !r.git.HasCommit(ctx, k.Commit):
			st.Problems = append(st.Problems, fmt.Sprintf("Kustomization %s applied %s, which the checkout does not have: git fetch", k.ID(), short(k.Commit)))
			return st
		}
		applied = append(applied, k.Commit)
	}
	st.applied = applied
	return st
}

// runs reports whether every applied commit is commit or a descendant.
func (r *run) runs(ctx context.Context, commit string, applied []string) bool {
	if len(applied) == 0 {
		return false
	}
	for _, a := range applied {
		if ok, err := r.git.IsAncestor(ctx, commit, a); err != nil || !ok {
			return false
		}
	}
	return true
}
