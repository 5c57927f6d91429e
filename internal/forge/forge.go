package forge

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v92/github"
	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// Git hosting providers.
const (
	GitHub = "github"
	GitLab = "gitlab"
)

// Options say which provider to talk to, where and with which token.
type Options struct {
	// Provider is github or gitlab; empty picks gitlab when the
	// repository's host name contains "gitlab", else github.
	Provider string
	// GitHubAPIURL is the REST API root; default https://api.github.com/
	// for github.com, else https://HOST/api/v3/ (GitHub Enterprise).
	GitHubAPIURL string
	// GitLabAPIURL is the REST API root; default https://HOST/api/v4.
	GitLabAPIURL string
	// GitHubToken and GitLabToken authenticate (GITHUB_TOKEN,
	// GITLAB_TOKEN). GitLabJobToken says GitLabToken is a CI job token
	// (CI_JOB_TOKEN), sent as JOB-TOKEN instead of PRIVATE-TOKEN.
	GitHubToken    string
	GitLabToken    string
	GitLabJobToken bool
	// HTTPClient, when set, sends the requests.
	HTTPClient *http.Client
}

// Resolve picks the provider for the repository r and checks that a token
// is there.
func (o Options) Resolve(r gitrepo.Remote) (provider string, err error) {
	provider = o.Provider
	if provider == "" {
		provider = GitHub
		if strings.Contains(strings.ToLower(r.Host), "gitlab") {
			provider = GitLab
		}
	}
	switch provider {
	case GitHub:
		if o.GitHubToken == "" {
			return "", errors.New("GitHub needs a token in GITHUB_TOKEN")
		}
		if len(strings.Split(r.Path, "/")) != 2 {
			return "", fmt.Errorf("%s/%s is not a GitHub OWNER/REPO", r.Host, r.Path)
		}
	case GitLab:
		if o.GitLabToken == "" {
			return "", errors.New("GitLab needs a token in GITLAB_TOKEN")
		}
	default:
		return "", fmt.Errorf("unknown provider %q: use github or gitlab", provider)
	}
	return provider, nil
}

// githubClient is go-github against the API root for r (GitHub
// Enterprise: https://HOST/api/v3/).
func githubClient(o Options, r gitrepo.Remote) (*github.Client, error) {
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
		return nil, fmt.Errorf("GitHub API URL %q is not a URL", o.GitHubAPIURL)
	}
	opts := []github.ClientOptionsFunc{github.WithAuthToken(o.GitHubToken), github.WithURLs(&api, &api)}
	if o.HTTPClient != nil {
		opts = append(opts, github.WithHTTPClient(o.HTTPClient))
	}
	c, err := github.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("GitHub client: %w", redact(err, o.GitHubToken))
	}
	return c, nil
}

// gitlabClient is the GitLab project's Go client (client-go) against the
// API root for r. Retries are off: a retried POST could open a second
// merge request or post a second comment.
func gitlabClient(o Options, r gitrepo.Remote) (*gitlab.Client, error) {
	api := o.GitLabAPIURL
	if api == "" {
		api = "https://" + r.Host + "/api/v4"
	}
	if u, err := url.Parse(api); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("GitLab API URL %q is not an http(s) URL", api)
	}
	opts := []gitlab.ClientOptionFunc{gitlab.WithBaseURL(api), gitlab.WithoutRetries()}
	if o.HTTPClient != nil {
		opts = append(opts, gitlab.WithHTTPClient(o.HTTPClient))
	}
	newClient := gitlab.NewClient
	if o.GitLabJobToken {
		newClient = gitlab.NewJobClient
	}
	c, err := newClient(o.GitLabToken, opts...)
	if err != nil {
		return nil, fmt.Errorf("GitLab client: %w", redact(err, o.GitLabToken))
	}
	return c, nil
}
