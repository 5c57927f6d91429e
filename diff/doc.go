// Package diff is the engine behind `kubectl c5c3 diff`: it builds every
// Flux Kustomization path of a local gitops checkout exactly as
// kustomize-controller would (fluxcd/pkg/kustomize), and compares the result
// with the live target cluster — the hub or a remote spoke reached through
// its kubeconfig Secret — by server-side-apply dry-run
// (fluxcd/pkg/ssa ResourceManager.Diff, field owner kustomize-controller).
//
// Live objects are fetched with one LIST per kind and namespace, so each
// object costs a single dry-run PATCH. Nested Kustomizations found in a
// build are diffed themselves, against their own target cluster. Secret
// values never leave this package unmasked.
//
// It takes typed Options, returns a typed Result and never imports cobra.
package diff
