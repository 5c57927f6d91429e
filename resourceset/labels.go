package resourceset

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// The labels the operator sets on every object a ResourceSet applies (it
// sets no ownerReference: the link is these labels plus the ResourceSet's
// status.inventory).
const (
	NameLabel      = "resourceset.fluxcd.controlplane.io/name"
	NamespaceLabel = "resourceset.fluxcd.controlplane.io/namespace"
)

// Annotations the operator reads on generated objects.
const (
	// ReconcileAnnotation set to "disabled" on a generated object leaves
	// it out of the apply.
	ReconcileAnnotation = "fluxcd.controlplane.io/reconcile"
	// PruneAnnotation set to "disabled" keeps the object out of garbage
	// collection.
	PruneAnnotation = "fluxcd.controlplane.io/prune"
)

// Group, Version and the kinds of the Flux Operator's ResourceSet API.
const (
	Group        = "fluxcd.controlplane.io"
	APIVersion   = Group + "/v1"
	Kind         = "ResourceSet"
	ProviderKind = "ResourceSetInputProvider"
)

// Owner returns the namespace and name of the ResourceSet that applied
// obj, from its ownership labels; ok is false when it has none.
func Owner(obj *unstructured.Unstructured) (namespace, name string, ok bool) {
	l := obj.GetLabels()
	name, namespace = l[NameLabel], l[NamespaceLabel]
	return namespace, name, name != "" && namespace != ""
}

// IsResourceSet reports whether obj is a ResourceSet.
func IsResourceSet(obj *unstructured.Unstructured) bool {
	return obj.GetKind() == Kind && obj.GroupVersionKind().Group == Group
}
