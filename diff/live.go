package diff

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/keyed"
)

// liveClient serves GETs of unstructured objects from one LIST per kind and
// namespace, made on first use and shared by all workers of a cluster.
// ssa's Diff then costs a single dry-run PATCH per object instead of a GET
// plus a PATCH. Everything else goes to the server.
//
// With a service account (as, "namespace/name") the client impersonates
// it, as Flux does for spec.serviceAccountName: a refused LIST falls back to
// a GET per object (Flux needs only get and patch), and a refused request
// names the service account.
type liveClient struct {
	client.Client
	as    string
	lists keyed.Once[listKey, map[string]*unstructured.Unstructured]
	mu    sync.Mutex
	// holds counts, by LIST, the Kustomizations being diffed that hold it.
	holds map[listKey]int
}

type listKey struct {
	gvk schema.GroupVersionKind
	ns  string
}

// listKeys are the LISTs the objects of one build are read from.
func listKeys(objects []*unstructured.Unstructured) []listKey {
	seen := map[listKey]bool{}
	var keys []listKey
	for _, o := range objects {
		k := listKey{o.GroupVersionKind(), o.GetNamespace()}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// hold marks the LISTs of keys as in use by a Kustomization being diffed,
// until release.
func (c *liveClient) hold(keys []listKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.holds[k]++
	}
}

// release ends a hold and forgets the LISTs no Kustomization holds any
// more, so that a fleet's live objects are not all in memory at once (a
// LIST per spoke namespace of 100 spokes: the largest part of diff's heap
// at 20,000 objects). A later lookup lists again.
func (c *liveClient) release(keys []listKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		n, held := c.holds[k]
		if !held {
			continue
		}
		if n <= 1 {
			delete(c.holds, k)
			c.lists.Forget(k)
		} else {
			c.holds[k] = n - 1
		}
	}
}

func newLiveClient(c client.Client, serviceAccount string) *liveClient {
	return &liveClient{Client: c, as: serviceAccount, holds: map[listKey]int{}}
}

// refused names the impersonated service account in a Forbidden error.
func (c *liveClient) refused(err error) error {
	if c.as == "" || !apierrors.IsForbidden(err) {
		return err
	}
	return fmt.Errorf("as ServiceAccount %s (spec.serviceAccountName): %w", c.as, err)
}

// Patch implements client.Writer, naming the service account when refused.
func (c *liveClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	return c.refused(c.Client.Patch(ctx, obj, patch, opts...))
}

// Get implements client.Reader from the cached LIST.
func (c *liveClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return c.Client.Get(ctx, key, obj, opts...)
	}
	gvk := u.GroupVersionKind()
	items, err := c.list(ctx, gvk, key.Namespace)
	if err != nil && c.as != "" && apierrors.IsForbidden(err) {
		return c.refused(c.Client.Get(ctx, key, obj, opts...))
	}
	if err != nil {
		return err
	}
	live, ok := items[key.Name]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, key.Name)
	}
	live.DeepCopyInto(u)
	return nil
}

// Lookup returns the live object, or nil when it does not exist. The
// object is the cached one, shared by every caller (not a copy, unlike Get):
// it must not be modified.
func (c *liveClient) Lookup(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, error) {
	items, err := c.list(ctx, gvk, ns)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return items[name], nil
}

// list returns the objects of the LIST of gvk in ns by name, listed once
// (until no Kustomization holds it).
func (c *liveClient) list(ctx context.Context, gvk schema.GroupVersionKind, ns string) (map[string]*unstructured.Unstructured, error) {
	return c.lists.Do(listKey{gvk, ns}, func() (map[string]*unstructured.Unstructured, error) {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		var opts []client.ListOption
		if ns != "" {
			opts = append(opts, client.InNamespace(ns))
		}
		if err := c.Client.List(ctx, list, opts...); err != nil {
			return nil, err
		}
		items := make(map[string]*unstructured.Unstructured, len(list.Items))
		for i := range list.Items {
			it := &list.Items[i]
			if ns == "" && it.GetNamespace() != "" {
				continue // cluster-scoped lookups only
			}
			items[it.GetName()] = it
		}
		return items, nil
	})
}
