// Package promote is the engine behind `kubectl c5c3 promote`: it moves
// revisions ("pins" — HelmRelease chart versions, source refs, kustomize
// image tags, the FluxInstance version and values marked with a
// `# {"$c5c3": "<key>"}` setter comment) from one environment of the gitops
// repo to the next, as declared in c5c3.yaml (read, scanned for pins and
// spliced by package pipeline).
//
// The source environment's pins are read at the commit its hub
// Kustomizations applied — only when the health gate passes (gate.go,
// evidence.go; delivery.go, soak.go, spokes.go, charts.go one gate each):
// they are Ready, not suspended, current; everything their
// inventories deliver is too, HelmReleases at the pinned chart; all of it
// has soaked for the minimum; their spokes are reachable — matched by
// identity with the target's, and
// spliced into the target's files byte for byte — only the scalar tokens
// change. The edit happens in a temporary git worktree, is verified by a
// re-scan and a kustomize build, committed on a new branch with the user's
// git with the evidence as trailers, and optionally pushed and opened as a
// GitHub pull request or GitLab merge request with the commit status
// c5c3/promotion-evidence (status.go; the API calls: internal/forge). The --diff preview is summed up per
// target cluster with danger flags (blast.go). The user's checkout is never
// modified.
// A push that fails or is interrupted is settled with origin before it is
// reported (settle.go).
//
// ReadHistory lists past promotions — commits with a Promoted-To trailer on
// the base and the promote/... branches — with the pins each moved, its
// evidence trailers and whether the target's hub runs it (history.go,
// history_log.go, history_live.go, history_text.go). Rollback restores an environment's pins to those of an
// earlier promotion through the same edit, commit and push path
// (rollback.go).
//
// It takes typed Options, returns a typed Plan and never imports cobra.
package promote
