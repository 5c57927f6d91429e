package forge

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v92/github"
	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// Commit status states (GitHub's words; GitLab's "failed" for failure).
const (
	StatusSuccess = "success"
	StatusFailure = "failure"
)

// MaxStatusDescription is the longest description GitHub accepts.
const MaxStatusDescription = 140

// CommitStatus is a status set on a commit, for branch protection to
// require.
type CommitStatus struct {
	// Context names the check (GitLab: the status's name).
	Context string `json:"context"`
	// State is success or failure.
	State       string `json:"state"`
	Description string `json:"description"`
}

// SetCommitStatus sets st on commit sha: GitHub POST
// /repos/{owner}/{repo}/statuses/{sha}, GitLab POST
// /projects/{id}/statuses/{sha} (name = the context). A description
// longer than GitHub allows is cut (ShortDescription).
func SetCommitStatus(ctx context.Context, o Options, r gitrepo.Remote, sha string, st CommitStatus) error {
	provider, err := o.Resolve(r)
	if err != nil {
		return err
	}
	st.Description = ShortDescription(st.Description)
	if provider == GitLab {
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
			return apiError(fmt.Sprintf("setting the GitLab commit status %s on %s", st.Context, short(sha)), err, o.GitLabToken)
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
		return apiError(fmt.Sprintf("setting the GitHub commit status %s on %s", st.Context, short(sha)), err, o.GitHubToken)
	}
	return nil
}

// ShortDescription cuts a status description to the 140 characters
// GitHub allows, ending it with "...".
func ShortDescription(s string) string {
	if len(s) > MaxStatusDescription {
		return s[:MaxStatusDescription-3] + "..."
	}
	return s
}

// short is a commit's first seven hex digits.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
