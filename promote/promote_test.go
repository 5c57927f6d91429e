package promote

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/gittestserver"

	"github.com/c5c3/kubectl-c5c3/internal/forge"
	"github.com/c5c3/kubectl-c5c3/internal/golden"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
)

// headOptions promote staging → production from the checkout's HEAD,
// without a hub.
func headOptions(dir string) Options {
	return Options{RepoDir: dir, From: "staging", To: "production", FromRevision: RevisionHEAD, SkipHealthCheck: true}
}

func renderText(t *testing.T, p *Plan, files bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteText(&b, p, files, printers.Palette{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPromoteDryRun(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	before := snapshot(t, r.Dir)
	o := headOptions(r.Dir)
	o.DryRun = true
	p, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{r.Commit: "COMMIT1"}
	golden.Assert(t, "dry-run.txt", normalize(renderText(t, p, true), names))
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "dry-run.json", normalize(string(b), names))

	s := p.Summary
	if s.Changes != 5 || s.Unchanged != 1 || s.OnlyInFrom != 1 || s.OnlyInTo != 1 || s.Conflicts != 0 || s.NothingToPromote || p.Result != nil || !p.DryRun {
		t.Fatalf("summary %+v result %+v", s, p.Result)
	}
	if p.To.Base != "origin/main" || p.From.Commit != r.Commit || p.From.Revision != RevisionHEAD {
		t.Fatalf("sides %+v %+v", p.From, p.To)
	}
	assertUntouched(t, r.Dir, before)
}

func TestPromoteCommits(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	before := snapshot(t, r.Dir)
	o := headOptions(r.Dir)
	o.Signoff = true
	p, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	branch := "promote/staging-to-production-" + r.Commit[:7]
	if p.Result == nil || p.Result.Branch != branch || p.Result.Pushed {
		t.Fatalf("result %+v", p.Result)
	}
	assertUntouched(t, r.Dir, before, "refs/heads/"+branch)
	commit := gitT(t, r.Dir, "rev-parse", "refs/heads/"+branch)
	if commit != p.Result.Commit {
		t.Fatalf("branch at %s, result says %s", commit, p.Result.Commit)
	}
	names := map[string]string{r.Commit: "COMMIT1", commit: "PROMOTE"}

	// Message, trailers, author from the repository's git config, parent.
	golden.Assert(t, "commit-message.txt", normalize(gitT(t, r.Dir, "log", "-1", "--format=%B", commit)+"\n", names))
	trailers := gitT(t, r.Dir, "log", "-1", "--format=%(trailers:unfold)", commit)
	for _, want := range []string{"Promoted-From: staging@" + r.Commit, "Promoted-To: production", "Signed-off-by: Dana Operator <dana@c5c3.example>"} {
		if !strings.Contains(trailers, want) {
			t.Errorf("trailers lack %q:\n%s", want, trailers)
		}
	}
	if got := gitT(t, r.Dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%P", commit); got != "Dana Operator <dana@c5c3.example>|Dana Operator <dana@c5c3.example>|"+r.Commit {
		t.Errorf("author|committer|parent = %s", got)
	}
	// Only the values changed, byte for byte.
	golden.Assert(t, "commit.diff", normalize(gitT(t, r.Dir, "diff", r.Commit, commit)+"\n", names))
	if got := gitT(t, r.Dir, "diff", "--numstat", r.Commit, commit); strings.Count(got, "\n") != 4 || strings.Count(got, "1\t1\t") != 5 {
		t.Errorf("numstat:\n%s", got)
	}

	// Again: the branch exists.
	before = snapshot(t, r.Dir)
	_, err = Run(ctxT(t), o)
	if err == nil || !strings.Contains(err.Error(), "branch "+branch+" already exists") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("existing branch: %v", err)
	}
	assertUntouched(t, r.Dir, before)

	// --force replaces it.
	o.Force, o.Signoff = true, false
	p, err = Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Result.Replaced != commit || p.Result.Commit == commit {
		t.Fatalf("--force: %+v", p.Result)
	}
	assertUntouched(t, r.Dir, before, "refs/heads/"+branch)
	if got := gitT(t, r.Dir, "rev-parse", "refs/heads/"+branch); got != p.Result.Commit {
		t.Fatalf("branch at %s after --force, want %s", got, p.Result.Commit)
	}

	// From the promotion branch there is nothing left to promote: no
	// commit, no branch.
	before = snapshot(t, r.Dir)
	o = headOptions(r.Dir)
	o.Base, o.Branch = branch, "promote/nothing"
	p, err = Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Summary.NothingToPromote || p.Result != nil || p.Summary.Unchanged != 6 {
		t.Fatalf("nothing to promote: %+v %+v", p.Summary, p.Result)
	}
	if out := renderText(t, p, false); !strings.Contains(out, "nothing to promote: production already has the values of staging") {
		t.Errorf("text:\n%s", out)
	}
	assertUntouched(t, r.Dir, before)
}

func TestPromoteFilters(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	o := headOptions(r.Dir)
	o.DryRun = true
	o.Filter = Filter{Only: []string{"image/*", "setter/*", "HelmRelease/*"}, Exclude: []string{"setter/keystone-release"}}
	p, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range p.Changes {
		keys = append(keys, c.Key)
	}
	if strings.Join(keys, ",") != "HelmRelease/keystone-memcached/memcached,image/ghcr.io/c5c3/keystone/newTag" {
		t.Fatalf("changes %v", keys)
	}
	if strings.Join(p.Excluded, ",") != "FluxInstance/flux,GitRepository/keystone-config/tag,OCIRepository/c5c3-manifests/tag,setter/keystone-release" {
		t.Fatalf("excluded %v", p.Excluded)
	}
	if len(p.Files) != 2 {
		t.Fatalf("files %+v", p.Files)
	}
}

// TestPromoteFailuresLeaveNoTrace runs every failure path on a fresh
// checkout and checks that the checkout is exactly as before: no branch,
// no worktree, no temporary directory, same HEAD, index and files.
func TestPromoteFailuresLeaveNoTrace(t *testing.T) {
	t.Parallel()
	const prodRelease = "apps/keystone/production/release.yaml"
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, r *testRepo)
		opts  func(o *Options)
		want  string // {commit} is the checkout's commit, abbreviated
	}{
		{name: "unknown environment", opts: func(o *Options) { o.To = "qa" },
			want: `no environment "qa" in c5c3.yaml (declared: staging, production)`},
		{name: "against the pipeline", opts: func(o *Options) { o.From, o.To = "production", "staging" },
			want: "production → staging is not allowed by the pipeline in c5c3.yaml; allowed: staging → production"},
		{name: "unknown field in c5c3.yaml", setup: func(t *testing.T, r *testRepo) {
			replaceInFile(t, r.Dir, "c5c3.yaml", "    paths: [clusters/production", "    pahts: [clusters/production", "typo")
			setUpstream(t, r.Dir)
		}, want: `c5c3.yaml (at origin/main): line 10: unknown field "pahts" (allowed: name, context, paths, kustomizations, minSoak)`},
		{name: "no c5c3.yaml", setup: func(t *testing.T, r *testRepo) {
			gitT(t, r.Dir, "rm", "--quiet", "c5c3.yaml")
			gitT(t, r.Dir, "commit", "--quiet", "-m", "no config")
			setUpstream(t, r.Dir)
		}, want: "no c5c3.yaml at the root of origin/main"},
		{name: "no upstream", setup: func(t *testing.T, r *testRepo) {
			gitT(t, r.Dir, "config", "--unset", "branch.main.remote")
		}, want: "the checked-out branch has no upstream (or HEAD is detached): pass --base BRANCH"},
		{name: "bad base", opts: func(o *Options) { o.Base = "no-such-branch" }, want: `--base: "no-such-branch" is not a commit`},
		{name: "bad from revision", opts: func(o *Options) { o.FromRevision = "0123456789abcdef" }, want: `"0123456789abcdef" is not a commit`},
		{name: "bad branch name", opts: func(o *Options) { o.Branch = "promote/a..b" }, want: `--branch: "promote/a..b" is not a valid branch name`},
		{name: "--only matches nothing", opts: func(o *Options) { o.Filter.Only = []string{"image/nginx/*"} },
			want: `--only "image/nginx/*" matches no pin of staging or production`},
		{name: "target file is not YAML", setup: func(t *testing.T, r *testRepo) {
			commitFile(t, r.Dir, "clusters/production/broken.yaml", "a: [1, 2\n", "broken")
			setUpstream(t, r.Dir)
		}, want: ": clusters/production/broken.yaml: not valid YAML: "},
		{name: "value is a block scalar", setup: func(t *testing.T, r *testRepo) {
			replaceInFile(t, r.Dir, prodRelease, `release: '2025.1-p1' # {"$c5c3": "keystone-release"}`,
				"release: | # {\"$c5c3\": \"keystone-release\"}\n    2025.1-p1", "block")
			setUpstream(t, r.Dir)
		}, want: prodRelease + ":8: cannot edit setter/keystone-release: the value is a block scalar"},
		{name: "kustomize build fails", setup: func(t *testing.T, r *testRepo) {
			replaceInFile(t, r.Dir, "apps/keystone/production/kustomization.yaml", "  - release.yaml\n", "  - release.yaml\n  - missing.yaml\n", "missing resource")
			setUpstream(t, r.Dir)
		}, want: "after the edit, kustomize build apps/keystone/production fails"},
		{name: "branch exists", setup: func(t *testing.T, r *testRepo) {
			gitT(t, r.Dir, "branch", "promote/staging-to-production-"+r.Commit[:7])
		}, want: "branch promote/staging-to-production-{commit} already exists (at {commit}): pass --force to replace it, or --branch NAME"},
		{name: "--force on the checked-out branch", setup: func(t *testing.T, r *testRepo) {
			gitT(t, r.Dir, "checkout", "--quiet", "-b", "promote/staging-to-production-"+r.Commit[:7])
		}, opts: func(o *Options) { o.Force, o.Base = true, "main" }, want: "creating branch promote/staging-to-production-"},
		{name: "git cannot commit without an author", setup: func(t *testing.T, r *testRepo) {
			gitT(t, r.Dir, "config", "--unset", "user.email")
			gitT(t, r.Dir, "config", "user.useConfigOnly", "true")
		}, want: "committing: git commit"},
		{name: "paths match no file", setup: func(t *testing.T, r *testRepo) {
			replaceInFile(t, r.Dir, "c5c3.yaml", "[clusters/staging, apps/*/staging]", "[clusters/stageing]", "typo")
			setUpstream(t, r.Dir)
		}, want: "has no YAML file under its paths (clusters/stageing): check them in c5c3.yaml"},
		{name: "--open-pr without a token", opts: func(o *Options) { o.OpenPR = true }, want: "--open-pr on GitHub needs a token in GITHUB_TOKEN"},
		{name: "--push without origin", setup: func(t *testing.T, r *testRepo) {
			gitT(t, r.Dir, "remote", "remove", "origin")
		}, opts: func(o *Options) { o.Push, o.Base = true, "main" }, want: `has no "origin" remote`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRepo(t)
			if tc.setup != nil {
				tc.setup(t, r)
			}
			before := snapshot(t, r.Dir)
			o := headOptions(r.Dir)
			if tc.opts != nil {
				tc.opts(&o)
			}
			_, err := Run(ctxT(t), o)
			want := strings.ReplaceAll(tc.want, "{commit}", r.Commit[:7])
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v\nwant %q", err, want)
			}
			assertUntouched(t, r.Dir, before)
		})
	}
}

// servedOrigin serves a bare copy of the checkout's main over HTTP with
// gittestserver (with basic auth) and makes it origin's push URL; the
// credentials come from a git credential helper, as for a real user. A
// non-empty updateHook is installed as the server's update hook; mws wrap
// the server's HTTP handler.
func servedOrigin(t *testing.T, r *testRepo, updateHook string, mws ...gittestserver.HTTPMiddleware) (bare string) {
	t.Helper()
	srv, err := gittestserver.NewTempGitServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(srv.Root()) })
	bare = filepath.Join(srv.Root(), "c5c3-gitops.git")
	gitT(t, srv.Root(), "init", "--quiet", "--bare", "--initial-branch=main", bare)
	gitT(t, r.Dir, "push", "--quiet", bare, "main:main")
	if updateHook != "" {
		srv.InstallUpdateHook(updateHook)
	}
	srv.Auth("dana", "s3cret")
	srv.AddHTTPMiddlewares(mws...)
	if err := srv.StartHTTP(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.StopHTTP)
	gitT(t, r.Dir, "config", "remote.origin.pushurl", srv.HTTPAddress()+"/c5c3-gitops.git")
	gitT(t, r.Dir, "config", "credential.helper", "!f() { echo username=dana; echo password=s3cret; }; f")
	return bare
}

func TestPromotePush(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	bare := servedOrigin(t, r, "")
	before := snapshot(t, r.Dir)
	o := headOptions(r.Dir)
	o.Push = true
	p, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	branch := "promote/staging-to-production-" + r.Commit[:7]
	if !p.Result.Pushed || p.Result.Remote != "origin" {
		t.Fatalf("result %+v", p.Result)
	}
	// The push updates origin's remote-tracking branch, as git push does.
	assertUntouched(t, r.Dir, before, "refs/heads/"+branch, "refs/remotes/origin/"+branch)
	if got := gitT(t, bare, "rev-parse", "refs/heads/"+branch); got != p.Result.Commit {
		t.Fatalf("origin has %s at %s, want %s", branch, got, p.Result.Commit)
	}
	msg := gitT(t, bare, "log", "-1", "--format=%B", "refs/heads/"+branch)
	if !strings.HasPrefix(msg, "promote(staging → production): 5 pins") || !strings.HasSuffix(msg, "Promoted-From: staging@"+r.Commit+"\nPromoted-To: production") {
		t.Fatalf("message on origin:\n%s", msg)
	}
	if got := gitT(t, bare, "log", "-1", "--format=%(trailers:key=Promoted-From,valueonly)", "refs/heads/"+branch); got != "staging@"+r.Commit {
		t.Fatalf("Promoted-From trailer on origin: %q", got)
	}

	// --force pushes a new commit over it.
	o.Force, o.Signoff = true, true
	p2, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := gitT(t, bare, "rev-parse", "refs/heads/"+branch); got != p2.Result.Commit || got == p.Result.Commit {
		t.Fatalf("after --force origin has %s, want %s", got, p2.Result.Commit)
	}
}

func TestPromotePushRejected(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	bare := servedOrigin(t, r, "#!/bin/sh\necho \"branch $1 is protected\" >&2\nexit 1\n")
	before := snapshot(t, r.Dir)
	o := headOptions(r.Dir)
	o.Push = true
	p, err := Run(ctxT(t), o)
	branch := "promote/staging-to-production-" + r.Commit[:7]
	if err == nil {
		t.Fatal("push was not rejected")
	}
	for _, want := range []string{"pushing " + branch + " to origin failed", "local branch " + branch + " was removed again", "your checkout is as before", "is protected"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if p == nil || p.Result != nil {
		t.Errorf("plan result after a rejected push: %+v", p)
	}
	assertUntouched(t, r.Dir, before)
	if out, err := gitOut(bare, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch); err == nil {
		t.Fatalf("the branch reached origin: %s", out)
	}
}

// apiCall is one request the fake GitHub/GitLab API saw.
type apiCall struct {
	Method, Path, Auth, ContentType string
	Body                            map[string]any
}

func fakeAPI(t *testing.T, status int, answer string) (*httptest.Server, *[]apiCall) {
	t.Helper()
	var calls []apiCall
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		c := apiCall{Method: req.Method, Path: req.URL.EscapedPath(), ContentType: req.Header.Get("Content-Type"),
			Auth: req.Header.Get("Authorization") + req.Header.Get("PRIVATE-TOKEN")}
		_ = json.Unmarshal(b, &c.Body)
		calls = append(calls, c)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestPromoteOpensGitHubPullRequest(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	servedOrigin(t, r, "")
	api, calls := fakeAPI(t, http.StatusCreated, `{"number": 42, "html_url": "https://github.com/c5c3/c5c3-gitops/pull/42"}`)
	o := headOptions(r.Dir)
	o.OpenPR = true
	o.PullRequest = forge.Options{GitHubAPIURL: api.URL, GitHubToken: "ghp_test"}
	p, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	branch := "promote/staging-to-production-" + r.Commit[:7]
	if pr := p.Result.PullRequest; pr == nil || pr.Number != 42 || pr.URL != "https://github.com/c5c3/c5c3-gitops/pull/42" || !p.Result.Pushed {
		t.Fatalf("result %+v", p.Result)
	}
	if len(*calls) != 2 {
		t.Fatalf("%d API calls, want the pull request and the commit status: %+v", len(*calls), *calls)
	}
	if st := (*calls)[1]; st.Method != http.MethodPost || st.Path != "/repos/c5c3/c5c3-gitops/statuses/"+p.Result.Commit || st.Auth != "Bearer ghp_test" ||
		st.Body["context"] != StatusContext || st.Body["state"] != forge.StatusFailure || st.Body["description"] != "no evidence: the health gate was skipped" {
		t.Fatalf("status call %+v", st)
	}
	c := (*calls)[0]
	if c.Method != http.MethodPost || c.Path != "/repos/c5c3/c5c3-gitops/pulls" || c.Auth != "Bearer ghp_test" || !strings.HasPrefix(c.ContentType, "application/json") {
		t.Fatalf("call %s %s auth %q type %q", c.Method, c.Path, c.Auth, c.ContentType)
	}
	body, _ := c.Body["body"].(string)
	if c.Body["head"] != branch || c.Body["base"] != "main" || !strings.HasPrefix(c.Body["title"].(string), "promote(staging → production): 5 pins") {
		t.Fatalf("request %+v", c.Body)
	}
	for _, want := range []string{"| Key | Kind | File | Current | New |", "| `HelmRelease/keystone-memcached/memcached` | HelmRelease | `clusters/production/keystone-memcached.yaml:18` | `7.4.16` | `7.5.0` |", "Only in staging (not promoted): `setter/keystone-canary`"} {
		if !strings.Contains(body, want) {
			t.Errorf("PR body lacks %q:\n%s", want, body)
		}
	}
}

func TestPromoteOpensGitLabMergeRequest(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	gitT(t, r.Dir, "remote", "set-url", "origin", "git@gitlab.example.com:c5c3/platform/c5c3-gitops.git")
	servedOrigin(t, r, "")
	api, calls := fakeAPI(t, http.StatusCreated, `{"iid": 7, "web_url": "https://gitlab.example.com/c5c3/platform/c5c3-gitops/-/merge_requests/7"}`)
	o := headOptions(r.Dir)
	o.OpenPR = true
	o.PullRequest = forge.Options{GitLabAPIURL: api.URL + "/api/v4", GitLabToken: "glpat-test"}
	p, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if pr := p.Result.PullRequest; pr == nil || pr.Provider != forge.GitLab || pr.Number != 7 || !strings.HasSuffix(pr.URL, "/merge_requests/7") {
		t.Fatalf("result %+v", p.Result)
	}
	c := (*calls)[0]
	if len(*calls) != 2 || c.Method != http.MethodPost || c.Path != "/api/v4/projects/c5c3%2Fplatform%2Fc5c3-gitops/merge_requests" || c.Auth != "glpat-test" {
		t.Fatalf("calls %+v", *calls)
	}
	if st := (*calls)[1]; st.Method != http.MethodPost || st.Path != "/api/v4/projects/c5c3%2Fplatform%2Fc5c3-gitops/statuses/"+p.Result.Commit || st.Auth != "glpat-test" ||
		st.Body["name"] != StatusContext || st.Body["state"] != "failed" || st.Body["description"] != "no evidence: the health gate was skipped" {
		t.Fatalf("status call %+v", st)
	}
	if c.Body["source_branch"] != "promote/staging-to-production-"+r.Commit[:7] || c.Body["target_branch"] != "main" ||
		!strings.Contains(c.Body["description"].(string), "| Key | Kind | File | Current | New |") || c.Body["title"] == "" {
		t.Fatalf("request %+v", c.Body)
	}
}

func TestPromotePullRequestRefused(t *testing.T) {
	t.Parallel()
	r := newRepo(t)
	bare := servedOrigin(t, r, "")
	api, _ := fakeAPI(t, http.StatusUnprocessableEntity, `{"message": "Validation Failed"}`)
	o := headOptions(r.Dir)
	o.OpenPR = true
	o.PullRequest = forge.Options{GitHubAPIURL: api.URL, GitHubToken: "ghp_test"}
	_, err := Run(ctxT(t), o)
	branch := "promote/staging-to-production-" + r.Commit[:7]
	if err == nil || !strings.Contains(err.Error(), "branch "+branch+" is pushed to origin, but opening a GitHub pull request on c5c3/c5c3-gitops") ||
		!strings.Contains(err.Error(), "HTTP 422 Unprocessable Entity: Validation Failed") {
		t.Fatalf("error %v", err)
	}
	// The pushed branch stays, so that the pull request can be opened by hand.
	gitT(t, bare, "rev-parse", "--verify", "refs/heads/"+branch)
}
