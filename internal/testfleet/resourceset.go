package testfleet

import (
	"context"
	"fmt"
	"hash/adler32"
	"maps"
	"strconv"

	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The Flux Operator's ResourceSet kinds and the ownership labels it sets on
// what a ResourceSet applies, as its documentation and live clusters show
// them. Written out here, not taken from the plugin's resourceset package,
// so that the fleet's state is not made by the code under test.
var (
	resourceSetGVK = schema.GroupVersionKind{Group: "fluxcd.controlplane.io", Version: "v1", Kind: "ResourceSet"}
	providerGVK    = schema.GroupVersionKind{Group: "fluxcd.controlplane.io", Version: "v1", Kind: "ResourceSetInputProvider"}
)

const operatorFieldManager = "flux-operator"

// WriteStaticProviderStatus writes the status the Flux Operator gives a
// ResourceSetInputProvider of type Static in the sample's namespace: one
// exported input set, its spec.defaultValues plus id, the Adler-32
// checksum of the provider's UID; Ready.
func (s *Sample) WriteStaticProviderStatus(ctx context.Context, name string) error {
	p := &unstructured.Unstructured{}
	p.SetGroupVersionKind(providerGVK)
	if err := s.Fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, p); err != nil {
		return fmt.Errorf("ResourceSetInputProvider %s/%s: %w", s.Namespace, name, err)
	}
	defaults, _, _ := unstructured.NestedMap(p.Object, "spec", "defaultValues")
	set := maps.Clone(defaults)
	if set == nil {
		set = map[string]any{}
	}
	set["id"] = strconv.FormatUint(uint64(adler32.Checksum([]byte(p.GetUID()))), 10)
	return s.writeProviderStatus(ctx, p, []any{set})
}

// WriteProviderStatus writes exported input sets on a provider, as the Flux
// Operator does after fetching them (any type).
func (s *Sample) WriteProviderStatus(ctx context.Context, name string, exported ...map[string]any) error {
	p := &unstructured.Unstructured{}
	p.SetGroupVersionKind(providerGVK)
	if err := s.Fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, p); err != nil {
		return fmt.Errorf("ResourceSetInputProvider %s/%s: %w", s.Namespace, name, err)
	}
	sets := make([]any, 0, len(exported))
	for _, e := range exported {
		sets = append(sets, e)
	}
	return s.writeProviderStatus(ctx, p, sets)
}

func (s *Sample) writeProviderStatus(ctx context.Context, p *unstructured.Unstructured, sets []any) error {
	p.Object["status"] = map[string]any{
		"exportedInputs": sets,
		"conditions":     []any{readyCondition(p.GetGeneration(), "Reconciliation finished in 12ms")},
	}
	return s.Fleet.Hub.Client.Status().Update(ctx, p)
}

func readyCondition(generation int64, msg string) map[string]any {
	return map[string]any{
		"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded", "message": msg,
		"lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": generation,
	}
}

// ApplyAsResourceSet applies objects to the hub as the Flux Operator applies
// what ResourceSet rsName (in the sample's namespace) generates: server-side
// apply, field manager flux-operator, its two ownership labels; then it
// records them in the ResourceSet's status.inventory with a Ready
// condition. The objects are the test's, written by hand.
func (s *Sample) ApplyAsResourceSet(ctx context.Context, rsName string, objs ...*unstructured.Unstructured) error {
	hub := s.Fleet.Hub.Client
	rm := ssa.NewResourceManager(hub, nil, ssa.Owner{Field: operatorFieldManager, Group: "fluxcd.controlplane.io"})
	entries := []any{}
	for _, o := range objs {
		o = o.DeepCopy()
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l["resourceset.fluxcd.controlplane.io/name"] = rsName
		l["resourceset.fluxcd.controlplane.io/namespace"] = s.Namespace
		o.SetLabels(l)
		if _, err := rm.Apply(ctx, o, ssa.DefaultApplyOptions()); err != nil {
			return fmt.Errorf("applying %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		gvk := o.GroupVersionKind()
		entries = append(entries, map[string]any{
			"id": o.GetNamespace() + "_" + o.GetName() + "_" + gvk.Group + "_" + gvk.Kind,
			"v":  gvk.Version,
		})
	}
	rs := &unstructured.Unstructured{}
	rs.SetGroupVersionKind(resourceSetGVK)
	if err := hub.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: rsName}, rs); err != nil {
		return fmt.Errorf("ResourceSet %s/%s: %w", s.Namespace, rsName, err)
	}
	rs.Object["status"] = map[string]any{
		"conditions": []any{readyCondition(rs.GetGeneration(), "Reconciliation finished in 52ms")},
		"inventory":  map[string]any{"entries": entries},
	}
	return hub.Status().Update(ctx, rs)
}
