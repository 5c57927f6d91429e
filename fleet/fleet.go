package fleet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/kube"
)

// Kinds of Flux objects the fleet is made of.
const (
	KindKustomization = "Kustomization"
	KindHelmRelease   = "HelmRelease"
)

// Options configure discovery.
type Options struct {
	// Namespace limits discovery to one hub namespace; "" means all.
	Namespace string
	// HubName is the name given to the hub cluster (default "management").
	HubName string
	// Spoke says how spoke clients are built from kubeconfig Secrets.
	Spoke kube.SpokeOptions
}

// KubeConfigRef says where a spoke's kubeconfig lives in the hub.
type KubeConfigRef struct {
	// Namespace of the Secret (the Flux object's namespace).
	Namespace string `json:"namespace"`
	// SecretName names the kubeconfig Secret; empty for configMapRef.
	SecretName string `json:"secretName,omitempty"`
	// Key is the Secret key from spec.kubeConfig.secretRef.key; empty means
	// Flux's default: "value", else "value.yaml".
	Key string `json:"key,omitempty"`
	// ConfigMapName is set for workload-identity kubeconfigs
	// (spec.kubeConfig.configMapRef), which the plugin does not support yet.
	ConfigMapName string `json:"configMapName,omitempty"`
}

// clusterName is the name of the cluster a kubeconfig reaches: the Secret
// (or ConfigMap) name without "-kubeconfig".
func (r KubeConfigRef) clusterName() string {
	return strings.TrimSuffix(r.SecretName+r.ConfigMapName, "-kubeconfig")
}

// qualifiedName is clusterName with the namespace, "name (ns)", for when
// Secrets of the same name in several namespaces reach different clusters.
func (r KubeConfigRef) qualifiedName() string { return r.clusterName() + " (" + r.Namespace + ")" }

// String is "Secret/ns/name" (with "[key]" when a key is set).
func (r KubeConfigRef) String() string {
	if r.ConfigMapName != "" {
		return "ConfigMap/" + r.Namespace + "/" + r.ConfigMapName
	}
	s := "Secret/" + r.Namespace + "/" + r.SecretName
	if r.Key != "" {
		s += "[" + r.Key + "]"
	}
	return s
}

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

// Cluster is a target of Flux objects: the hub or a spoke.
type Cluster struct {
	// Name is the hub name, or the Secret name without "-kubeconfig".
	Name string
	// Hub is true for the hub itself.
	Hub bool
	// KubeConfig is where the spoke's kubeconfig lives; nil for the hub.
	KubeConfig *KubeConfigRef
	// Objects are the Flux objects deploying to this cluster, sorted by ID.
	Objects []Object
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
	clients map[string]*spokeClient
	extra   map[KubeConfigRef]*Cluster
}

type spokeClient struct {
	once   sync.Once
	client *kube.Client
	err    error
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

	f := &Fleet{hub: hub, opts: opts, clients: map[string]*spokeClient{}, Sources: map[string]*unstructured.Unstructured{}}
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

// ID is "namespace/name", how Flux CLIs name an object within its kind.
func ID(m metav1.Object) string { return m.GetNamespace() + "/" + m.GetName() }

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

// ProbeResult is what Probe learns about a cluster.
type ProbeResult struct {
	ServerVersion string
	Nodes         int
	Err           error
}

// Probe contacts every cluster concurrently (server version and a
// metadata-only node list) and returns the results by cluster name.
func (f *Fleet) Probe(ctx context.Context, clusters []*Cluster) map[string]ProbeResult {
	out := make(map[string]ProbeResult, len(clusters))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.probe(ctx, c)
			mu.Lock()
			out[c.Name] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (f *Fleet) probe(ctx context.Context, c *Cluster) ProbeResult {
	cl, err := f.Client(ctx, c, "")
	if err != nil {
		return ProbeResult{Err: err}
	}
	v, err := cl.Discovery.ServerVersion()
	if err != nil {
		return ProbeResult{Err: fmt.Errorf("cluster %s is unreachable: %w", c.Name, err)}
	}
	nodes := &metav1.PartialObjectMetadataList{}
	nodes.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "NodeList"})
	n := 0
	if err := cl.Client.List(ctx, nodes); err == nil {
		n = len(nodes.Items)
	} else {
		n = -1 // not allowed to list nodes: unknown
	}
	return ProbeResult{ServerVersion: v.GitVersion, Nodes: n}
}

// ErrUnsupportedKubeConfig is returned for spec.kubeConfig.configMapRef.
var ErrUnsupportedKubeConfig = errors.New("spec.kubeConfig.configMapRef (workload identity) is not supported yet")

// Client returns the client for a cluster, impersonating serviceAccount
// (namespace/name, may be empty) like Flux does. Spoke clients are built
// once per Secret and service account from the hub Secret's kubeconfig.
func (f *Fleet) Client(ctx context.Context, c *Cluster, serviceAccount string) (*kube.Client, error) {
	if c.Hub {
		return f.hub, nil
	}
	if serviceAccount != "" {
		serviceAccount = c.KubeConfig.Namespace + "/" + serviceAccount
	}
	return f.spokeClient(ctx, c, serviceAccount)
}

// spokeClient is the client of spoke c impersonating the service account
// impersonate ("namespace/name", may be empty), built once.
func (f *Fleet) spokeClient(ctx context.Context, c *Cluster, impersonate string) (*kube.Client, error) {
	ref := *c.KubeConfig
	if ref.ConfigMapName != "" {
		return nil, fmt.Errorf("cluster %s (%s): %w", c.Name, ref, ErrUnsupportedKubeConfig)
	}
	return f.cached(ref.String()+"|"+impersonate, func() (*kube.Client, error) {
		return f.buildSpokeClient(ctx, c, impersonate)
	})
}

// cached builds the client of key once and returns it (or its error) ever
// after.
func (f *Fleet) cached(key string, build func() (*kube.Client, error)) (*kube.Client, error) {
	f.mu.Lock()
	sc := f.clients[key]
	if sc == nil {
		sc = &spokeClient{}
		f.clients[key] = sc
	}
	f.mu.Unlock()
	sc.once.Do(func() { sc.client, sc.err = build() })
	return sc.client, sc.err
}

// ClientFor returns the client Flux uses for o on cluster c: impersonating
// o's spec.serviceAccountName in o's namespace, on a spoke (through its
// kubeconfig Secret) as on the hub; the plain cluster client without one.
// o's namespace is its kubeconfig Secret's for an object in the hub; a
// HelmRelease that lives on the spoke impersonates in its own namespace
// there.
func (f *Fleet) ClientFor(ctx context.Context, c *Cluster, o Object) (*kube.Client, error) {
	sa := o.ServiceAccountName()
	if sa == "" {
		return f.Client(ctx, c, "")
	}
	ns := o.Meta().GetNamespace()
	if !c.Hub {
		return f.spokeClient(ctx, c, ns+"/"+sa)
	}
	return f.cached("hub|"+ns+"/"+sa, func() (*kube.Client, error) { return f.hub.Impersonating(ns, sa) })
}

func (f *Fleet) buildSpokeClient(ctx context.Context, c *Cluster, impersonate string) (*kube.Client, error) {
	data, err := ReadKubeConfigSecret(ctx, f.hub.Client, *c.KubeConfig)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	opts := f.opts.Spoke
	if impersonate != "" {
		opts.Impersonate = impersonate
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultSpokeTimeout
	}
	cfg, err := kube.RESTConfigFromKubeconfig(data, opts)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %s: %w", c.Name, c.KubeConfig, err)
	}
	return kube.NewClient(cfg)
}

// DefaultSpokeTimeout bounds each spoke request when --request-timeout is
// not given, so that one dead spoke cannot hang the whole command.
const DefaultSpokeTimeout = 30 * time.Second

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
