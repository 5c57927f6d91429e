package forge

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v92/github"
	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// PullRequest is an opened pull or merge request.
type PullRequest struct {
	Provider string `json:"provider"`
	Number   int    `json:"number"`
	URL      string `json:"url"`
}

// OpenPullRequest opens a pull request (GitHub: POST
// /repos/{owner}/{repo}/pulls through go-github) or a merge request
// (GitLab: POST /projects/{id}/merge_requests through client-go) from head
// into base.
func OpenPullRequest(ctx context.Context, o Options, r gitrepo.Remote, head, base, title, body string) (*PullRequest, error) {
	provider, err := o.Resolve(r)
	if err != nil {
		return nil, err
	}
	if provider == GitLab {
		c, err := gitlabClient(o, r)
		if err != nil {
			return nil, err
		}
		mr, _, err := c.MergeRequests.CreateMergeRequest(r.Path, &gitlab.CreateMergeRequestOptions{
			SourceBranch: new(head), TargetBranch: new(base), Title: new(title), Description: new(body),
		}, gitlab.WithContext(ctx))
		if err != nil {
			return nil, apiError("opening a GitLab merge request on "+r.Path, err, o.GitLabToken)
		}
		return &PullRequest{Provider: GitLab, Number: int(mr.IID), URL: mr.WebURL}, nil
	}
	c, err := githubClient(o, r)
	if err != nil {
		return nil, err
	}
	owner, repo, _ := strings.Cut(r.Path, "/")
	pr, _, err := c.PullRequests.Create(ctx, owner, repo, github.CreatePullRequest{
		Title: new(title), Head: head, Base: base, Body: new(body),
	})
	if err != nil {
		return nil, apiError(fmt.Sprintf("opening a GitHub pull request on %s/%s", owner, repo), err, o.GitHubToken)
	}
	return &PullRequest{Provider: GitHub, Number: pr.GetNumber(), URL: pr.GetHTMLURL()}, nil
}
