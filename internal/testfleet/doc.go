// Package testfleet starts a real fleet for tests and the demo: a hub and
// three spokes (control-plane, hypervisor, storage), each its own
// kube-apiserver + etcd (controller-runtime envtest). The hub gets the Flux
// and Flux Operator CRDs from the Flux modules in the Go module cache and
// one kubeconfig Secret per spoke; a hub kubeconfig file is written for the
// CLI under test.
//
// LoadSample puts the sample gitops repo (testdata/gitops) into the fleet as
// Flux would: hub Kustomizations, server-side apply of every path into its
// target cluster with field manager kustomize-controller, and the status a
// real controller writes (Ready, lastAppliedRevision, inventory). The state
// helpers then make objects failing, suspended, stale or unreachable.
//
// LoadSampleWithController instead leaves the reconciling to the real Flux
// kustomize-controller (built by `make flux-bins`), serving the sample as a
// source artifact on 127.0.0.1; Publish ships a new revision of it.
//
// Tests share one fleet per package (Run in TestMain, Get in each test) and
// keep out of each other's way by loading the sample into their own hub
// namespace. Without the apiserver binaries Get fails the test; only under
// `go test -short` does it skip.
package testfleet
