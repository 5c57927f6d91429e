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
// ClusterRole.
//
// With Options.Checkout (checkout.go: the working tree of the checkout,
// built and rendered by diff.CheckoutObjects, the diff engine's own
// builds), the kinds, namespaces and named objects a change brings are
// granted too — the dry-run with create, as its objects may not exist
// yet — so the rights fit the pull request's check, not only the fleet as
// reconciled. A namespace that does not exist gets no Role. Rules are
// sorted so the output is stable.
//
// It takes a discovered fleet and returns typed RBAC objects; it never
// imports cobra.
package rbac
