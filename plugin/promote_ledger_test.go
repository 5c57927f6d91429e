package plugin

import (
	"encoding/json"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/gittestserver"

	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/promote"
)

// servePushURL serves a bare copy of the checkout's main over HTTP with
// gittestserver and makes it origin's push URL; mws wrap its handler.
func servePushURL(t *testing.T, dir string, mws ...gittestserver.HTTPMiddleware) (bare string) {
	t.Helper()
	log.SetOutput(io.Discard) // gittestserver logs every request
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	srv, err := gittestserver.NewTempGitServer()
	expect.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(srv.Root()) })
	bare = filepath.Join(srv.Root(), "c5c3-gitops.git")
	promoteGit(t, srv.Root(), "init", "--quiet", "--bare", "--initial-branch=main", bare)
	promoteGit(t, dir, "push", "--quiet", bare, "main:main")
	srv.AddHTTPMiddlewares(mws...)
	expect.NoError(t, srv.StartHTTP())
	t.Cleanup(srv.StopHTTP)
	promoteGit(t, dir, "config", "remote.origin.pushurl", srv.HTTPAddress()+"/c5c3-gitops.git")
	return bare
}

// promoteMerged runs `promote staging production` with args, merges the
// new commit into main (fast-forward; origin/main follows) and deletes the
// branch, as a forge does when the pull request is merged.
func promoteMerged(t *testing.T, dir string, flags []string, args ...string) string {
	t.Helper()
	r := run(t, append(append([]string{"promote", "staging", "production", "-o", "json"}, args...), flags...)...)
	if r.code != 0 {
		t.Fatalf("promote: exit %d\n%s", r.code, r.stderr)
	}
	p := decodePlan(t, r.stdout)
	promoteGit(t, dir, "merge", "--quiet", "--ff-only", p.Result.Commit)
	promoteGit(t, dir, "branch", "-D", p.Result.Branch)
	promoteGit(t, dir, "update-ref", "refs/remotes/origin/main", "HEAD")
	return p.Result.Commit
}

func editCommit(t *testing.T, dir, file, old, new, msg string) {
	t.Helper()
	fixture.EditFile(t, dir, file, old, new)
	promoteGit(t, dir, "commit", "--quiet", "-am", msg)
	promoteGit(t, dir, "update-ref", "refs/remotes/origin/main", "HEAD")
}

// TestPromoteHistoryAndRollbackCommands: three promotions made with the
// real promote command — the first merged (its evidence trailers, which
// the gates wrote, replaced by fixed ones: the soak they measured depends
// on the test's timing), the second merged, the third pushed to origin
// and open — and production's hub running the second; then history and
// rollback.
func TestPromoteHistoryAndRollbackCommands(t *testing.T) {
	t.Parallel()
	s, commit, flags := promoteSample(t)
	dir := s.RepoDir
	bare := servePushURL(t, dir)

	promoteMerged(t, dir, flags)
	if got := promoteGit(t, dir, "log", "-1", "--format=%(trailers:key=Verified,valueonly)"); got != "1 Kustomizations, 0 HelmReleases on management" {
		t.Fatalf("the gates wrote Verified: %q", got)
	}
	promoteGit(t, dir, "-c", "trailer.ifexists=replace", "commit", "--quiet", "--amend", "--no-edit", "--trailer", "Soaked: 2h13m",
		"--trailer", "Verified: 14 Kustomizations, 9 HelmReleases on management, control-plane, storage")
	promoteGit(t, dir, "update-ref", "refs/remotes/origin/main", "HEAD")
	p1 := promoteGit(t, dir, "rev-parse", "HEAD") // amended
	editCommit(t, dir, "clusters/staging/keystone-memcached.yaml", `version: "7.5.0"`, `version: "7.6.0"`, "staging: memcached 7.6.0")
	p2 := promoteMerged(t, dir, flags, "--from-revision", "HEAD")
	editCommit(t, dir, "clusters/staging/keystone-memcached.yaml", `version: "7.6.0"`, `version: "7.7.0"`, "staging: memcached 7.7.0")
	r := run(t, append([]string{"promote", "staging", "production", "--from-revision", "HEAD", "--push", "-o", "json"}, flags...)...)
	if r.code != 0 {
		t.Fatalf("third promote: exit %d\n%s", r.code, r.stderr)
	}
	third := decodePlan(t, r.stdout).Result
	p3 := third.Commit
	expect.NoError(t, s.AdvanceSource(ctx(t), "main@sha1:"+p2))
	before := checkoutState(t, dir)

	r = run(t, append([]string{"promote", "history", "production", "-o", "json"}, flags...)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("history: exit %d\n%s", r.code, r.stderr)
	}
	var h promote.History
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	expect.NoError(t, dec.Decode(&h))
	if h.Kind != promote.HistoryKind || len(h.Promotions) != 3 {
		t.Fatalf("history: %s", r.stdout)
	}
	var live []string
	for _, p := range h.Promotions {
		words := []string{p.Commit[:7], strings.Join(p.Branches, ",")}
		if p.Live == nil {
			words = append(words, "unknown")
		} else {
			for w, on := range map[string]bool{"running": p.Live.Running, "current": p.Live.Current, "healthy": p.Live.Healthy} {
				if on {
					words = append(words, w)
				}
			}
			slices.Sort(words[2:])
		}
		live = append(live, strings.Join(words, " "))
	}
	// The first is superseded: contained in what runs, not the newest.
	want := []string{p3[:7] + " origin/" + third.Branch + "," + third.Branch, p2[:7] + " origin/main current healthy running", p1[:7] + " origin/main healthy running"}
	if strings.Join(live, "\n") != strings.Join(want, "\n") {
		t.Errorf("promotions:\n%s\nwant:\n%s", strings.Join(live, "\n"), strings.Join(want, "\n"))
	}
	base, staging1 := promoteGit(t, dir, "rev-parse", "HEAD"), promoteGit(t, dir, "rev-parse", p2+"^")
	stable := strings.NewReplacer(p1, "PROMOTION1", p2, "PROMOTION2", p3, "PROMOTION3", commit, "SAMPLE", base, "BASE", staging1, "STAGING1",
		p1[:7], "PROMOTION1", p2[:7], "PROMOTION2", p3[:7], "PROMOTION3", commit[:7], "SAMPLE", base[:7], "BASE", staging1[:7], "STAGING1")
	golden.Assert(t, "promote-history.json", stable.Replace(r.stdout))

	r = run(t, append([]string{"promote", "history", "production"}, flags...)...)
	for _, w := range []string{"TIME   ", p2[:7], "current, healthy", "superseded", "soaked 2h13m; verified 14 Ks, 9 HRs",
		"HelmRelease/keystone-memcached/memcached: 7.6.0 → 7.7.0 (clusters/production/keystone-memcached.yaml:18)"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("history table lacks %q:\n%s", w, r.stdout)
		}
	}

	// Rollback: by default to the last verified promotion, the first.
	r = run(t, append([]string{"promote", "rollback", "production", "--dry-run", "-o", "json"}, flags...)...)
	rb := decodePlan(t, r.stdout)
	wantExit(t, "rollback --dry-run", r, 0)
	if rb.Rollback == nil {
		t.Fatalf("rollback --dry-run: no rollback in the plan")
	}
	if rb.Rollback.Commit != p1 {
		t.Errorf("rollback --dry-run: to commit %q, want %s", rb.Rollback.Commit, p1)
	}
	if rb.Rollback.By != promote.ByVerified {
		t.Errorf("rollback --dry-run: by %q, want %s", rb.Rollback.By, promote.ByVerified)
	}
	if len(rb.Changes) != 1 {
		t.Fatalf("rollback --dry-run: changes %+v, want one", rb.Changes)
	}
	if rb.Changes[0].Current != "7.6.0" || rb.Changes[0].New != "7.5.0" {
		t.Errorf("rollback --dry-run: change %s → %s, want 7.6.0 → 7.5.0", rb.Changes[0].Current, rb.Changes[0].New)
	}
	if rb.Result != nil {
		t.Errorf("rollback --dry-run: result %+v, want none", rb.Result)
	}
	r = run(t, append([]string{"promote", "rollback", "production", "--to", "bogus"}, flags...)...)
	wantExit(t, "bad --to", r, 2)
	expect.Contains(t, "bad --to: stderr", r.stderr, "error: --to bogus: ")
	r = run(t, append([]string{"promote", "rollback", "production", "--to", "x", "--steps", "1"}, flags...)...)
	wantExit(t, "--to and --steps", r, 2)
	expect.Contains(t, "--to and --steps: stderr", r.stderr, "--to and --steps")
	if after := checkoutState(t, dir); after != before {
		t.Errorf("checkout changed:\n%s\n---\n%s", before, after)
	}
	r = run(t, append([]string{"promote", "rollback", "production", "--steps", "1", "--push"}, flags...)...)
	branch := "promote/rollback-production-to-" + p1[:7]
	wantExit(t, "rollback --push", r, 0)
	expect.Contains(t, "rollback --push", r.stdout, "Roll back production to "+p1[:7], "Pushed "+branch+" to origin")
	if got := promoteGit(t, bare, "log", "-1", "--format=%(trailers:only,unfold)", "refs/heads/"+branch); got != "Promoted-To: production\nRolled-Back-To: "+p1 {
		t.Errorf("rollback trailers on origin: %q", got)
	}
	// The rollback is in the history, on its branch.
	r = run(t, append([]string{"promote", "history", "production", "-o", "yaml"}, flags...)...)
	wantExit(t, "history after the rollback", r, 0)
	expect.Contains(t, "history after the rollback", r.stdout, "rolledBackTo: "+p1, "- origin/"+branch)
}

func TestPromoteLedgerBadInput(t *testing.T) {
	t.Parallel()
	notARepo := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"promote", "history", "a", "b"}, "promote history takes at most one argument, ENV; got 2"},
		{[]string{"promote", "history", "-o", "wide"}, "must be one of table|json|yaml"},
		{[]string{"promote", "history", "--repo", notARepo}, "is not inside a git checkout: pass --repo DIR"},
		{[]string{"promote", "rollback"}, "promote rollback needs one argument, ENV"},
		{[]string{"promote", "rollback", "production", "--steps", "-1"}, "--steps -1: pass a positive number"},
		{[]string{"promote", "rollback", "production", "--to", "a", "--steps", "2"}, "--to and --steps pick the promotion two ways"},
		{[]string{"promote", "rollback", "production", "-o", "yaml"}, "must be one of text|json"},
		{[]string{"promote", "rollback", "production", "--repo", notARepo}, "is not inside a git checkout: pass --repo DIR"},
	} {
		r := run(t, tc.args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2", tc.args, r.code)
		}
		if !strings.HasPrefix(r.stderr, "error: ") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: stderr %q, want \"error: \" and %q", tc.args, r.stderr, tc.want)
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", tc.args, r.stdout)
		}
	}
	for _, sub := range []string{"history", "rollback"} {
		r := run(t, "promote", sub, "--help")
		wantExit(t, sub+" --help", r, 0)
		expect.Contains(t, sub+" --help", r.stdout, "kubectl c5c3 promote "+sub, "Exit codes:")
	}
	expect.Contains(t, "promote --help (its subcommands)", run(t, "promote", "--help").stdout, "history", "rollback")
}

// TestPromoteRollbackPreviewAndPullRequest: `promote rollback --diff
// --open-pr` against the real fleet previews the edited production on its
// clusters (the blast radius included, the HelmRelease rendered at the
// restored chart version), puts the preview into the pull request, and
// sets c5c3/promotion-evidence to success on the evidence of the restored
// promotion's Verified trailer.
func TestPromoteRollbackPreviewAndPullRequest(t *testing.T) {
	t.Parallel()
	s, _, flags := promoteSample(t)
	dir := s.RepoDir
	bare := servePushURL(t, dir)
	promoteMerged(t, dir, flags)
	promoteGit(t, dir, "-c", "trailer.ifexists=replace", "commit", "--quiet", "--amend", "--no-edit", "--trailer", "Soaked: 2h13m",
		"--trailer", "Verified: 14 Kustomizations, 9 HelmReleases on management, control-plane, storage")
	promoteGit(t, dir, "update-ref", "refs/remotes/origin/main", "HEAD")
	p1 := promoteGit(t, dir, "rev-parse", "HEAD")
	editCommit(t, dir, "clusters/staging/keystone-memcached.yaml", `version: "7.5.0"`, `version: "7.6.0"`, "staging: memcached 7.6.0")
	p2 := promoteMerged(t, dir, flags, "--from-revision", "HEAD")

	var calls []string
	var prBody string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var body map[string]string
		_ = json.Unmarshal(b, &body)
		if strings.HasSuffix(req.URL.Path, "/pulls") {
			prBody = body["body"]
		}
		calls = append(calls, req.Method+" "+req.URL.Path+" "+req.Header.Get("Authorization")+" head="+body["head"]+" state="+body["state"]+
			" context="+body["context"]+" description="+body["description"])
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"number": 43, "html_url": "https://github.com/c5c3/c5c3-gitops/pull/43"}`)
	}))
	t.Cleanup(api.Close)
	useEnv(t, map[string]string{"GITHUB_TOKEN": "ghp_test"})
	branch := "promote/rollback-production-to-" + p1[:7]
	before := checkoutState(t, dir)

	r := run(t, append([]string{"promote", "rollback", "production", "--diff", "--open-pr", "--github-api-url", api.URL, "-o", "json"}, flags...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	p := decodePlan(t, r.stdout)
	if p.Rollback == nil {
		t.Fatalf("no rollback in the plan")
	}
	if p.Rollback.Commit != p1 {
		t.Errorf("rollback to commit %q, want %s", p.Rollback.Commit, p1)
	}
	if p.Rollback.Current != p2 {
		t.Errorf("rollback from commit %q, want %s", p.Rollback.Current, p2)
	}
	if p.Rollback.By != promote.ByVerified {
		t.Errorf("rollback by %q, want %s", p.Rollback.By, promote.ByVerified)
	}
	if len(p.Changes) != 1 || p.Changes[0].New != "7.5.0" {
		t.Fatalf("changes %+v, want one to 7.5.0", p.Changes)
	}
	expect.Contains(t, "preview: stderr", r.stderr, "previewing the edited production against its clusters")
	if p.Preview == nil {
		t.Fatalf("no preview in the plan")
	}
	if p.BlastRadius == nil {
		t.Fatalf("no blast radius in the plan")
	}
	expect.Equal(t, "blast radius: environment", p.BlastRadius.Environment, "production")
	var memcached string
	for _, h := range p.Preview.HelmReleases {
		if h.ID() == s.Namespace+"/keystone-memcached" && h.Error == "" && h.Prediction != nil {
			memcached = h.Cluster + " " + h.Chart + " " + h.Prediction.ToVersion
		}
	}
	if memcached != "control-plane memcached 7.5.0" {
		t.Errorf("keystone-memcached rendered as %q, want control-plane memcached 7.5.0", memcached)
	}
	pushed := promoteGit(t, bare, "rev-parse", "refs/heads/"+branch)
	desc := "restores promotion " + p1[:7] + ", verified: 14 Kustomizations, 9 HelmReleases on management, control-plane, storage"
	res := p.Result
	if res == nil {
		t.Fatalf("no result, want the pushed commit, pull request #43 and its status")
	}
	expect.Equal(t, "result: commit", res.Commit, pushed)
	if res.PullRequest == nil {
		t.Errorf("result: no pull request, want #43")
	} else {
		expect.Equal(t, "result: pull request", res.PullRequest.Number, 43)
	}
	if res.Status == nil {
		t.Errorf("result: no commit status, want %s success", promote.StatusContext)
	} else {
		expect.Equal(t, "result: commit status", *res.Status, forge.CommitStatus{Context: promote.StatusContext, State: forge.StatusSuccess, Description: desc})
	}
	want := []string{
		"POST /repos/c5c3/c5c3-gitops/pulls Bearer ghp_test head=" + branch + " state= context= description=",
		"POST /repos/c5c3/c5c3-gitops/statuses/" + pushed + " Bearer ghp_test head= state=success context=c5c3/promotion-evidence description=" + desc,
	}
	if strings.Join(calls, "\n") != strings.Join(want, "\n") {
		t.Fatalf("API calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range []string{"Rolls **production** back to the pins of `" + p1[:7] + "`", "**Blast radius** on production:",
		"<details><summary>Preview: the edited production against its clusters</summary>", "HelmRelease/" + s.Namespace + "/keystone-memcached",
		"_Opened by `kubectl c5c3 promote rollback production`._"} {
		if !strings.Contains(prBody, w) {
			t.Errorf("PR body lacks %q:\n%s", w, prBody)
		}
	}
	if after := checkoutState(t, dir, branch); after != before {
		t.Errorf("checkout changed beyond the new branch:\n%s\n---\n%s", before, after)
	}
}
