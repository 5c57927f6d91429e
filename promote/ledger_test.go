package promote

import (
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

const memcachedFile = "clusters/production/keystone-memcached.yaml"

// ledger is a checkout with three promotions staging → production made by
// Run and merged into main (fast-forward, origin/main following; the
// merged branch deleted, as a forge does), staging's
// memcached moving 7.5.0 → 7.6.0 → 7.7.0 in between, then a hand edit of
// production (a comment) on main. The second promotion carries the
// evidence trailers the gates write (added with git commit --amend
// --trailer, as a gated promote writes them).
type ledger struct {
	repo       *testRepo
	bare       string
	p1, p2, p3 string
	head       string // main after the hand edit
}

func promoteAndMerge(t *testing.T, r *testRepo, amend ...string) string {
	t.Helper()
	p, err := Run(ctxT(t), headOptions(r.Dir))
	if err != nil {
		t.Fatal(err)
	}
	gitT(t, r.Dir, "merge", "--quiet", "--ff-only", p.Result.Commit)
	gitT(t, r.Dir, "branch", "-D", p.Result.Branch)
	if len(amend) > 0 {
		args := []string{"commit", "--quiet", "--amend", "--no-edit"}
		for _, a := range amend {
			args = append(args, "--trailer", a)
		}
		gitT(t, r.Dir, args...)
	}
	setUpstream(t, r.Dir)
	return gitT(t, r.Dir, "rev-parse", "HEAD")
}

func newLedger(t *testing.T) *ledger {
	t.Helper()
	r := newRepo(t)
	l := &ledger{repo: r, bare: servedOrigin(t, r, "")}
	l.p1 = promoteAndMerge(t, r)
	replaceInFile(t, r.Dir, "clusters/staging/keystone-memcached.yaml", `version: "7.5.0"`, `version: "7.6.0"`, "staging: memcached 7.6.0")
	setUpstream(t, r.Dir)
	l.p2 = promoteAndMerge(t, r, "Soaked: 2h13m", "Verified: 14 Kustomizations, 9 HelmReleases on management, control-plane, storage")
	replaceInFile(t, r.Dir, "clusters/staging/keystone-memcached.yaml", `version: "7.6.0"`, `version: "7.7.0"`, "staging: memcached 7.7.0")
	setUpstream(t, r.Dir)
	l.p3 = promoteAndMerge(t, r)
	l.head = replaceInFile(t, r.Dir, memcachedFile, "# Keystone's token cache", "# Owned by team-identity.\n# Keystone's token cache", "production: owner comment")
	setUpstream(t, r.Dir)
	return l
}

func fileAt(t *testing.T, dir, commit, file string) string {
	t.Helper()
	return gitT(t, dir, "show", commit+":"+file) + "\n"
}

func TestHistoryFromGit(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	dir := l.repo.Dir
	// A fourth promotion, pushed but not merged; its local branch deleted:
	// history finds it on origin (ls-remote).
	replaceInFile(t, dir, "clusters/staging/keystone-memcached.yaml", `version: "7.7.0"`, `version: "7.8.0"`, "staging: memcached 7.8.0")
	setUpstream(t, dir)
	o := headOptions(dir)
	o.Push = true
	p4, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	b4 := p4.Result.Branch
	gitT(t, dir, "branch", "-D", b4)
	gitT(t, dir, "update-ref", "-d", "refs/remotes/origin/"+b4)
	// A branch on origin whose commit the checkout does not have.
	other := filepath.Join(t.TempDir(), "other")
	gitT(t, t.TempDir(), "clone", "--quiet", l.bare, other)
	gitT(t, other, "commit", "--quiet", "--allow-empty", "-m", "someone else's", "--trailer", "Promoted-To: production")
	gitT(t, other, "push", "--quiet", l.bare, "HEAD:refs/heads/promote/elsewhere")
	unfetched := gitT(t, other, "rev-parse", "HEAD")
	before := snapshot(t, dir)

	h, err := ReadHistory(ctxT(t), HistoryOptions{RepoDir: dir, Environment: "production"})
	if err != nil {
		t.Fatal(err)
	}
	assertUntouched(t, dir, before)
	if len(h.Problems) != 0 || h.Base != "origin/main" || h.BaseCommit != gitT(t, dir, "rev-parse", "HEAD") {
		t.Fatalf("history %+v", h)
	}
	var got []string
	for _, p := range h.Promotions {
		got = append(got, short(p.Commit)+" "+strings.Join(p.Branches, ","))
	}
	want := []string{short(p4.Result.Commit) + " origin/" + b4, short(l.p3) + " origin/main", short(l.p2) + " origin/main", short(l.p1) + " origin/main"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("promotions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(h.Unfetched) != 1 || h.Unfetched[0].Branch != "promote/elsewhere" || h.Unfetched[0].Commit != unfetched {
		t.Errorf("unfetched %+v", h.Unfetched)
	}
	first, second := h.Promotions[3], h.Promotions[2]
	if first.Merged != true || first.From == nil || first.From.Environment != "staging" || first.From.Commit != l.repo.Commit || first.To != "production" || len(first.Pins) != 5 {
		t.Errorf("first promotion %+v", first)
	}
	if len(second.Pins) != 1 || second.Pins[0] != (PinMove{Key: "HelmRelease/keystone-memcached/memcached", Kind: pipeline.KindHelmRelease, Field: "spec.chart.spec.version",
		File: memcachedFile, Line: 18, Old: "7.5.0", New: "7.6.0"}) {
		t.Errorf("second promotion's pins %+v", second.Pins)
	}
	if v := second.Evidence.Verified; second.Evidence.Soaked != "2h13m" || v == nil || v.Kustomizations != 14 || v.HelmReleases != 9 ||
		strings.Join(v.Clusters, "|") != "management|control-plane|storage" {
		t.Errorf("evidence %+v %+v", second.Evidence, v)
	}
	if h.Promotions[0].Merged || h.Promotions[1].Evidence.Verified != nil || h.Promotions[0].Live != nil {
		t.Errorf("unmerged/unverified %+v %+v", h.Promotions[0], h.Promotions[1])
	}

	// Offline: local refs only; a bad ENV names it.
	h, err = ReadHistory(ctxT(t), HistoryOptions{RepoDir: dir, Offline: true})
	if err != nil || len(h.Promotions) != 3 || len(h.Unfetched) != 0 {
		t.Fatalf("offline: %v %+v", err, h)
	}
	if _, err := ReadHistory(ctxT(t), HistoryOptions{RepoDir: dir, Environment: "qa", Offline: true}); err == nil || !strings.Contains(err.Error(), `no environment "qa"`) {
		t.Fatalf("bad ENV: %v", err)
	}
}

func TestRollback(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	dir := l.repo.Dir
	base := fileAt(t, dir, l.head, memcachedFile)

	// The default: the last promotion before the current one recorded as
	// Verified — the second.
	before := snapshot(t, dir)
	p, err := Rollback(ctxT(t), RollbackOptions{RepoDir: dir, Environment: "production", Push: true})
	if err != nil {
		t.Fatal(err)
	}
	branch := "promote/rollback-production-to-" + short(l.p2)
	if p.Rollback == nil || p.Rollback.Commit != l.p2 || p.Rollback.By != ByVerified || p.Rollback.Current != l.p3 || p.Rollback.Steps != 1 ||
		p.Result == nil || p.Result.Branch != branch || !p.Result.Pushed || p.From.Revision != RevisionRollback {
		t.Fatalf("rollback %+v result %+v", p.Rollback, p.Result)
	}
	assertUntouched(t, dir, before, "refs/heads/"+branch, "refs/remotes/origin/"+branch)
	commit := p.Result.Commit
	if got := gitT(t, l.bare, "rev-parse", "refs/heads/"+branch); got != commit {
		t.Fatalf("origin has %s at %s, want %s", branch, got, commit)
	}
	// Only the pin changed, byte for byte: the hand edit stays.
	if got, want := fileAt(t, dir, commit, memcachedFile), strings.Replace(base, `version: "7.7.0"`, `version: "7.6.0"`, 1); got != want {
		t.Errorf("rolled-back file:\n%s\nwant:\n%s", got, want)
	}
	if got := gitT(t, dir, "diff", "--name-only", l.head, commit); got != memcachedFile {
		t.Errorf("files changed: %q", got)
	}
	msg := gitT(t, dir, "log", "-1", "--format=%B", commit)
	for _, want := range []string{"rollback(production): back to " + short(l.p2) + ", HelmRelease/keystone-memcached/memcached → 7.6.0",
		"- HelmRelease/keystone-memcached/memcached: 7.7.0 → 7.6.0", "Promoted-To: production\nRolled-Back-To: " + l.p2} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if got := gitT(t, dir, "log", "-1", "--format=%P", commit); got != l.head {
		t.Errorf("parent %s, want the base %s", got, l.head)
	}

	// --steps 2: the first promotion; files differ from the base only in
	// the pins, which are those of the first promotion.
	p, err = Rollback(ctxT(t), RollbackOptions{RepoDir: dir, Environment: "production", Steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Rollback.Commit != l.p1 || p.Rollback.By != BySteps || len(p.Changes) != 1 || p.Changes[0].New != "7.5.0" || p.Summary.OnlyInFrom+p.Summary.OnlyInTo+p.Summary.Conflicts != 0 {
		t.Fatalf("--steps 2: %+v changes %+v", p.Rollback, p.Changes)
	}
	if got, want := fileAt(t, dir, p.Result.Commit, memcachedFile), strings.Replace(base, `version: "7.7.0"`, `version: "7.5.0"`, 1); got != want {
		t.Errorf("--steps 2 file:\n%s\nwant:\n%s", got, want)
	}

	// --to the first promotion, dry run: the same plan, no commit.
	before = snapshot(t, dir)
	p, err = Rollback(ctxT(t), RollbackOptions{RepoDir: dir, Environment: "production", To: short(l.p1), DryRun: true})
	if err != nil || p.Rollback.Commit != l.p1 || p.Rollback.By != ByCommit || p.Rollback.Steps != 2 || p.Result != nil || len(p.Files) != 1 {
		t.Fatalf("--to: %v %+v", err, p)
	}
	assertUntouched(t, dir, before)

	// --steps 3: before the first promotion, its first parent's pins.
	p, err = Rollback(ctxT(t), RollbackOptions{RepoDir: dir, Environment: "production", Steps: 3, DryRun: true})
	parent := gitT(t, dir, "rev-parse", l.p1+"^1")
	if err != nil || p.Rollback.Commit != parent || p.Rollback.Before != l.p1 || p.Rollback.By != BySteps || p.Rollback.Steps != 3 ||
		len(p.Changes) == 0 || p.Rollback.Verified != nil {
		t.Fatalf("--steps 3: %v %+v", err, p.Rollback)
	}

	for _, tc := range []struct {
		o    RollbackOptions
		want string
	}{
		{RollbackOptions{To: "nope"}, `--to nope: "nope" is not a commit`},
		{RollbackOptions{To: l.head}, "--to " + l.head + " (" + short(l.head) + ") is neither a promotion of production on origin/main nor the commit before one: pick one from `kubectl c5c3 promote history production`"},
		{RollbackOptions{Steps: 4}, "--steps 4: production has 3 promotion(s) on origin/main, the current one " + short(l.p3) + ": `kubectl c5c3 promote rollback production --steps 3` goes back to the pins before the first"},
		{RollbackOptions{Environment: "qa"}, `no environment "qa"`},
	} {
		tc.o.RepoDir = dir
		if tc.o.Environment == "" {
			tc.o.Environment = "production"
		}
		before = snapshot(t, dir)
		if _, err := Rollback(ctxT(t), tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
		assertUntouched(t, dir, before)
	}
}

// TestRollbackFirstPromotion: an environment's first promotion, which
// records no evidence, is rolled back by default to the pins before it
// (its first parent), and says so; --steps 1 and --to that commit pick the
// same state; the rollback commit restores the files the promotion changed
// byte for byte; errors name a command that works.
func TestRollbackFirstPromotion(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	p1, err := Run(ctxT(t), headOptions(r.Dir))
	if err != nil {
		t.Fatal(err)
	}
	promotion := p1.Result.Commit
	gitT(t, r.Dir, "merge", "--quiet", "--ff-only", promotion)
	setUpstream(t, r.Dir)
	parent := gitT(t, r.Dir, "rev-parse", promotion+"^1")

	before := snapshot(t, r.Dir)
	p, err := Rollback(ctxT(t), RollbackOptions{RepoDir: r.Dir, Environment: "production", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	assertUntouched(t, r.Dir, before)
	if p.Rollback.Commit != parent || p.Rollback.By != ByBeforeNewest || p.Rollback.Before != promotion || p.Rollback.Current != promotion ||
		p.Rollback.Steps != 1 || p.Rollback.Verified != nil || len(p.Changes) == 0 {
		t.Fatalf("default: %+v, changes %+v", p.Rollback, p.Changes)
	}
	var text strings.Builder
	expect.NoError(t, WriteRollbackText(&text, p, false, printers.Palette{}))
	if want := "no earlier verified promotion: restoring the pins before " + short(promotion) + ", which carry no evidence"; !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q:\n%s", want, text.String())
	}
	if st := evidenceStatus(p); st.State == forge.StatusSuccess || !strings.Contains(st.Description, "no evidence: restores the pins before promotion "+short(promotion)) {
		t.Errorf("commit status %+v", st)
	}
	for _, o := range []RollbackOptions{{Steps: 1}, {To: short(parent)}} {
		o.RepoDir, o.Environment, o.DryRun = r.Dir, "production", true
		q, err := Rollback(ctxT(t), o)
		if err != nil || q.Rollback.Commit != parent || q.Rollback.Before != promotion || q.Rollback.Steps != 1 {
			t.Errorf("%+v: %v %+v", o, err, q.Rollback)
		}
	}

	// Committed: every file the promotion changed is as before it.
	p, err = Rollback(ctxT(t), RollbackOptions{RepoDir: r.Dir, Environment: "production"})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range strings.Fields(gitT(t, r.Dir, "diff", "--name-only", parent, promotion)) {
		if got, want := fileAt(t, r.Dir, p.Result.Commit, file), fileAt(t, r.Dir, parent, file); got != want {
			t.Errorf("%s after the rollback:\n%s\nwant, as before the promotion:\n%s", file, got, want)
		}
	}
	if msg := gitT(t, r.Dir, "log", "-1", "--format=%B", p.Result.Commit); !strings.Contains(msg, "Rolled-Back-To: "+parent) {
		t.Errorf("message:\n%s", msg)
	}

	for _, tc := range []struct {
		o    RollbackOptions
		want string
	}{
		{RollbackOptions{Environment: "production", Steps: 2}, "`kubectl c5c3 promote rollback production --steps 1` goes back to the pins before the first"},
		{RollbackOptions{Environment: "staging"}, "staging has no promotion on origin/main"},
	} {
		tc.o.RepoDir, tc.o.DryRun = r.Dir, true
		if _, err := Rollback(ctxT(t), tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}

func TestParseVerified(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Verified{
		"14 Kustomizations, 9 HelmReleases on management, control-plane, storage": {Kustomizations: 14, HelmReleases: 9, Clusters: []string{"management", "control-plane", "storage"}},
		"1 Kustomization, 1 HelmRelease on management":                            {Kustomizations: 1, HelmReleases: 1, Clusters: []string{"management"}},
		"by hand, trust me": {},
	} {
		got := parseVerified(in)
		want.Text = in
		if got.Text != want.Text || got.Kustomizations != want.Kustomizations || got.HelmReleases != want.HelmReleases || strings.Join(got.Clusters, "|") != strings.Join(want.Clusters, "|") {
			t.Errorf("parseVerified(%q) = %+v, want %+v", in, got, want)
		}
	}
}

// TestRollbackTextAndBody: the terminal header and the pull request body
// speak of a rollback, not of a promotion of ENV to itself.
func TestRollbackTextAndBody(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	p, err := Rollback(ctxT(t), RollbackOptions{RepoDir: l.repo.Dir, Environment: "production", Steps: 1, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	text := renderRollback(t, p)
	if !strings.HasPrefix(text, "Roll back production to "+short(l.p2)+" (promote(staging → production): HelmRelease/keystone-memcached/memcached → 7.6.0, ") ||
		!strings.Contains(text, "; 1 step(s) back), from the current "+short(l.p3)+"\n") || !regexp.MustCompile(`memcached\.yaml:19\s+7\.7\.0\s+7\.6\.0\n`).MatchString(text) {
		t.Errorf("text:\n%s", text)
	}
	body, err := (&run{plan: p}).requestBody()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(body, "Rolls **production** back to the pins of `"+short(l.p2)+"` (promote(staging → production): ") ||
		!strings.HasSuffix(body, "_Opened by `kubectl c5c3 promote rollback production`._\n") || strings.Contains(body, "Promotes ") ||
		!strings.Contains(body, "| `HelmRelease/keystone-memcached/memcached` | HelmRelease |") {
		t.Errorf("body:\n%s", body)
	}

	// Back to the current pins: nothing to roll back.
	p, err = Rollback(ctxT(t), RollbackOptions{RepoDir: l.repo.Dir, Environment: "production", To: l.p3})
	if err != nil || p.Result != nil || !p.Summary.NothingToPromote {
		t.Fatalf("--to the current one: %v %+v", err, p)
	}
	if text := renderRollback(t, p); !strings.HasSuffix(text, "\nnothing to roll back: production already has the pins of "+short(l.p3)+"\n") {
		t.Errorf("text:\n%s", text)
	}
}

func renderRollback(t *testing.T, p *Plan) string {
	t.Helper()
	var b strings.Builder
	if err := WriteRollbackText(&b, p, false, printers.Palette{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRollbackOpensPullRequest: rollback --open-pr pushes the branch,
// opens the pull (merge) request with the rollback's title and body and
// sets c5c3/promotion-evidence on the pushed commit: success on the
// evidence of the restored promotion's Verified trailer (GitHub, the
// default target), failure when it has none (GitLab, --to the first
// promotion).
func TestRollbackOpensPullRequest(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	dir := l.repo.Dir
	api, calls := fakeAPI(t, http.StatusCreated, `{"number": 42, "html_url": "https://github.com/c5c3/c5c3-gitops/pull/42", "iid": 7, "web_url": "https://gitlab.example.com/c5c3/c5c3-gitops/-/merge_requests/7"}`)
	before := snapshot(t, dir)
	p, err := Rollback(ctxT(t), RollbackOptions{RepoDir: dir, Environment: "production", OpenPR: true,
		PullRequest: forge.Options{GitHubAPIURL: api.URL, GitHubToken: "ghp_test"}})
	if err != nil {
		t.Fatal(err)
	}
	branch := "promote/rollback-production-to-" + short(l.p2)
	res := p.Result
	wantStatus := forge.CommitStatus{Context: StatusContext, State: forge.StatusSuccess,
		Description: "restores promotion " + short(l.p2) + ", verified: 14 Kustomizations, 9 HelmReleases on management, control-plane, storage"}
	if res == nil || !res.Pushed || res.PullRequest == nil || res.PullRequest.Number != 42 || res.Status == nil || *res.Status != wantStatus {
		t.Fatalf("result %+v", res)
	}
	if p.Rollback.Verified == nil || p.Rollback.Verified.Text != "14 Kustomizations, 9 HelmReleases on management, control-plane, storage" {
		t.Errorf("rollback target %+v", p.Rollback)
	}
	assertUntouched(t, dir, before, "refs/heads/"+branch, "refs/remotes/origin/"+branch)
	if got := gitT(t, l.bare, "rev-parse", "refs/heads/"+branch); got != res.Commit {
		t.Fatalf("origin has %s at %s, want %s", branch, got, res.Commit)
	}
	if len(*calls) != 2 {
		t.Fatalf("%d API calls, want the pull request and the commit status: %+v", len(*calls), *calls)
	}
	pr, st := (*calls)[0], (*calls)[1]
	body, _ := pr.Body["body"].(string)
	if pr.Method != http.MethodPost || pr.Path != "/repos/c5c3/c5c3-gitops/pulls" || pr.Auth != "Bearer ghp_test" || pr.Body["head"] != branch || pr.Body["base"] != "main" ||
		pr.Body["title"] != "rollback(production): back to "+short(l.p2)+", HelmRelease/keystone-memcached/memcached → 7.6.0" ||
		!strings.HasPrefix(body, "Rolls **production** back to the pins of `"+short(l.p2)+"`") || !strings.HasSuffix(body, "_Opened by `kubectl c5c3 promote rollback production`._\n") {
		t.Fatalf("pull request call %+v", pr)
	}
	if st.Method != http.MethodPost || st.Path != "/repos/c5c3/c5c3-gitops/statuses/"+res.Commit || st.Auth != "Bearer ghp_test" ||
		st.Body["context"] != StatusContext || st.Body["state"] != forge.StatusSuccess || st.Body["description"] != wantStatus.Description {
		t.Fatalf("status call %+v", st)
	}

	// GitLab, back to the first promotion, which records no evidence.
	gitT(t, dir, "remote", "set-url", "origin", "git@gitlab.example.com:c5c3/c5c3-gitops.git")
	*calls = nil
	p, err = Rollback(ctxT(t), RollbackOptions{RepoDir: dir, Environment: "production", To: short(l.p1), OpenPR: true,
		PullRequest: forge.Options{GitLabAPIURL: api.URL + "/api/v4", GitLabToken: "glpat-test"}})
	if err != nil {
		t.Fatal(err)
	}
	res, branch = p.Result, "promote/rollback-production-to-"+short(l.p1)
	wantStatus = forge.CommitStatus{Context: StatusContext, State: forge.StatusFailure, Description: "no evidence: the restored promotion " + short(l.p1) + " has no Verified trailer"}
	if res == nil || res.PullRequest == nil || res.PullRequest.Provider != forge.GitLab || res.PullRequest.Number != 7 || res.Status == nil || *res.Status != wantStatus || p.Rollback.Verified != nil {
		t.Fatalf("result %+v, rollback %+v", res, p.Rollback)
	}
	if len(*calls) != 2 {
		t.Fatalf("calls %+v", *calls)
	}
	mr, st := (*calls)[0], (*calls)[1]
	if mr.Method != http.MethodPost || mr.Path != "/api/v4/projects/c5c3%2Fc5c3-gitops/merge_requests" || mr.Auth != "glpat-test" ||
		mr.Body["source_branch"] != branch || mr.Body["target_branch"] != "main" || mr.Body["title"] != "rollback(production): back to "+short(l.p1)+", HelmRelease/keystone-memcached/memcached → 7.5.0" {
		t.Fatalf("merge request call %+v", mr)
	}
	if st.Method != http.MethodPost || st.Path != "/api/v4/projects/c5c3%2Fc5c3-gitops/statuses/"+res.Commit || st.Auth != "glpat-test" ||
		st.Body["name"] != StatusContext || st.Body["state"] != "failed" || st.Body["description"] != wantStatus.Description {
		t.Fatalf("status call %+v", st)
	}
	if got := gitT(t, l.bare, "rev-parse", "refs/heads/"+branch); got != res.Commit {
		t.Fatalf("origin has %s at %s, want %s", branch, got, res.Commit)
	}
}
