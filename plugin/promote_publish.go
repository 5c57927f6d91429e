package plugin

import (
	"github.com/spf13/cobra"

	"github.com/c5c3/kubectl-c5c3/internal/forge"
)

// publishFlags are the flags promote and promote rollback share for what
// happens to the new branch: replace, sign off, push, open a pull request.
type publishFlags struct {
	Force        bool
	Signoff      bool
	Push         bool
	OpenPR       bool
	Provider     string
	GitHubAPIURL string
	GitLabAPIURL string
}

// add registers the flags on cmd.
func (o *publishFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.Force, "force", false, "Replace the branch if it exists (locally, and on origin with --push)")
	f.BoolVar(&o.Signoff, "signoff", false, "Add a Signed-off-by trailer (git commit --signoff)")
	f.BoolVar(&o.Push, "push", false, "Push the branch to origin (authenticated as git does: credential helpers, ssh-agent)")
	f.BoolVar(&o.OpenPR, "open-pr", false, "Open a pull request (GitHub, GITHUB_TOKEN) or merge request (GitLab, GITLAB_TOKEN); implies --push")
	f.Var(newEnum(&o.Provider, "auto", "auto", forge.GitHub, forge.GitLab), "git-provider", "Where --open-pr opens it: auto (gitlab when origin's host contains \"gitlab\", else github), github, gitlab")
	f.StringVar(&o.GitHubAPIURL, "github-api-url", "", "GitHub REST API root, e.g. https://ghe.example.com/api/v3/ (default: api.github.com, or https://HOST/api/v3/)")
	f.StringVar(&o.GitLabAPIURL, "gitlab-api-url", "", "GitLab REST API root (default: https://HOST/api/v4 of origin)")
	_ = cmd.RegisterFlagCompletionFunc("git-provider", fixedCompletion([]string{"auto", forge.GitHub, forge.GitLab}))
}

// pullRequest is what --open-pr needs, with the tokens from GITHUB_TOKEN
// and GITLAB_TOKEN (read with getenv).
func (o *publishFlags) pullRequest(getenv func(string) string) forge.Options {
	provider := o.Provider
	if provider == "auto" {
		provider = ""
	}
	return forge.Options{
		Provider: provider, GitHubAPIURL: o.GitHubAPIURL, GitLabAPIURL: o.GitLabAPIURL,
		GitHubToken: getenv("GITHUB_TOKEN"), GitLabToken: getenv("GITLAB_TOKEN"),
	}
}
