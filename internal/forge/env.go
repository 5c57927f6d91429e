package forge

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// Target is a pull (merge) request to publish on, read from the CI
// environment: the API and token, the repository, the request's number and
// the head commit.
type Target struct {
	Options Options
	// Repo is the repository: GitHub OWNER/REPO, GitLab the project id.
	Repo gitrepo.Remote
	// Number is the pull request number (GitLab: the merge request IID).
	Number int
	// SHA is the head commit the status is set on.
	SHA string
	// RunURL is the CI run or job page (where its artifacts are), if the
	// environment says.
	RunURL string
}

// FromEnv reads the CI context of provider (github or gitlab) through
// getenv (os.Getenv). number, when positive, is the pull (merge) request
// to use instead of the environment's.
//
// GitHub Actions: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL (default
// https://api.github.com), the number and head SHA from the event in
// GITHUB_EVENT_PATH (pull_request.number, pull_request.head.sha), else
// GITHUB_SHA; the run page from GITHUB_SERVER_URL and GITHUB_RUN_ID.
// GitLab CI: GITLAB_TOKEN (else CI_JOB_TOKEN, sent as JOB-TOKEN),
// CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID, CI_COMMIT_SHA; the
// job page from CI_JOB_URL.
//
// Errors name the variable that is missing or wrong, never its value.
func FromEnv(provider string, getenv func(string) string, number int) (*Target, error) {
	switch provider {
	case GitHub:
		return githubFromEnv(getenv, number)
	case GitLab:
		return gitlabFromEnv(getenv, number)
	}
	return nil, fmt.Errorf("unknown provider %q: use github or gitlab", provider)
}

func githubFromEnv(getenv func(string) string, number int) (*Target, error) {
	t := &Target{Options: Options{Provider: GitHub, GitHubToken: getenv("GITHUB_TOKEN"), GitHubAPIURL: getenv("GITHUB_API_URL")}, Number: number}
	if t.Options.GitHubToken == "" {
		return nil, errors.New("GITHUB_TOKEN is not set: give the job a token that may write pull request comments and commit statuses")
	}
	if t.Options.GitHubAPIURL == "" {
		t.Options.GitHubAPIURL = "https://api.github.com/"
	}
	repo := getenv("GITHUB_REPOSITORY")
	if owner, name, ok := strings.Cut(repo, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("GITHUB_REPOSITORY %q is not OWNER/REPO", repo)
	}
	t.Repo = gitrepo.Remote{Host: "github.com", Path: repo}
	if u, err := url.Parse(t.Options.GitHubAPIURL); err == nil && u.Host != "" && !strings.EqualFold(u.Host, "api.github.com") {
		t.Repo.Host = u.Host
	}
	if p := getenv("GITHUB_EVENT_PATH"); p != "" {
		ev, err := readGitHubEvent(p)
		if err != nil {
			return nil, err
		}
		if t.Number <= 0 {
			t.Number = ev.number()
		}
		if number <= 0 || number == ev.number() {
			t.SHA = ev.PullRequest.Head.SHA
		}
	}
	if t.Number <= 0 {
		return nil, errors.New("no pull request number: run on a pull_request event (GITHUB_EVENT_PATH) or pass --pr N")
	}
	if t.SHA == "" {
		t.SHA = getenv("GITHUB_SHA")
	}
	if t.SHA == "" {
		return nil, errors.New("no head commit: neither the event in GITHUB_EVENT_PATH nor GITHUB_SHA names one")
	}
	if srv, id := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_RUN_ID"); srv != "" && id != "" {
		t.RunURL = strings.TrimSuffix(srv, "/") + "/" + repo + "/actions/runs/" + id
	}
	return t, nil
}

// githubEvent is what a pull_request (or pull_request_target) event
// payload holds that publishing needs.
type githubEvent struct {
	Number      int `json:"number"`
	PullRequest struct {
		Number int `json:"number"`
		Head   struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
}

func (e githubEvent) number() int {
	if e.PullRequest.Number > 0 {
		return e.PullRequest.Number
	}
	return e.Number
}

func readGitHubEvent(path string) (githubEvent, error) {
	var ev githubEvent
	data, err := os.ReadFile(path)
	if err != nil {
		return ev, fmt.Errorf("reading the event in GITHUB_EVENT_PATH: %w", err)
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return ev, fmt.Errorf("the event in GITHUB_EVENT_PATH (%s) is not JSON: %w", path, err)
	}
	return ev, nil
}

func gitlabFromEnv(getenv func(string) string, number int) (*Target, error) {
	t := &Target{Options: Options{Provider: GitLab, GitLabToken: getenv("GITLAB_TOKEN"), GitLabAPIURL: getenv("CI_API_V4_URL")}, Number: number}
	if t.Options.GitLabToken == "" {
		t.Options.GitLabToken, t.Options.GitLabJobToken = getenv("CI_JOB_TOKEN"), true
	}
	if t.Options.GitLabToken == "" {
		return nil, errors.New("neither GITLAB_TOKEN nor CI_JOB_TOKEN is set: give the job a token with the api scope (a project access token, Reporter or more)")
	}
	u, err := url.Parse(t.Options.GitLabAPIURL)
	if t.Options.GitLabAPIURL == "" || err != nil || u.Host == "" {
		return nil, fmt.Errorf("CI_API_V4_URL %q is not the GitLab API URL (run in a GitLab CI job)", t.Options.GitLabAPIURL)
	}
	project := getenv("CI_PROJECT_ID")
	if project == "" {
		return nil, errors.New("CI_PROJECT_ID is not set (run in a GitLab CI job)")
	}
	t.Repo = gitrepo.Remote{Host: u.Host, Path: project}
	if t.Number <= 0 {
		iid := getenv("CI_MERGE_REQUEST_IID")
		if iid == "" {
			return nil, errors.New("no merge request: CI_MERGE_REQUEST_IID is not set (run the job in a merge request pipeline, rules: if: $CI_PIPELINE_SOURCE == \"merge_request_event\") or pass --pr N")
		}
		if t.Number, err = strconv.Atoi(iid); err != nil || t.Number <= 0 {
			return nil, fmt.Errorf("CI_MERGE_REQUEST_IID %q is not a merge request IID", iid)
		}
	}
	if t.SHA = getenv("CI_COMMIT_SHA"); t.SHA == "" {
		return nil, errors.New("CI_COMMIT_SHA is not set (run in a GitLab CI job)")
	}
	t.RunURL = getenv("CI_JOB_URL")
	return t, nil
}
