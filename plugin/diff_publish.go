package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/forge"
)

// diffPublishFlags are diff's flags for posting the report on a pull
// (merge) request.
type diffPublishFlags struct {
	Publish   string
	PR        int
	ReportURL string

	target *forge.Target
}

// add registers the flags on cmd.
func (o *diffPublishFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Var(newEnum(&o.Publish, "", forge.GitHub, forge.GitLab), "publish", "Post the markdown report as one sticky comment on the pull (merge) request and set the commit status "+diff.StatusContext+" on its head commit: github or gitlab (context from the CI environment)")
	f.IntVar(&o.PR, "pr", 0, "With --publish: the pull (merge) request number (default: from the CI environment: GitHub's event in GITHUB_EVENT_PATH, GitLab's CI_MERGE_REQUEST_IID)")
	f.StringVar(&o.ReportURL, "report-url", "", "With --publish: where the full report is, named when the comment must be cut (default: the CI run's page, GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID or CI_JOB_URL)")
	_ = cmd.RegisterFlagCompletionFunc("publish", fixedCompletion([]string{forge.GitHub, forge.GitLab}))
}

// complete reads the CI context (with getenv), so that a missing token or
// pull request number fails before the fleet is diffed.
func (o *diffPublishFlags) complete(getenv func(string) string) error {
	if o.Publish == "" {
		if o.PR != 0 || o.ReportURL != "" {
			return usageErrorf("--pr and --report-url need --publish github|gitlab")
		}
		return nil
	}
	if o.PR < 0 {
		return usageErrorf("--pr must be a positive pull request number")
	}
	t, err := forge.FromEnv(o.Publish, getenv, o.PR)
	if err != nil {
		return usageErrorf("--publish %s: %v", o.Publish, err)
	}
	if o.ReportURL == "" {
		o.ReportURL = t.RunURL
	}
	o.target = t
	return nil
}

// publish posts r; the report itself has been written already. A failure
// is exit 2, naming the API call and its status.
func (o *diffPublishFlags) publish(ctx context.Context, r *diff.Result, failOnDanger bool, log func(format string, a ...any)) error {
	if o.target == nil {
		return nil
	}
	p, err := diff.Publish(ctx, r, diff.PublishOptions{Target: o.target, FullReport: o.ReportURL, FailOnDanger: failOnDanger})
	if p != nil && p.Comment != nil {
		verb := "created"
		if p.Comment.Updated {
			verb = "updated"
		}
		log("published: comment %d %s on %s", p.Comment.ID, verb, o.where())
	}
	if err != nil {
		return &ExitError{Code: CodeError, Err: fmt.Errorf("--publish %s: %w", o.Publish, err)}
	}
	log("published: commit status %s %s on %s: %s", p.Status.Context, p.Status.State, shortSHA(o.target.SHA), p.Status.Description)
	return nil
}

func (o *diffPublishFlags) where() string {
	if o.Publish == forge.GitLab {
		return fmt.Sprintf("merge request !%d", o.target.Number)
	}
	return fmt.Sprintf("pull request #%d", o.target.Number)
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}
