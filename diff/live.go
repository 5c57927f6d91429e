package diff

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
	mu    sync.Mutex
	lists map[listKey]*liveList
}

type listKey struct {
	gvk schema.GroupVersionKind
	ns  string
}

type liveList struct {
	once  sync.Once
	items map[string]*unstructured.Unstructured
	err   error
	// holds counts the Kustomizations being diffed that hold the list.
	holds int
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
		l := c.lists[k]
		if l == nil {
			l = &liveList{}
			c.lists[k] = l
		}
		l.holds++
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
		l := c.lists[k]
		if l == nil {
			continue
		}
		if l.holds--; l.holds <= 0 {
			delete(c.lists, k)
		}
	}
}

func newLiveClient(c client.Client, serviceAccount string) *liveClient {
	return &liveClient{Client: c, as: serviceAccount, lists: map[listKey]*liveList{}}
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
	l := c.list(ctx, gvk, key.Namespace)
	if l.err != nil && c.as != "" && apierrors.IsForbidden(l.err) {
		return c.refused(c.Client.Get(ctx, key, obj, opts...))
	}
	if l.err != nil {
		return l.err
	}
	live, ok := l.items[key.Name]
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
	l := c.list(ctx, gvk, ns)
	if apierrors.IsNotFound(l.err) {
		return nil, nil
	}
	if l.err != nil {
		return nil, l.err
	}
	return l.items[name], nil
}

func (c *liveClient) list(ctx context.Context, gvk schema.GroupVersionKind, ns string) *liveList {
	k := listKey{gvk, ns}
	c.mu.Lock()
	l := c.lists[k]
	if l == nil {
		l = &liveList{}
		c.lists[k] = l
	}
	c.mu.Unlock()
	l.once.Do(func() {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		var opts []client.ListOption
		if ns != "" {
			opts = append(opts, client.InNamespace(ns))
		}
		if err := c.Client.List(ctx, list, opts...); err != nil {
			l.err = err
			return
		}
		l.items = make(map[string]*unstructured.Unstructured, len(list.Items))
		for i := range list.Items {
			it := &list.Items[i]
			if ns == "" && it.GetNamespace() != "" {
				continue // cluster-scoped lookups only
			}
			l.items[it.GetName()] = it
		}
	})
	return l
}
