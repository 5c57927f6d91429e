// Package forge talks to the git hosting providers — GitHub through
// go-github, GitLab through the GitLab project's Go client (client-go) —
// for promote (open a pull or merge request, set a commit status) and
// `diff --publish` (one sticky comment on a pull or merge request, a
// commit status): forge.go builds the clients and resolves the provider,
// pullrequest.go, status.go and comment.go are one API each, env.go reads
// the CI context (GitHub Actions, GitLab CI).
//
// Tokens never appear in an error: every API error is redacted and names
// the call and its HTTP status (apierror.go). Nothing is retried, so no
// request is ever sent twice.
package forge
