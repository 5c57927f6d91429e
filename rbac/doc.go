// Package rbac is the engine behind `kubectl c5c3 rbac diff`: the
// least-privilege RBAC a CI identity needs to run `kubectl c5c3 diff`,
// worked out from what the hub's fleet names.
//
// On the hub (Hub, hub.go): read access to the Flux objects and sources
// (cluster-wide), `get` on exactly the Secrets and ConfigMaps the fleet
// names (spokes' kubeconfigs, postBuild.substituteFrom, valuesFrom, the
// credentials of the HelmReleases' chart sources), `get` on the
// services/proxy of source-controller the HelmCharts' artifacts are served
// by, and — for the Kustomizations and HelmReleases applied to the hub
// itself — `get`, `list` and `patch` (the server-side dry-run) on the
// kinds of their inventories, `impersonate` on their
// spec.serviceAccountName. On a spoke (Spoke, spoke.go): what the
// kubeconfig user needs there for the dry-runs and reads, as one
// ClusterRole. Rules are sorted so the output is stable.
//
// It takes a discovered fleet and returns typed RBAC objects; it never
// imports cobra.
package rbac
