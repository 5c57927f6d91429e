package fakefleet

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/metadata"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// Client is a cluster at Kubernetes gitVersion holding objs: a
// controller-runtime fake client (with the plugin's scheme and its
// RESTMapper), a fake discovery answering the version and serving
// Resources, and a REST config without credentials.
func Client(gitVersion string, objs ...client.Object) *kube.Client {
	c := fake.NewClientBuilder().WithScheme(kube.Scheme).WithObjects(objs...).Build()
	d := &fakediscovery.FakeDiscovery{Fake: &k8stesting.Fake{Resources: Resources}, FakedServerVersion: &version.Info{GitVersion: gitVersion}}
	return &kube.Client{Config: &rest.Config{Host: "https://fake"}, Client: c, Mapper: c.RESTMapper(), Discovery: d, Metadata: metadataOf(objs)}
}

// metadataOf is a fake metadata client holding the metadata of objs.
func metadataOf(objs []client.Object) metadata.Interface {
	s := runtime.NewScheme()
	metav1.AddMetaToScheme(s)
	var partial []runtime.Object
	for _, o := range objs {
		gvk, err := apiutil.GVKForObject(o, kube.Scheme)
		if err != nil {
			continue
		}
		m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: o.GetName(), Namespace: o.GetNamespace(),
			Labels: o.GetLabels(), Annotations: o.GetAnnotations(), UID: o.GetUID(), ResourceVersion: o.GetResourceVersion()}}
		m.SetGroupVersionKind(gvk)
		partial = append(partial, m)
	}
	return metadatafake.NewSimpleMetadataClient(s, partial...)
}

// Resources are the API resources fake discovery serves (for kubectl-style
// type arguments): Deployments, ConfigMaps, Nodes.
var Resources = []*metav1.APIResourceList{
	{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
		{Name: "deployments", SingularName: "deployment", Namespaced: true, Kind: "Deployment", ShortNames: []string{"deploy"}, Verbs: []string{"get", "list"}}}},
	{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "configmaps", SingularName: "configmap", Namespaced: true, Kind: "ConfigMap", ShortNames: []string{"cm"}, Verbs: []string{"get", "list"}},
		{Name: "nodes", SingularName: "node", Kind: "Node", ShortNames: []string{"no"}, Verbs: []string{"get", "list"}}}},
}

// Dialer dials spokes by cluster name: Spokes holds their clients, Errors
// the clusters that cannot be reached. It records what was dialed.
type Dialer struct {
	Spokes map[string]*kube.Client
	Errors map[string]error

	mu     sync.Mutex
	dialed []string
}

// Dial implements fleet.Dialer.
func (d *Dialer) Dial(_ context.Context, c *fleet.Cluster, impersonate string) (*kube.Client, error) {
	d.mu.Lock()
	dialed := c.Name + "|" + impersonate
	if c.Controller != "" {
		dialed += " as " + c.Controller
	}
	d.dialed = append(d.dialed, dialed)
	d.mu.Unlock()
	if err := d.Errors[c.Name]; err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	if cl := d.Spokes[c.Name]; cl != nil {
		return cl, nil
	}
	return nil, fmt.Errorf("cluster %s: no fake client", c.Name)
}

// Dialed lists the "cluster|impersonate" of every Dial call, in order,
// with " as CONTROLLER" when the cluster names its controller.
func (d *Dialer) Dialed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}

// Discover discovers the fleet of hub with spokes dialed by d.
func Discover(ctx context.Context, hub *kube.Client, d *Dialer) (*fleet.Fleet, error) {
	return fleet.Discover(ctx, hub, fleet.Options{Dialer: d})
}
