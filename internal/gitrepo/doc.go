// Package gitrepo is the plugin's one git layer: finding the checkout and
// its remotes, normalising repository URLs, reading trees at a commit,
// temporary worktrees, commits, branches and pushes, and cloning other
// repositories at a GitRepository's spec.ref.
//
// Each operation uses the tool that gives the user's own behaviour:
//
//   - Reads of the local repository's layout and configuration (TopLevel,
//     RemoteURL) use go-git: they need no git binary, so `kubectl c5c3 diff`
//     works on a machine without git.
//   - Everything promote and versions do (resolving revisions, reading trees at a
//     commit, searching history, worktrees, commits, branches, pushes) runs the user's git
//     binary (Git): author and committer from their git config, commit
//     signing as configured, credential helpers, ssh-agent, pushurl and
//     insteadOf rewriting behave exactly as with their own git. Hooks are
//     off (core.hooksPath=/dev/null) and so are terminal prompts
//     (GIT_TERMINAL_PROMPT=0).
//   - Charts of a GitRepository that is not the checkout (ResolveRemote,
//     ExportCommit) are fetched with go-git into memory, with the
//     credentials of the GitRepository's Secret, the way source-controller
//     fetches them: the user's git configuration plays no part there.
//   - URL handling (NormalizeURL, ParseRemote) is pure string work shared by
//     both.
package gitrepo
