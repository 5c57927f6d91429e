// Package pipeline is the model of a c5c3-gitops repository's promotion
// pipeline, shared by promote and versions:
//
//   - config.go: c5c3.yaml — the environments in order, the paths of each,
//     their hub (kubeconfig context) and Kustomizations, the soak minimum
//     (Config, Environment, ParseConfig).
//   - scan.go: the pins of an environment's files — HelmRelease chart
//     versions, source refs, kustomize image tags, the FluxInstance version
//     and values marked with a `# {"$c5c3": "<key>"}` setter comment (Scan,
//     Pin).
//   - splice.go: a new value spliced into a file byte for byte, only the
//     scalar token changing (ApplyEdits).
//   - select.go: the hub Kustomizations that deploy an environment
//     (SelectKustomizations).
//
// It reads files and a discovered fleet; it never writes to git or a
// cluster.
package pipeline
