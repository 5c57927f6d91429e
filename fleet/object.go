package fleet

import (
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kinds of Flux objects the fleet is made of.
const (
	KindKustomization = "Kustomization"
	KindHelmRelease   = "HelmRelease"
)

// Object is one Flux Kustomization or HelmRelease in the hub.
type Object struct {
	Kind          string
	Kustomization *kustomizev1.Kustomization
	HelmRelease   *helmv2.HelmRelease
}

// Meta returns the object's metadata.
func (o Object) Meta() metav1.Object {
	if o.Kustomization != nil {
		return o.Kustomization
	}
	return o.HelmRelease
}

// Controller is the service account of the Flux controller that applies
// o: helm-controller for a HelmRelease, else kustomize-controller.
func (o Object) Controller() string {
	if o.Kind == KindHelmRelease {
		return HelmControllerServiceAccount
	}
	return KustomizeControllerServiceAccount
}

// ID is "Kind/namespace/name".
func (o Object) ID() string {
	m := o.Meta()
	return o.Kind + "/" + m.GetNamespace() + "/" + m.GetName()
}

// KubeConfig returns spec.kubeConfig, or nil for hub objects.
func (o Object) KubeConfig() *meta.KubeConfigReference {
	if o.Kustomization != nil {
		return o.Kustomization.Spec.KubeConfig
	}
	return o.HelmRelease.Spec.KubeConfig
}

// ServiceAccountName returns spec.serviceAccountName.
func (o Object) ServiceAccountName() string {
	if o.Kustomization != nil {
		return o.Kustomization.Spec.ServiceAccountName
	}
	return o.HelmRelease.Spec.ServiceAccountName
}

// Inventory returns the IDs of status.inventory (cli-utils ObjMetadata
// strings, "namespace_name_group_kind"): nil when the object has no
// inventory yet, empty when it is empty.
func (o Object) Inventory() []string {
	var entries []string
	switch {
	case o.Kustomization != nil && o.Kustomization.Status.Inventory != nil:
		entries = []string{}
		for _, e := range o.Kustomization.Status.Inventory.Entries {
			entries = append(entries, e.ID)
		}
	case o.HelmRelease != nil && o.HelmRelease.Status.Inventory != nil:
		entries = []string{}
		for _, e := range o.HelmRelease.Status.Inventory.Entries {
			entries = append(entries, e.ID)
		}
	}
	return entries
}

// Conditions returns status.conditions.
func (o Object) Conditions() []metav1.Condition {
	if o.Kustomization != nil {
		return o.Kustomization.Status.Conditions
	}
	return o.HelmRelease.Status.Conditions
}

// ID is "namespace/name", how Flux CLIs name an object within its kind.
func ID(m metav1.Object) string { return m.GetNamespace() + "/" + m.GetName() }
