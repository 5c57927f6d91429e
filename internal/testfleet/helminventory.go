package testfleet

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ReleaseInventory is the status.inventory helm-controller records for
// the deployed release r after an install or upgrade (its
// internal/inventory, written here on the Helm SDK and cli-utils): the
// objects of the release manifest but hooks, namespaced ones without a
// namespace in the release namespace, then the chart's crds/.
func (f *Fleet) ReleaseInventory(r Release) (*helmv2.ResourceInventory, error) {
	cfg, err := f.actionConfig(r)
	if err != nil {
		return nil, err
	}
	last, err := cfg.Releases.Deployed(r.Name)
	if err != nil {
		return nil, fmt.Errorf("release %s/%s on %s: %w", r.StorageNamespace, r.Name, r.Target.Name, err)
	}
	rel, ok := last.(*helmrelease.Release)
	if !ok {
		return nil, fmt.Errorf("release %s/%s on %s: not a chart API v2 release", r.StorageNamespace, r.Name, r.Target.Name)
	}
	objs, err := ssautil.ReadObjects(strings.NewReader(rel.Manifest))
	if err != nil {
		return nil, fmt.Errorf("manifest of release %s: %w", r.Name, err)
	}
	inv := &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{}}
	add := func(o *unstructured.Unstructured) {
		inv.Entries = append(inv.Entries, helmv2.ResourceRef{ID: object.UnstructuredToObjMetadata(o).String(), Version: o.GroupVersionKind().Version})
	}
	for _, o := range objs {
		if _, hook := o.GetAnnotations()[helmrelease.HookAnnotation]; hook {
			continue
		}
		if o.GetNamespace() == "" {
			m, err := r.Target.Client.RESTMapper().RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
			if err != nil {
				return nil, fmt.Errorf("release %s: %w", r.Name, err)
			}
			if m.Scope.Name() == meta.RESTScopeNameNamespace {
				o.SetNamespace(rel.Namespace)
			}
		}
		add(o)
	}
	for _, crd := range r.Chart.CRDObjects() {
		crds, err := ssautil.ReadObjects(bytes.NewReader(crd.File.Data))
		if err != nil {
			return nil, fmt.Errorf("chart CRD %s: %w", crd.Name, err)
		}
		for _, o := range crds {
			add(o)
		}
	}
	return inv, nil
}
