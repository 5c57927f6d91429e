// Package versions is the engine behind `kubectl c5c3 versions`: a matrix
// of components × environments that shows, for every pin promote knows
// (HelmRelease chart versions, OCIRepository/GitRepository refs, HelmChart
// versions, kustomize image tags, FluxInstance distribution versions and
// setter values), the value pinned in git for each environment of
// c5c3.yaml, the value its hub reports as applied, and — for images — the
// tags running in the workloads of the applier's inventory on the cluster it
// targets.
//
// The files map as follows:
//
//   - types.go holds Options and the Matrix (the documented JSON schema);
//   - build.go reads the checkout (c5c3.yaml and each environment's pins at
//     one commit, with promote's scanner) and each environment's hub (its
//     Kustomizations, chosen like promote's health gate, and the
//     Kustomizations their inventories list), and fills the matrix;
//   - applied.go reads what is applied: the status of the Flux objects an
//     applier's inventory lists (as unstructured data: the Flux Operator's
//     FluxInstance is never a Go type here), the pins at the commit a
//     Kustomization applied, and the images of the inventory's workloads;
//   - match.go compares versions (semver ranges, a leading "v") and splits
//     Flux revisions and image references;
//   - render.go prints the table and markdown forms.
//
// Skew is reported where git and the hub disagree (git≠applied), where the
// running image is not the applied one (applied≠running), and where a later
// environment of the pipeline pins a value the environment before it neither
// pins, nor has applied, nor ever pinned in its history (pipeline). It takes
// typed Options, returns a typed Matrix and never imports cobra.
package versions
