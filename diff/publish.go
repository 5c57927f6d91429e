package diff

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/c5c3/kubectl-c5c3/internal/forge"
)

// StatusContext is the commit status `diff --publish` sets on the head
// commit, for branch protection to require.
const StatusContext = "c5c3/diff"

// CommentMarker is the hidden marker of the one sticky report comment on a
// pull (merge) request: a later run edits the comment that carries it.
const CommentMarker = "<!-- kubectl-c5c3: c5c3/diff report -->"

// PublishOptions say where and how a report is published.
type PublishOptions struct {
	// Target is the pull (merge) request, its repository and head commit.
	Target *forge.Target
	// FullReport says where the whole report is (the HTML artifact's URL or
	// the CI run's page), for the note when the comment must be cut.
	FullReport string
	// Limit caps the comment (default MarkdownLimit).
	Limit int
	// FailOnDanger makes any of the result's danger flags fail the status.
	FailOnDanger bool
}

// Published is what Publish posted.
type Published struct {
	Comment *forge.Comment     `json:"comment"`
	Status  forge.CommitStatus `json:"status"`
}

// Publish posts r as the sticky markdown comment on the pull (merge)
// request and then sets the commit status c5c3/diff on its head commit.
// The comment comes first: its listing proves the pull request exists and
// the token may read it before anything is written. A failure stops there
// and names the API call and its HTTP status; nothing is retried.
func Publish(ctx context.Context, r *Result, o PublishOptions) (*Published, error) {
	var body bytes.Buffer
	body.WriteString(CommentMarker + "\n")
	limit := o.Limit
	if limit <= 0 {
		limit = MarkdownLimit
	}
	if err := WriteMarkdownReport(&body, r, limit-len(CommentMarker)-1, o.FullReport); err != nil {
		return nil, err
	}
	t := o.Target
	c, err := forge.StickyComment(ctx, t.Options, t.Repo, t.Number, CommentMarker, body.String())
	if err != nil {
		return nil, err
	}
	p := &Published{Comment: c, Status: CommitStatus(r, len(r.Dangers), o.FailOnDanger)}
	if err := forge.SetCommitStatus(ctx, t.Options, t.Repo, t.SHA, p.Status); err != nil {
		return p, err
	}
	return p, nil
}

// CommitStatus sums r up as the c5c3/diff status: failure when something
// could not be built, rendered or diffed (the plan is incomplete), or —
// with failOnDanger — when any of the dangers flags was raised; else
// success, with or without changes. The description says which.
func CommitStatus(r *Result, dangers int, failOnDanger bool) forge.CommitStatus {
	st := forge.CommitStatus{Context: StatusContext, State: forge.StatusSuccess}
	s := r.Summary
	changes := fmt.Sprintf("%d created, %d drifted, %d deleted", s.Created, s.Drifted, s.Deleted)
	switch {
	case r.HasErrors():
		st.State = forge.StatusFailure
		st.Description = fmt.Sprintf("incomplete: %d Kustomizations/HelmReleases and %d objects failed; %s", len(r.Incomplete), s.Errors, changes)
	case failOnDanger && dangers > 0:
		st.State = forge.StatusFailure
		st.Description = fmt.Sprintf("%d danger %s (--fail-on-danger); %s", dangers, plural(dangers, "flag", "flags"), changes)
	case !r.HasChanges():
		st.Description = "no changes"
	default:
		st.Description = changes
		if dangers > 0 {
			st.Description += fmt.Sprintf("; %d danger %s", dangers, plural(dangers, "flag", "flags"))
		}
	}
	st.Description = forge.ShortDescription(strings.TrimSpace(st.Description))
	return st
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
