package fleet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/keyed"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// Options configure discovery.
type Options struct {
	// Namespace limits discovery to one hub namespace; "" means all.
	Namespace string
	// HubName is the name given to the hub cluster (default "management").
	HubName string
	// Spoke says how spoke clients are built from kubeconfig Secrets.
	Spoke kube.SpokeOptions
	// Dialer builds spoke clients; nil dials the kubeconfig Secrets and
	// workload-identity ConfigMaps in the hub (SecretDialer with Spoke).
	Dialer Dialer
	// FluxNamespace is where the Flux controllers run (SecretDialer's).
	FluxNamespace string
}

// Fleet is what the hub knows about the fleet.
type Fleet struct {
	// Clusters: the hub first, then spokes by name.
	Clusters []*Cluster
	// Sources holds the Flux sources referenced by the objects, by
	// "Kind/namespace/name", read as unstructured.
	Sources map[string]*unstructured.Unstructured

	hub     *kube.Client
	opts    Options
	mu      sync.Mutex
	clients keyed.Once[string, *kube.Client]
	probes  keyed.Once[*kube.Client, ProbeResult]
	extra   map[KubeConfigRef]*Cluster
}

// ErrFluxNotInstalled is returned when the hub has no Flux CRDs.
var ErrFluxNotInstalled = errors.New("the Flux CRDs are not installed on the hub")

// Discover lists the hub's Kustomizations, HelmReleases and the sources they
// reference — one LIST per kind — and groups the objects by target cluster.
// It does not contact spokes; see Fleet.Client and Fleet.Probe.
func Discover(ctx context.Context, hub *kube.Client, opts Options) (*Fleet, error) {
	if opts.HubName == "" {
		opts.HubName = "management"
	}
	if opts.Dialer == nil {
		opts.Dialer = SecretDialer{Hub: hub.Client, Spoke: opts.Spoke, FluxNamespace: opts.FluxNamespace, shared: &sharedClients{}}
	}
	var listOpts []client.ListOption
	if opts.Namespace != "" {
		listOpts = append(listOpts, client.InNamespace(opts.Namespace))
	}
	var kss kustomizev1.KustomizationList
	if err := hub.Client.List(ctx, &kss, listOpts...); err != nil {
		if kube.IsNoMatch(err) {
			return nil, fmt.Errorf("%w (no kind Kustomization in %s): install Flux on the hub or point --kubeconfig/--context at the hub", ErrFluxNotInstalled, kustomizev1.GroupVersion)
		}
		return nil, fmt.Errorf("listing Flux Kustomizations on the hub: %w", err)
	}
	var hrs helmv2.HelmReleaseList
	if err := hub.Client.List(ctx, &hrs, listOpts...); err != nil && !kube.IsNoMatch(err) {
		return nil, fmt.Errorf("listing Flux HelmReleases on the hub: %w", err)
	}

	f := &Fleet{hub: hub, opts: opts, Sources: map[string]*unstructured.Unstructured{}}
	hubCluster := &Cluster{Name: opts.HubName, Hub: true}
	byRef := map[KubeConfigRef]*Cluster{}
	add := func(o Object) {
		kc := o.KubeConfig()
		if kc == nil || (kc.SecretRef == nil && kc.ConfigMapRef == nil) {
			hubCluster.Objects = append(hubCluster.Objects, o)
			return
		}
		ref := KubeConfigRef{Namespace: o.Meta().GetNamespace()}
		if kc.SecretRef != nil {
			ref.SecretName, ref.Key = kc.SecretRef.Name, kc.SecretRef.Key
		} else {
			ref.ConfigMapName = kc.ConfigMapRef.Name
		}
		c := byRef[ref]
		if c == nil {
			c = &Cluster{Name: ref.clusterName(), KubeConfig: &ref}
			byRef[ref] = c
		}
		c.Objects = append(c.Objects, o)
	}
	for i := range kss.Items {
		add(Object{Kind: KindKustomization, Kustomization: &kss.Items[i]})
	}
	for i := range hrs.Items {
		add(Object{Kind: KindHelmRelease, HelmRelease: &hrs.Items[i]})
	}

	f.Clusters = append(f.Clusters, hubCluster)
	spokes := make([]*Cluster, 0, len(byRef))
	for _, c := range byRef {
		if c.KubeConfig.ConfigMapName != "" && onlyHelmReleases(c.Objects) {
			c.Controller = HelmControllerServiceAccount
		}
		spokes = append(spokes, c)
	}
	sort.Slice(spokes, func(i, j int) bool {
		if spokes[i].Name != spokes[j].Name {
			return spokes[i].Name < spokes[j].Name
		}
		return spokes[i].KubeConfig.String() < spokes[j].KubeConfig.String()
	})
	// The same Secret name in two namespaces gives two clusters; tell them apart.
	count := map[string]int{opts.HubName: 1}
	for _, c := range spokes {
		count[c.Name]++
	}
	for _, c := range spokes {
		if count[c.Name] > 1 {
			c.Name = c.KubeConfig.qualifiedName()
		}
	}
	f.Clusters = append(f.Clusters, spokes...)
	for _, c := range f.Clusters {
		sort.Slice(c.Objects, func(i, j int) bool { return c.Objects[i].ID() < c.Objects[j].ID() })
	}

	if err := f.listSources(ctx, listOpts); err != nil {
		return nil, err
	}
	return f, nil
}

// onlyHelmReleases is true when every object is a HelmRelease: then
// helm-controller alone reaches their cluster.
func onlyHelmReleases(objs []Object) bool {
	for _, o := range objs {
		if o.Kind != KindHelmRelease {
			return false
		}
	}
	return len(objs) > 0
}

// Hub returns the hub client the fleet was discovered with.
func (f *Fleet) Hub() *kube.Client { return f.hub }

// Cluster returns the cluster with the given name, or nil.
func (f *Fleet) Cluster(name string) *Cluster {
	for _, c := range f.Clusters {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TargetOf returns the cluster an object in namespace with the given
// spec.kubeConfig deploys to: the hub when kubeConfig is nil, else the
// cluster of that Secret — one of f.Clusters when a live object already
// uses it, or a new cluster (not added to f.Clusters) for a Kustomization
// that exists only in git so far.
func (f *Fleet) TargetOf(namespace string, kc *meta.KubeConfigReference) *Cluster {
	if kc == nil || (kc.SecretRef == nil && kc.ConfigMapRef == nil) {
		return f.Clusters[0]
	}
	ref := KubeConfigRef{Namespace: namespace}
	if kc.SecretRef != nil {
		ref.SecretName, ref.Key = kc.SecretRef.Name, kc.SecretRef.Key
	} else {
		ref.ConfigMapName = kc.ConfigMapRef.Name
	}
	for _, c := range f.Clusters {
		if c.KubeConfig != nil && *c.KubeConfig == ref {
			return c
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.extra == nil {
		f.extra = map[KubeConfigRef]*Cluster{}
	}
	if c := f.extra[ref]; c != nil {
		return c
	}
	// Named like Discover names them: qualified with the namespace when the
	// plain name is already another cluster's.
	name := ref.clusterName()
	taken := name == f.opts.HubName
	for _, c := range f.Clusters {
		taken = taken || (c.KubeConfig != nil && c.KubeConfig.clusterName() == name)
	}
	for _, c := range f.extra {
		taken = taken || c.KubeConfig.clusterName() == name
	}
	if taken {
		name = ref.qualifiedName()
	}
	c := &Cluster{Name: name, KubeConfig: &ref}
	f.extra[ref] = c
	return c
}
