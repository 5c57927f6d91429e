package promote

import (
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v92/github"
)

// Git hosting providers for --open-pr.
const (
	ProviderGitHub = "github"
	ProviderGitLab = "gitlab"
)

// PullRequestOptions say where and how to open the pull (merge) request.
type PullRequestOptions struct {
	// Provider is github or gitlab; empty picks gitlab when the origin's
	// host name contains "gitlab", else github.
	Provider string
	// GitHubAPIURL is the REST API root; default https://api.github.com/
	// for github.com, else https://HOST/api/v3/ (GitHub Enterprise).
	GitHubAPIURL string
	// GitLabAPIURL is the REST API root; default https://HOST/api/v4.
	GitLabAPIURL string
	// GitHubToken and GitLabToken authenticate (GITHUB_TOKEN, GITLAB_TOKEN).
	GitHubToken string
	GitLabToken string
	// HTTPClient, when set, sends the requests.
	HTTPClient *http.Client
}

// PullRequest is an opened pull or merge request.
type PullRequest struct {
	Provider string `json:"provider"`
	Number   int    `json:"number"`
	URL      string `json:"url"`
}

// resolve picks the provider and checks that a token is there.
func (o PullRequestOptions) resolve(r gitrepo.Remote) (provider string, err error) {
	provider = o.Provider
	if provider == "" {
		provider = ProviderGitHub
		if strings.Contains(strings.ToLower(r.Host), "gitlab") {
			provider = ProviderGitLab
		}
	}
	switch provider {
	case ProviderGitHub:
		if o.GitHubToken == "" {
			return "", errors.New("--open-pr on GitHub needs a token in GITHUB_TOKEN")
		}
		if len(strings.Split(r.Path, "/")) != 2 {
			return "", fmt.Errorf("origin %s/%s is not a GitHub OWNER/REPO", r.Host, r.Path)
		}
	case ProviderGitLab:
		if o.GitLabToken == "" {
			return "", errors.New("--open-pr on GitLab needs a token in GITLAB_TOKEN")
		}
	default:
		return "", fmt.Errorf("unknown provider %q: use github or gitlab", provider)
	}
	return provider, nil
}

// openPullRequest opens a pull request (GitHub: POST
// /repos/{owner}/{repo}/pulls through go-github) or a merge request
// (GitLab: POST /projects/{id}/merge_requests) from head into base.
func openPullRequest(ctx context.Context, o PullRequestOptions, r gitrepo.Remote, head, base, title, body string) (*PullRequest, error) {
	provider, err := o.resolve(r)
	if err != nil {
		return nil, err
	}
	if provider == ProviderGitLab {
		return openGitLab(ctx, o, r, head, base, title, body)
	}
	return openGitHub(ctx, o, r, head, base, title, body)
}

func openGitHub(ctx context.Context, o PullRequestOptions, r gitrepo.Remote, head, base, title, body string) (*PullRequest, error) {
	api := o.GitHubAPIURL
	if api == "" {
		api = "https://api.github.com/"
		if !strings.EqualFold(r.Host, "github.com") {
			api = "https://" + r.Host + "/api/v3/"
		}
	}
	if !strings.HasSuffix(api, "/") {
		api += "/"
	}
	if u, err := url.Parse(api); err != nil || u.Host == "" {
		return nil, fmt.Errorf("--github-api-url %q is not a URL", o.GitHubAPIURL)
	}
	opts := []github.ClientOptionsFunc{github.WithAuthToken(o.GitHubToken), github.WithURLs(&api, &api)}
	if o.HTTPClient != nil {
		opts = append(opts, github.WithHTTPClient(o.HTTPClient))
	}
	c, err := github.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("GitHub client: %w", err)
	}
	owner, repo, _ := strings.Cut(r.Path, "/")
	pr, _, err := c.PullRequests.Create(ctx, owner, repo, github.CreatePullRequest{
		Title: new(title), Head: head, Base: base, Body: new(body),
	})
	if err != nil {
		return nil, fmt.Errorf("opening a GitHub pull request on %s/%s: %w", owner, repo, err)
	}
	return &PullRequest{Provider: ProviderGitHub, Number: pr.GetNumber(), URL: pr.GetHTMLURL()}, nil
}

func openGitLab(ctx context.Context, o PullRequestOptions, r gitrepo.Remote, head, base, title, body string) (*PullRequest, error) {
	api := o.GitLabAPIURL
	if api == "" {
		api = "https://" + r.Host + "/api/v4"
	}
	endpoint := strings.TrimSuffix(api, "/") + "/projects/" + url.PathEscape(r.Path) + "/merge_requests"
	payload, err := json.Marshal(map[string]any{
		"source_branch": head, "target_branch": base, "title": title, "description": body,
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("--gitlab-api-url %q: %w", api, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("PRIVATE-TOKEN", o.GitLabToken)
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("opening a GitLab merge request on %s: %w", r.Path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("opening a GitLab merge request on %s: %s %s: %s", r.Path, req.Method, endpoint, gitlabMessage(resp.Status, data))
	}
	var mr struct {
		IID    int    `json:"iid"`
		WebURL string `json:"web_url"`
	}
	if err := json.Unmarshal(data, &mr); err != nil {
		return nil, fmt.Errorf("opening a GitLab merge request on %s: unexpected answer: %w", r.Path, err)
	}
	return &PullRequest{Provider: ProviderGitLab, Number: mr.IID, URL: mr.WebURL}, nil
}

func gitlabMessage(status string, data []byte) string {
	var e struct {
		Message any    `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil {
		if e.Message != nil {
			b, _ := json.Marshal(e.Message)
			return status + ": " + string(b)
		}
		if e.Error != "" {
			return status + ": " + e.Error
		}
	}
	return status
}
