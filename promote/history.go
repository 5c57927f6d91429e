package promote

import (
	"context"
	"io"
	"time"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/pipeline"
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
	Fleet func(ctx context.Context, env *pipeline.Environment) (*fleet.Fleet, error)
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
	h := &History{APIVersion: pipeline.APIVersion, Kind: HistoryKind, Base: base, BaseCommit: baseCommit, Environment: o.Environment,
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
