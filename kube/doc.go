// Package kube is the one client factory of the plugin. It turns a REST
// config, or the kubeconfig bytes of a spoke read from a hub Secret, into a
// Client bundling a controller-runtime client, a lazy RESTMapper and a
// discovery client with raised QPS/Burst. Clients are built lazily by the
// commands' Complete step, so --help never touches a cluster.
package kube
