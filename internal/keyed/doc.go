// Package keyed computes a value once per key for concurrent callers: the
// per-source chart load, the per-cluster probe, the per-kubeconfig spoke
// client, the per-kind-and-namespace LIST.
package keyed
