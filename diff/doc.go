// Package diff is the engine behind `kubectl c5c3 diff`: it builds every
// Flux Kustomization path of a local gitops checkout exactly as
// kustomize-controller would (fluxcd/pkg/kustomize), and compares the result
// with the live target cluster — the hub or a remote spoke reached through
// its kubeconfig Secret — by server-side-apply dry-run
// (fluxcd/pkg/ssa ResourceManager.Diff, field owner kustomize-controller).
//
// Live objects are fetched with one LIST per kind and namespace, so each
// object costs a single dry-run PATCH. Nested Kustomizations found in a
// build are diffed themselves, against their own target cluster, as the
// spec.serviceAccountName Flux impersonates (on the hub too). Secret
// values never leave this package unmasked.
//
// Files: run.go (Run: sources and roots), select.go (which Kustomizations
// the arguments ask for; what a build can read, bounded without building),
// engine.go (builds in BFS order, per-Kustomization
// state, output order), runner.go (a cluster's clients and bounded
// dry-runs), dryrun.go (one object's dry-run under Flux's rules),
// deletions.go (pruned inventory entries), owners.go (other field managers
// whose fields a change sets), build.go (the Flux build),
// objects.go (YAML for the diff, masking), live.go and precheck.go (LIST-backed live objects and the local
// unchanged check), render.go and unified.go (output), danger.go (the
// danger flags of a plan, shared with promote's blast radius), images.go
// (the images summary; setDiff notes images and selectors per object),
// lintrender.go (flags and images in text and markdown), html.go (-o html),
// publish.go (the sticky pull request comment and the c5c3/diff commit
// status, through internal/forge).
//
// ResourceSets: resourceset.go (each ResourceSet of a hub build expanded by
// package resourceset with its providers from the live hub, the generated
// objects dry-run as the Flux Operator applies them, its inventory's
// deletions, dependsOn).
//
// HelmReleases: helm.go (dispatch and render of each HelmRelease of a
// build; its chart source comes from helmrender.ResolveSource),
// helmobjects.go (the rendered objects' dry-runs and the release's
// deletions), helmvalues.go (valuesFrom as the run's builds will leave
// them), helmhome.go (the cluster a HelmRelease lives on), hubchart.go.
//
// Pull requests: base.go (--base: both sides built before the engine
// runs, what differs is diffed, the rest listed unchanged), hubskip.go
// (which unchanged hub Kustomizations may be left unbuilt), basepure.go
// (whether a changed spoke Kustomization's build differs, decided from its
// changed files without building the base), treebuild.go (a Builder over a
// commit's tree read with go-git, through sourceview.NewFSLike), offline.go (--no-live: base and head compared with
// each other, no cluster contacted), offlinecompare.go (the comparison of
// one side's objects with the other's, Secrets masked), offlinehelm.go
// (--no-live: each changed HelmRelease rendered on both sides through
// helmrender, nothing read from a cluster), render_scope.go (their report
// lines).
//
// rbac diff: checkout.go (CheckoutObjects: the checkout's working tree
// built as Run builds it and its HelmReleases rendered as offlinehelm.go
// does, with what no build holds read from the live hub; no target is
// contacted), which package rbac turns into rights.
//
// It takes typed Options, returns a typed Result and never imports cobra.
package diff
