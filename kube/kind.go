package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
)

// ErrUnknownKind is wrapped by ResourceMapping when the cluster serves no
// such resource type or kind.
var ErrUnknownKind = errors.New("unknown resource type")

// ResourceMapping resolves a resource type as `kubectl get TYPE` does: a
// resource name, plural or singular (deployments, deployment), a short name
// (deploy), with group and version (deployments.apps,
// deployments.v1.apps), or a kind (Deployment, Deployment.apps). Short
// names come from the cluster's discovery, read once per call.
func (c *Client) ResourceMapping(ctx context.Context, typ string) (*meta.RESTMapping, error) {
	dc := discovery.ToDiscoveryInterfaceWithContext(c.Discovery)
	mapper := restmapper.NewShortcutExpanderWithContext(
		restmapper.NewDeferredDiscoveryRESTMapperWithContext(memory.NewMemCacheClientWithContext(dc)), dc, nil)

	// The order of kubectl's resource builder (mappingFor): a resource
	// first, then a kind.
	gvr, gr := schema.ParseResourceArg(typ)
	var gvk schema.GroupVersionKind
	if gvr != nil {
		gvk, _ = mapper.KindForWithContext(ctx, *gvr)
	}
	if gvk.Empty() {
		gvk, _ = mapper.KindForWithContext(ctx, gr.WithVersion(""))
	}
	if !gvk.Empty() {
		return mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	}
	full, gk := schema.ParseKindArg(typ)
	if full != nil {
		if m, err := mapper.RESTMappingWithContext(ctx, full.GroupKind(), full.Version); err == nil {
			return m, nil
		}
	}
	m, err := mapper.RESTMappingWithContext(ctx, gk)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, fmt.Errorf("%w %q", ErrUnknownKind, typ)
		}
		return nil, err
	}
	return m, nil
}

// ResourceTypes lists the resource types the cluster serves that can be
// read with get, named as `kubectl api-resources -o name` names them
// (deployments.apps, pods), sorted.
func (c *Client) ResourceTypes(ctx context.Context) ([]string, error) {
	lists, err := discovery.ToDiscoveryInterfaceWithContext(c.Discovery).ServerPreferredResourcesWithContext(ctx)
	if err != nil && len(lists) == 0 {
		return nil, err
	}
	var out []string
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !hasVerb(r.Verbs, "get") {
				continue
			}
			name := r.Name
			if gv.Group != "" {
				name += "." + gv.Group
			}
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func hasVerb(verbs []string, want string) bool {
	for _, v := range verbs {
		if v == want {
			return true
		}
	}
	return false
}
