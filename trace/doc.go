// Package trace is the engine behind `kubectl c5c3 trace`: from one object
// on any fleet cluster — the hub or a spoke reached through its kubeconfig
// Secret — it walks back to what put it there. The object's Flux owner
// labels (kustomize.toolkit.fluxcd.io/name|namespace,
// helm.toolkit.fluxcd.io/name|namespace) name the hub Kustomization or
// HelmRelease that applies it (one whose spec.kubeConfig reaches that
// cluster, or none for the hub); that applier's source and revision come
// next, then the Kustomization that applied the applier (a Kustomization
// is labelled by its parent too), up to the root: the sync named in the
// Flux Operator's FluxReport. Each step is judged as `kubectl c5c3 status`
// judges it (Ready, suspended, applied versus source revision) and says
// whether the step below it is in its inventory. An object without labels
// is looked up in the inventories of the appliers targeting its cluster,
// which also gives the chain when the cluster cannot be reached. With
// diff options, the object is compared with git through the diff engine.
//
// An applier (or the object) that a Flux Operator ResourceSet generated
// carries its ownership labels instead (resourceset.fluxcd.controlplane.io/
// name|namespace): the chain goes through the ResourceSet (judged by
// package health, with its providers and their exported inputs) to the
// Kustomization that applied it.
//
// Files: types.go (Trace, the JSON schema), trace.go (Run: object, chain,
// drift, summary), resourceset.go (the ResourceSet step), render.go (the
// tree).
//
// It takes typed Options, returns a typed Trace and never imports cobra.
package trace
