// Package status computes the health of a Flux fleet — the hub's
// FluxReport, every target cluster's reachability, and every Kustomization
// and HelmRelease per cluster — as a Report with a stable JSON schema, and
// renders it as a tree or a table. It takes typed inputs (a discovered
// fleet.Fleet) and never imports cobra.
package status
