package forge

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v92/github"
	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// Comment is a sticky comment as posted.
type Comment struct {
	// ID is the comment's (GitLab: the note's) id.
	ID int64 `json:"id"`
	// Updated says an earlier comment with the marker was edited; false:
	// a new one was created.
	Updated bool `json:"updated"`
	// URL links to the comment (GitHub only).
	URL string `json:"url,omitempty"`
}

// StickyComment posts body on pull request (GitLab: merge request) number
// as the one comment that carries marker: the first comment holding the
// marker is edited in place; without one, a comment is created. The
// marker (an HTML comment, hidden when rendered) is put first in body.
// GitHub: GET /repos/{owner}/{repo}/issues/{n}/comments, then PATCH
// /repos/{owner}/{repo}/issues/comments/{id} or POST .../issues/{n}/comments;
// GitLab: GET /projects/{id}/merge_requests/{iid}/notes, then PUT
// .../notes/{note} or POST .../notes. Listing first also proves that the
// pull request exists before anything is posted.
func StickyComment(ctx context.Context, o Options, r gitrepo.Remote, number int, marker, body string) (*Comment, error) {
	provider, err := o.Resolve(r)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(body, marker) {
		body = marker + "\n" + body
	}
	if provider == GitLab {
		return stickyGitLab(ctx, o, r, number, marker, body)
	}
	return stickyGitHub(ctx, o, r, number, marker, body)
}

func stickyGitHub(ctx context.Context, o Options, r gitrepo.Remote, number int, marker, body string) (*Comment, error) {
	c, err := githubClient(o, r)
	if err != nil {
		return nil, err
	}
	owner, repo, _ := strings.Cut(r.Path, "/")
	where := fmt.Sprintf("pull request #%d of %s/%s", number, owner, repo)
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var found *github.IssueComment
	for found == nil {
		page, resp, err := c.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, apiError("listing the comments of GitHub "+where, err, o.GitHubToken)
		}
		for _, cm := range page {
			if strings.Contains(cm.GetBody(), marker) {
				found = cm
				break
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if found != nil {
		cm, _, err := c.Issues.UpdateComment(ctx, owner, repo, found.GetID(), github.IssueCommentRequest{Body: body})
		if err != nil {
			return nil, apiError(fmt.Sprintf("editing comment %d on GitHub %s", found.GetID(), where), err, o.GitHubToken)
		}
		return &Comment{ID: cm.GetID(), Updated: true, URL: cm.GetHTMLURL()}, nil
	}
	cm, _, err := c.Issues.CreateComment(ctx, owner, repo, number, github.IssueCommentRequest{Body: body})
	if err != nil {
		return nil, apiError("commenting on GitHub "+where, err, o.GitHubToken)
	}
	return &Comment{ID: cm.GetID(), URL: cm.GetHTMLURL()}, nil
}

func stickyGitLab(ctx context.Context, o Options, r gitrepo.Remote, number int, marker, body string) (*Comment, error) {
	c, err := gitlabClient(o, r)
	if err != nil {
		return nil, err
	}
	iid := int64(number)
	where := fmt.Sprintf("merge request !%d of project %s", number, r.Path)
	opts := &gitlab.ListMergeRequestNotesOptions{ListOptions: gitlab.ListOptions{PerPage: 100}}
	var found *gitlab.Note
	for found == nil {
		page, resp, err := c.Notes.ListMergeRequestNotes(r.Path, iid, opts, gitlab.WithContext(ctx))
		if err != nil {
			return nil, apiError("listing the notes of GitLab "+where, err, o.GitLabToken)
		}
		for _, n := range page {
			if !n.System && strings.Contains(n.Body, marker) {
				found = n
				break
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if found != nil {
		n, _, err := c.Notes.UpdateMergeRequestNote(r.Path, iid, found.ID, &gitlab.UpdateMergeRequestNoteOptions{Body: new(body)}, gitlab.WithContext(ctx))
		if err != nil {
			return nil, apiError(fmt.Sprintf("editing note %d on GitLab %s", found.ID, where), err, o.GitLabToken)
		}
		return &Comment{ID: n.ID, Updated: true}, nil
	}
	n, _, err := c.Notes.CreateMergeRequestNote(r.Path, iid, &gitlab.CreateMergeRequestNoteOptions{Body: new(body)}, gitlab.WithContext(ctx))
	if err != nil {
		return nil, apiError("commenting on GitLab "+where, err, o.GitLabToken)
	}
	return &Comment{ID: n.ID}, nil
}
