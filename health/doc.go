// Package health is the one model of a Flux Kustomization's or
// HelmRelease's health. Evaluate reads an object once — its Ready
// condition (status, reason, message, observed generation), whether it is
// suspended, the revision it applied against its source's, whether that is
// stale, the dependsOn it waits for, since when it runs Ready at its
// revision, and the problems a promotion gate sees — and status, trace and
// promote's gates map over the result.
//
// It reads typed objects only: no client, no cluster.
package health
