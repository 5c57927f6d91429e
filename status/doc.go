// Package status computes the health of a Flux fleet — the hub's
// FluxReport, every target cluster's reachability, and every Kustomization
// and HelmRelease per cluster — as a Report with a stable JSON schema, and
// renders it as a tree or a table. Each object's health is package
// health's verdict (build.go maps it). access.go adds the access checks
// (access_credentials.go: certificate, CA and JWT expiry of the kubeconfig
// Secrets; access_versions.go: version skew, the hub's Flux API versions;
// access_serviceaccount.go: service-account patch rights through
// impersonation); watch.go signals changes on the hub for `status --watch`.
// It takes typed inputs (a discovered fleet.Fleet) and never imports cobra.
package status
