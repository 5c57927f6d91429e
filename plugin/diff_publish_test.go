package plugin

import (
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
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
	expect.NoError(t, os.WriteFile(event, []byte(`{"action":"synchronize","number":7,"pull_request":{"number":7,"head":{"sha":"`+headSHA+`"}}}`), 0o600))
	useEnv(t, map[string]string{
		"GITHUB_TOKEN": ghToken, "GITHUB_REPOSITORY": "c5c3/c5c3-gitops", "GITHUB_API_URL": api.URL,
		"GITHUB_EVENT_PATH": event, "GITHUB_SHA": "ffffffffffffffffffffffffffffffffffffffff",
		"GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "42",
	})
}

// gitlabEnv sets GitLab CI's variables for merge request !3 of project 99.
func gitlabEnv(t *testing.T, api *forgetest.Server, token string) {
	t.Helper()
	useEnv(t, map[string]string{
		"GITLAB_TOKEN": token, "CI_JOB_TOKEN": glToken, "CI_API_V4_URL": api.URL + "/api/v4", "CI_PROJECT_ID": "99",
		"CI_MERGE_REQUEST_IID": "3", "CI_COMMIT_SHA": headSHA, "CI_JOB_URL": "https://gitlab.example/c5c3/gitops/-/jobs/5",
	})
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
	t.Parallel()
	s, flags := loadSample(t, testfleet.SampleOptions{})
	fixture.EditFile(t, s.RepoDir, "clusters/control-plane/apps/kustomization.yaml", `newTag: "2025.1-p1"`, `newTag: "2025.1-p2"`)

	t.Run("github", func(t *testing.T) {
		api := forgetest.New(t, ghToken, 7)
		githubEnv(t, api)
		for i, want := range []string{"POST /repos/c5c3/c5c3-gitops/issues/7/comments", "PATCH /repos/c5c3/c5c3-gitops/issues/comments/1001"} {
			before := len(api.Calls())
			r := run(t, diffArgs(s, flags, "--publish", "github")...)
			noToken(t, r)
			what := fmt.Sprintf("run %d", i+1)
			wantExit(t, what, r, 1)
			expect.Contains(t, what+": stdout", r.stdout, "keystone")
			expect.Contains(t, what+": stderr", r.stderr, "published: commit status c5c3/diff success on 0123456")
			calls := api.Calls()[before:]
			expect.Equal(t, what+": calls", callList(calls),
				"GET /repos/c5c3/c5c3-gitops/issues/7/comments\n"+want+"\nPOST /repos/c5c3/c5c3-gitops/statuses/"+headSHA)
			for _, c := range calls {
				if c.Auth != "Bearer "+ghToken {
					t.Fatalf("run %d: %s %s sent %q", i+1, c.Method, c.Path, c.Auth)
				}
			}
		}
		cs := api.Comments(7)
		if len(cs) != 1 {
			t.Fatalf("comments %+v, want one sticky comment with the report", cs)
		}
		if !strings.HasPrefix(cs[0].Body, diff.CommentMarker+"\n### kubectl c5c3 diff") {
			t.Errorf("comment %q, want it to start with the marker and the report's heading", cs[0].Body)
		}
		expect.Contains(t, "comment", cs[0].Body, "keystone")
		st := api.Statuses()
		if len(st) != 2 {
			t.Fatalf("statuses %+v, want one per run", st)
		}
		expect.Equal(t, "second status", st[1], forgetest.Status{SHA: headSHA, Context: "c5c3/diff", State: "success", Description: st[1].Description})
		expect.Contains(t, "second status: description", st[1].Description, "drifted")
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
			what := fmt.Sprintf("run %d", i+1)
			wantExit(t, what, r, 1)
			expect.Contains(t, what+": stdout", r.stdout, "### kubectl c5c3 diff")
			expect.Contains(t, what+": stderr", r.stderr, "on merge request !3")
			calls := api.Calls()[before:]
			want := "GET /api/v4/projects/99/merge_requests/3/notes\n" + tc.want + "\nPOST /api/v4/projects/99/statuses/" + headSHA
			if callList(calls) != want {
				t.Fatalf("%s: calls\n%s\nwant\n%s", what, callList(calls), want)
			}
			expect.Equal(t, what+": note's auth", calls[1].Auth, tc.auth)
			expect.Equal(t, what+": status name", fmt.Sprint(calls[2].Body["name"]), "c5c3/diff")
			expect.Equal(t, what+": status state", fmt.Sprint(calls[2].Body["state"]), "success")
		}
		cs := api.Comments(3)
		if len(cs) != 1 {
			t.Fatalf("notes %+v, want one sticky note", cs)
		}
		if !strings.HasPrefix(cs[0].Body, diff.CommentMarker) {
			t.Errorf("note %q, want it to start with the marker", cs[0].Body)
		}
	})
}

// TestDiffPublishRefused: a pull request that does not exist, a bad token
// and a failing API are exit 2 naming the call and its status, after the
// report was written; nothing is posted. A missing token fails before the
// fleet is read.
func TestDiffPublishRefused(t *testing.T) {
	t.Parallel()
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
			wantExit(t, tc.name, r, 2)
			if !strings.HasPrefix(r.stderr, "error: --publish github: ") {
				t.Errorf("stderr %q, want it to start with \"error: --publish github: \"", r.stderr)
			}
			expect.Contains(t, "stderr", r.stderr, tc.want)
			expect.Contains(t, "stdout (the report, written before publishing)", r.stdout, "KUSTOMIZATION")
			if w := api.Writes(); len(w) != 0 {
				t.Fatalf("posted after a failure: %+v", w)
			}
		})
	}

	useEnv(t, map[string]string{"GITHUB_TOKEN": "", "GITLAB_TOKEN": "", "CI_JOB_TOKEN": ""})
	for _, tc := range []struct{ provider, want string }{
		{"github", "error: --publish github: GITHUB_TOKEN is not set"},
		{"gitlab", "error: --publish gitlab: neither GITLAB_TOKEN nor CI_JOB_TOKEN is set"},
	} {
		r := run(t, diffArgs(s, flags, "--publish", tc.provider)...)
		what := tc.provider + " without a token"
		wantExit(t, what, r, 2)
		expect.Contains(t, what+": stderr", r.stderr, tc.want)
		expect.Equal(t, what+": stdout", r.stdout, "")
	}
}

// callList is "METHOD path" of each call, one a line.
func callList(calls []forgetest.Call) string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Method+" "+c.Path)
	}
	return strings.Join(out, "\n")
}
