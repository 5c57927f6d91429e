package promote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v92/github"
	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
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
// (GitLab: POST /projects/{id}/merge_requests through client-go) from head
// into base.
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

// githubClient is go-github against the API root for r (GitHub
// Enterprise: https://HOST/api/v3/).
func githubClient(o PullRequestOptions, r gitrepo.Remote) (*github.Client, error) {
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
	return c, nil
}

func openGitHub(ctx context.Context, o PullRequestOptions, r gitrepo.Remote, head, base, title, body string) (*PullRequest, error) {
	c, err := githubClient(o, r)
	if err != nil {
		return nil, err
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

// gitlabClient is the GitLab project's Go client (client-go) against the
// API root for r. Retries are off: a retried POST could open a second
// merge request.
func gitlabClient(o PullRequestOptions, r gitrepo.Remote) (*gitlab.Client, error) {
	api := o.GitLabAPIURL
	if api == "" {
		api = "https://" + r.Host + "/api/v4"
	}
	if u, err := url.Parse(api); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("--gitlab-api-url %q is not an http(s) URL", api)
	}
	opts := []gitlab.ClientOptionFunc{gitlab.WithBaseURL(api), gitlab.WithoutRetries()}
	if o.HTTPClient != nil {
		opts = append(opts, gitlab.WithHTTPClient(o.HTTPClient))
	}
	c, err := gitlab.NewClient(o.GitLabToken, opts...)
	if err != nil {
		return nil, fmt.Errorf("GitLab client: %w", err)
	}
	return c, nil
}

func openGitLab(ctx context.Context, o PullRequestOptions, r gitrepo.Remote, head, base, title, body string) (*PullRequest, error) {
	c, err := gitlabClient(o, r)
	if err != nil {
		return nil, err
	}
	mr, _, err := c.MergeRequests.CreateMergeRequest(r.Path, &gitlab.CreateMergeRequestOptions{
		SourceBranch: new(head), TargetBranch: new(base), Title: new(title), Description: new(body),
	}, gitlab.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("opening a GitLab merge request on %s: %w", r.Path, err)
	}
	return &PullRequest{Provider: ProviderGitLab, Number: int(mr.IID), URL: mr.WebURL}, nil
}

// StatusContext is the name of the commit status --open-pr sets, for
// branch protection to require.
const StatusContext = "c5c3/promotion-evidence"

// Commit status states (GitHub's words; GitLab's "failed" for failure).
const (
	StatusSuccess = "success"
	StatusFailure = "failure"
)

// CommitStatus is the status set on the pushed commit.
type CommitStatus struct {
	// Context is StatusContext.
	Context string `json:"context"`
	// State is success — a promotion: every gate passed and no danger
	// flag; a rollback: the promotion it restores carries a Verified
	// trailer — or failure.
	State       string `json:"state"`
	Description string `json:"description"`
}

// setCommitStatus sets st on commit sha: GitHub POST
// /repos/{owner}/{repo}/statuses/{sha}, GitLab POST
// /projects/{id}/statuses/{sha} (name = the context).
func setCommitStatus(ctx context.Context, o PullRequestOptions, r gitrepo.Remote, sha string, st CommitStatus) error {
	provider, err := o.resolve(r)
	if err != nil {
		return err
	}
	if provider == ProviderGitLab {
		c, err := gitlabClient(o, r)
		if err != nil {
			return err
		}
		state := gitlab.Success
		if st.State != StatusSuccess {
			state = gitlab.Failed
		}
		if _, _, err := c.Commits.SetCommitStatus(r.Path, sha, &gitlab.SetCommitStatusOptions{
			State: state, Name: new(st.Context), Description: new(st.Description),
		}, gitlab.WithContext(ctx)); err != nil {
			return fmt.Errorf("setting the GitLab commit status %s on %s: %w", st.Context, short(sha), err)
		}
		return nil
	}
	c, err := githubClient(o, r)
	if err != nil {
		return err
	}
	owner, repo, _ := strings.Cut(r.Path, "/")
	if _, _, err := c.Repositories.CreateStatus(ctx, owner, repo, sha, github.RepoStatus{
		State: new(st.State), Context: new(st.Context), Description: new(st.Description),
	}); err != nil {
		return fmt.Errorf("setting the GitHub commit status %s on %s: %w", st.Context, short(sha), err)
	}
	return nil
}

// evidenceStatus sums up the plan's evidence as the commit status. For a
// promotion: success only when every gate passed on the commit promoted
// and the preview (if any) raised no danger flag. For a rollback, which
// runs no gate: success when the promotion it restores carries a Verified
// trailer (that earlier check is the evidence), else failure. GitHub
// allows 140 characters.
func evidenceStatus(p *Plan) CommitStatus {
	st := CommitStatus{Context: StatusContext, State: StatusFailure}
	h := p.HealthCheck
	switch t := p.Rollback; {
	case t != nil && t.Before != "":
		st.Description = fmt.Sprintf("no evidence: restores the pins before promotion %s", short(t.Before))
	case t != nil && t.Verified == nil:
		st.Description = fmt.Sprintf("no evidence: the restored promotion %s has no %s trailer", short(t.Commit), TrailerVerified)
	case t != nil:
		st.State = StatusSuccess
		st.Description = fmt.Sprintf("restores promotion %s, verified: %s", short(t.Commit), t.Verified.Text)
	case h == nil || len(h.Gates) == 0:
		st.Description = "no evidence: the health gate was skipped"
	case !h.Healthy:
		st.Description = fmt.Sprintf("health gate failed (%d problems), overridden with --skip-health-check", len(h.AllProblems()))
	case h.Commit != p.From.Commit:
		st.Description = fmt.Sprintf("%s runs %s, not the promoted %s", p.From.Environment, short(h.Commit), short(p.From.Commit))
	case p.BlastRadius != nil && len(p.BlastRadius.Incomplete) > 0:
		st.Description = fmt.Sprintf("the preview of %s is incomplete: %d %s could not be rendered or diffed", p.To.Environment,
			len(p.BlastRadius.Incomplete), plural(len(p.BlastRadius.Incomplete), "Kustomization or HelmRelease", "Kustomizations or HelmReleases"))
	case p.BlastRadius != nil && p.BlastRadius.Dangers > 0:
		st.Description = fmt.Sprintf("%d danger %s in the preview of %s", p.BlastRadius.Dangers, plural(p.BlastRadius.Dangers, "flag", "flags"), p.To.Environment)
	default:
		st.State = StatusSuccess
		nks, nhr := deliveryCounts(h)
		st.Description = fmt.Sprintf("%d gates passed: %d Kustomizations, %d HelmReleases Ready, soaked %s", len(h.Gates), nks, nhr, h.Soaked)
		if p.BlastRadius == nil {
			st.Description += "; no --diff preview"
		}
	}
	if len(st.Description) > 140 {
		st.Description = st.Description[:137] + "..."
	}
	return st
}
