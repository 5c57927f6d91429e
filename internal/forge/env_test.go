package forge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFromEnv(t *testing.T) {
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"number":7,"pull_request":{"number":7,"head":{"sha":"head7"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	gh := map[string]string{"GITHUB_TOKEN": "ghs_secret", "GITHUB_REPOSITORY": "c5c3/gitops", "GITHUB_EVENT_PATH": event,
		"GITHUB_SHA": "merge", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "9"}
	gl := map[string]string{"CI_JOB_TOKEN": "job_secret", "CI_API_V4_URL": "https://gitlab.example/api/v4", "CI_PROJECT_ID": "12",
		"CI_MERGE_REQUEST_IID": "4", "CI_COMMIT_SHA": "head4", "CI_JOB_URL": "https://gitlab.example/jobs/1"}
	with := func(env map[string]string, k, v string) func(string) string {
		return func(name string) string {
			if name == k {
				return v
			}
			return env[name]
		}
	}
	tg, err := FromEnv(GitHub, with(gh, "", ""), 0)
	if err != nil || tg.Number != 7 || tg.SHA != "head7" || tg.Options.GitHubAPIURL != "https://api.github.com/" ||
		tg.Repo.Path != "c5c3/gitops" || tg.RunURL != "https://github.com/c5c3/gitops/actions/runs/9" {
		t.Fatalf("GitHub event: %+v %v", tg, err)
	}
	// --pr names another pull request: the event's head is not its head.
	if tg, err = FromEnv(GitHub, with(gh, "GITHUB_EVENT_PATH", ""), 8); err != nil || tg.Number != 8 || tg.SHA != "merge" {
		t.Fatalf("--pr 8: %+v %v", tg, err)
	}
	tl, err := FromEnv(GitLab, with(gl, "", ""), 0)
	if err != nil || tl.Number != 4 || tl.SHA != "head4" || !tl.Options.GitLabJobToken || tl.Repo.Path != "12" || tl.RunURL != "https://gitlab.example/jobs/1" {
		t.Fatalf("GitLab: %+v %v", tl, err)
	}
	if tl, err = FromEnv(GitLab, with(gl, "GITLAB_TOKEN", "glpat"), 0); err != nil || tl.Options.GitLabJobToken || tl.Options.GitLabToken != "glpat" {
		t.Fatalf("GITLAB_TOKEN wins: %+v %v", tl, err)
	}
	for _, tc := range []struct {
		provider string
		getenv   func(string) string
		want     string
	}{
		{GitHub, with(gh, "GITHUB_TOKEN", ""), "GITHUB_TOKEN is not set"},
		{GitHub, with(gh, "GITHUB_REPOSITORY", "c5c3"), `GITHUB_REPOSITORY "c5c3" is not OWNER/REPO`},
		{GitHub, with(gh, "GITHUB_EVENT_PATH", ""), "no pull request number"},
		{GitHub, with(gh, "GITHUB_EVENT_PATH", "/nonexistent/event.json"), "reading the event in GITHUB_EVENT_PATH"},
		{GitLab, with(gl, "CI_JOB_TOKEN", ""), "neither GITLAB_TOKEN nor CI_JOB_TOKEN is set"},
		{GitLab, with(gl, "CI_MERGE_REQUEST_IID", ""), "CI_MERGE_REQUEST_IID is not set"},
		{GitLab, with(gl, "CI_MERGE_REQUEST_IID", "x"), `CI_MERGE_REQUEST_IID "x"`},
		{GitLab, with(gl, "CI_API_V4_URL", ""), "CI_API_V4_URL"},
		{GitLab, with(gl, "CI_COMMIT_SHA", ""), "CI_COMMIT_SHA is not set"},
	} {
		_, err := FromEnv(tc.provider, tc.getenv, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
}
