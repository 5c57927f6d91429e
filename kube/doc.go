// Package kube is the one client factory of the plugin. It turns a REST
// config, the kubeconfig bytes of a spoke read from a hub Secret, or a
// workload-identity ConfigMap (workloadidentity.go: a token through
// fluxcd/pkg/auth, renewed before it expires) into a Client bundling a controller-runtime client, a lazy RESTMapper and a
// discovery client with raised QPS/Burst. Clients are built lazily by the
// commands' Complete step, so --help never touches a cluster.
package kube
