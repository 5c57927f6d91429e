package fleet

import (
	"context"
	"fmt"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/kube"
)

// SourceKinds the plugin reads artifact revisions from.
var sourceKinds = []string{"GitRepository", "OCIRepository", "Bucket", "HelmChart", "ExternalArtifact"}

// FluxReportGVK is the Flux Operator's FluxReport. Its objects are read and
// written as unstructured data: the operator's (AGPL) Go packages are never
// imported.
var FluxReportGVK = schema.GroupVersionKind{Group: "fluxcd.controlplane.io", Version: "v1", Kind: "FluxReport"}

// SourceGroupVersion is the API version of Flux sources.
var SourceGroupVersion = schema.GroupVersion{Group: "source.toolkit.fluxcd.io", Version: "v1"}

// listSources lists, once per kind, the source kinds that objects refer to.
func (f *Fleet) listSources(ctx context.Context, listOpts []client.ListOption) error {
	wanted := map[string]bool{}
	for _, c := range f.Clusters {
		for _, o := range c.Objects {
			if ref := SourceOf(o); !ref.IsZero() {
				wanted[ref.Kind] = true
			}
		}
	}
	for _, kind := range sourceKinds {
		if !wanted[kind] {
			continue
		}
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(SourceGroupVersion.WithKind(kind + "List"))
		// Sources may live in other namespaces than the objects: list all
		// namespaces unless discovery is scoped.
		if err := f.hub.Client.List(ctx, list, listOpts...); err != nil {
			if kube.IsNoMatch(err) {
				continue
			}
			return fmt.Errorf("listing Flux %s sources on the hub: %w", kind, err)
		}
		for i := range list.Items {
			s := &list.Items[i]
			f.Sources[kind+"/"+s.GetNamespace()+"/"+s.GetName()] = s
		}
	}
	return nil
}

// SourceRef names a Flux source in the hub.
type SourceRef struct {
	Kind      string
	Namespace string
	Name      string
}

// String is "Kind/namespace/name", the key of Fleet.Sources.
func (r SourceRef) String() string { return r.Kind + "/" + r.Namespace + "/" + r.Name }

// IsZero reports whether no source is named.
func (r SourceRef) IsZero() bool { return r.Kind == "" }

// KustomizationSource returns a Kustomization's spec.sourceRef, with the
// namespace defaulted to the Kustomization's.
func KustomizationSource(ks *kustomizev1.Kustomization) SourceRef {
	ns := ks.Spec.SourceRef.Namespace
	if ns == "" {
		ns = ks.Namespace
	}
	return SourceRef{Kind: ks.Spec.SourceRef.Kind, Namespace: ns, Name: ks.Spec.SourceRef.Name}
}

// SourceOf returns the source an object's revision comes from: a
// Kustomization's sourceRef, a HelmRelease's chartRef or the HelmChart
// helm-controller made for it; zero when unknown.
func SourceOf(o Object) SourceRef {
	if ks := o.Kustomization; ks != nil {
		return KustomizationSource(ks)
	}
	hr := o.HelmRelease
	if hr.Spec.ChartRef != nil {
		ns := hr.Spec.ChartRef.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		return SourceRef{Kind: hr.Spec.ChartRef.Kind, Namespace: ns, Name: hr.Spec.ChartRef.Name}
	}
	if hr.Status.HelmChart != "" {
		ns, name, ok := strings.Cut(hr.Status.HelmChart, "/")
		if ok {
			return SourceRef{Kind: "HelmChart", Namespace: ns, Name: name}
		}
	}
	return SourceRef{}
}

// SourceRevision returns the artifact revision of an object's source, or ""
// when the source is unknown or has no artifact yet.
func (f *Fleet) SourceRevision(o Object) string {
	s := f.Sources[SourceOf(o).String()]
	if s == nil {
		return ""
	}
	rev, _, _ := unstructured.NestedString(s.Object, "status", "artifact", "revision")
	return rev
}
