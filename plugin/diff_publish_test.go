package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/forgetest"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

const (
	ghToken = "ghs_publish_token_never_printed"
	glToken = "glpat-publish-token-never-printed"
	headSHA = "0123456789abcdef0123456789abcdef01234567"
)

// githubEnv sets GitHub Actions' variables for pull request 7 against api.
func githubEnv(t *testing.T, api *forgetest.Server) {
	t.Helper()
	event := filepath.Join(t.TempDir(), "event.json")
	must(t, os.WriteFile(event, []byte(`{"action":"synchronize","number":7,"pull_request":{"number":7,"head":{"sha":"`+headSHA+`"}}}`), 0o600))
	for k, v := range map[string]string{
		"GITHUB_TOKEN": ghToken, "GITHUB_REPOSITORY": "c5c3/c5c3-gitops", "GITHUB_API_URL": api.URL,
		"GITHUB_EVENT_PATH": event, "GITHUB_SHA": "ffffffffffffffffffffffffffffffffffffffff",
		"GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "42",
	} {
		t.Setenv(k, v)
	}
}

// gitlabEnv sets GitLab CI's variables for merge request !3 of project 99.
func gitlabEnv(t *testing.T, api *forgetest.Server, token string) {
	t.Helper()
	for k, v := range map[string]string{
		"GITLAB_TOKEN": token, "CI_JOB_TOKEN": glToken, "CI_API_V4_URL": api.URL + "/api/v4", "CI_PROJECT_ID": "99",
		"CI_MERGE_REQUEST_IID": "3", "CI_COMMIT_SHA": headSHA, "CI_JOB_URL": "https://gitlab.example/c5c3/gitops/-/jobs/5",
	} {
		t.Setenv(k, v)
	}
}

func noToken(t *testing.T, r result) {
	t.Helper()
	for _, tok := range []string{ghToken, glToken} {
		if strings.Contains(r.stdout+r.stderr, tok) {
			t.Fatalf("a token is printed:\n%s\n%s", r.stdout, r.stderr)
		}
	}
}

// TestDiffPublish runs diff --publish twice per provider against recording
// fake APIs driven by the real go-github and GitLab clients: the first run
// creates the sticky comment and the status, the second edits the same
// comment.
func TestDiffPublish(t *testing.T) {
	s, flags := loadSample(t, testfleet.SampleOptions{})
	editFile(t, s.RepoDir, "clusters/control-plane/apps/kustomization.yaml", `newTag: "2025.1-p1"`, `newTag: "2025.1-p2"`)

	t.Run("github", func(t *testing.T) {
		api := forgetest.New(t, ghToken, 7)
		githubEnv(t, api)
		for i, want := range []string{"POST /repos/c5c3/c5c3-gitops/issues/7/comments", "PATCH /repos/c5c3/c5c3-gitops/issues/comments/1001"} {
			before := len(api.Calls())
			r := run(t, diffArgs(s, flags, "--publish", "github")...)
			noToken(t, r)
			if r.code != 1 || !strings.Contains(r.stdout, "keystone") || !strings.Contains(r.stderr, "published: commit status c5c3/diff success on 0123456") {
				t.Fatalf("run %d: exit %d\nstdout %s\nstderr %s", i+1, r.code, r.stdout, r.stderr)
			}
			calls := api.Calls()[before:]
			if len(calls) != 3 || calls[0].Method+" "+calls[0].Path != "GET /repos/c5c3/c5c3-gitops/issues/7/comments" ||
				calls[1].Method+" "+calls[1].Path != want || calls[2].Method+" "+calls[2].Path != "POST /repos/c5c3/c5c3-gitops/statuses/"+headSHA {
				t.Fatalf("run %d: calls %+v", i+1, calls)
			}
			for _, c := range calls {
				if c.Auth != "Bearer "+ghToken {
					t.Fatalf("run %d: %s %s sent %q", i+1, c.Method, c.Path, c.Auth)
				}
			}
		}
		cs := api.Comments(7)
		if len(cs) != 1 || !strings.HasPrefix(cs[0].Body, diff.CommentMarker+"\n### kubectl c5c3 diff") || !strings.Contains(cs[0].Body, "keystone") {
			t.Fatalf("want one sticky comment with the report, got %+v", cs)
		}
		st := api.Statuses()
		if len(st) != 2 || st[1] != (forgetest.Status{SHA: headSHA, Context: "c5c3/diff", State: "success", Description: st[1].Description}) ||
			!strings.Contains(st[1].Description, "drifted") {
			t.Fatalf("statuses %+v", st)
		}
	})

	t.Run("gitlab", func(t *testing.T) {
		api := forgetest.New(t, glToken, 3)
		// The first run has only the job token, the second a GITLAB_TOKEN.
		for i, tc := range []struct{ token, auth, want string }{
			{"", "JOB-TOKEN " + glToken, "POST /api/v4/projects/99/merge_requests/3/notes"},
			{glToken, "PRIVATE-TOKEN " + glToken, "PUT /api/v4/projects/99/merge_requests/3/notes/1001"},
		} {
			gitlabEnv(t, api, tc.token)
			before := len(api.Calls())
			r := run(t, diffArgs(s, flags, "--publish", "gitlab", "-o", "markdown")...)
			noToken(t, r)
			if r.code != 1 || !strings.Contains(r.stdout, "### kubectl c5c3 diff") || !strings.Contains(r.stderr, "on merge request !3") {
				t.Fatalf("run %d: exit %d\nstdout %s\nstderr %s", i+1, r.code, r.stdout, r.stderr)
			}
			calls := api.Calls()[before:]
			if len(calls) != 3 || calls[0].Method+" "+calls[0].Path != "GET /api/v4/projects/99/merge_requests/3/notes" ||
				calls[1].Method+" "+calls[1].Path != tc.want || calls[2].Method+" "+calls[2].Path != "POST /api/v4/projects/99/statuses/"+headSHA {
				t.Fatalf("run %d: calls %+v", i+1, calls)
			}
			if calls[1].Auth != tc.auth || calls[2].Body["name"] != "c5c3/diff" || calls[2].Body["state"] != "success" {
				t.Fatalf("run %d: %+v", i+1, calls[1:])
			}
		}
		if cs := api.Comments(3); len(cs) != 1 || !strings.HasPrefix(cs[0].Body, diff.CommentMarker) {
			t.Fatalf("want one sticky note, got %+v", cs)
		}
	})
}

// TestDiffPublishRefused: a pull request that does not exist, a bad token
// and a failing API are exit 2 naming the call and its status, after the
// report was written; nothing is posted. A missing token fails before the
// fleet is read.
func TestDiffPublishRefused(t *testing.T) {
	s, flags := loadSample(t, testfleet.SampleOptions{})
	for _, tc := range []struct {
		name  string
		setup func(api *forgetest.Server)
		args  []string
		want  string
	}{
		{"no such pull request", nil, []string{"--pr", "999"}, "listing the comments of GitHub pull request #999 of c5c3/c5c3-gitops (GET /repos/c5c3/c5c3-gitops/issues/999/comments): HTTP 404 Not Found"},
		{"bad token", func(api *forgetest.Server) { api.Token = "another" }, nil, "(GET /repos/c5c3/c5c3-gitops/issues/7/comments): HTTP 401 Unauthorized: Bad credentials"},
		{"forbidden", func(api *forgetest.Server) { api.FailStatus = 403 }, nil, "HTTP 403 Forbidden"},
		{"server error", func(api *forgetest.Server) { api.FailStatus = 503 }, nil, "HTTP 503 Service Unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := forgetest.New(t, ghToken, 7)
			githubEnv(t, api)
			if tc.setup != nil {
				tc.setup(api)
			}
			r := run(t, append(diffArgs(s, flags, "--publish", "github"), tc.args...)...)
			noToken(t, r)
			if r.code != 2 || !strings.HasPrefix(r.stderr, "error: --publish github: ") || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stdout, "KUSTOMIZATION") {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
			}
			if w := api.Writes(); len(w) != 0 {
				t.Fatalf("posted after a failure: %+v", w)
			}
		})
	}

	t.Setenv("GITHUB_TOKEN", "")
	t.Setenv("GITLAB_TOKEN", "")
	t.Setenv("CI_JOB_TOKEN", "")
	for _, tc := range []struct{ provider, want string }{
		{"github", "error: --publish github: GITHUB_TOKEN is not set"},
		{"gitlab", "error: --publish gitlab: neither GITLAB_TOKEN nor CI_JOB_TOKEN is set"},
	} {
		r := run(t, diffArgs(s, flags, "--publish", tc.provider)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Fatalf("%s without a token: exit %d\nstdout %s\nstderr %s", tc.provider, r.code, r.stdout, r.stderr)
		}
	}
}
