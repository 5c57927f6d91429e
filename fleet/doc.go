// Package fleet discovers a Flux fleet from its hub: every Kustomization and
// HelmRelease, grouped by the cluster it deploys to. An object without
// spec.kubeConfig targets the hub; one with spec.kubeConfig.secretRef
// targets the spoke whose kubeconfig that Secret holds; one with
// spec.kubeConfig.configMapRef the spoke that ConfigMap describes
// (workload identity: a token from the hub or the cloud). Discovery makes one
// LIST per kind, never a GET per object, and reaches spokes concurrently
// through clients built from the hub's Secrets (cached per Secret).
//
// Files: object.go (Object and its accessors), cluster.go (Cluster,
// KubeConfigRef), fleet.go (Discover, TargetOf), sources.go (the sources
// objects refer to and their revisions), revision.go (CommitOf), probe.go,
// clients.go (the spoke client cache and its Dialer seam: SecretDialer by
// default, a fake in engine tests — see internal/fakefleet), secret.go,
// configmap.go (the workload-identity ConfigMap).
//
// status, diff and promote all start from a Fleet.
package fleet
