package kube

import (
	"fmt"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// Client QPS and burst: high enough that a fleet-wide diff is not throttled
// client-side (kubectl's defaults of 5/10 would dominate the run time).
const (
	DefaultQPS   = 200
	DefaultBurst = 400
)

// Scheme knows the built-in kinds and the Flux kinds the plugin reads
// typed. Flux Operator objects are read as unstructured data.
var Scheme = newScheme()

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(kustomizev1.AddToScheme(s))
	utilruntime.Must(helmv2.AddToScheme(s))
	utilruntime.Must(sourcev1.AddToScheme(s))
	return s
}

// Client bundles what the commands need to talk to one cluster.
type Client struct {
	// Config is the REST config the clients were built from.
	Config *rest.Config
	// Client is a controller-runtime client (typed and unstructured).
	Client client.Client
	// Mapper is a lazily-filled discovery-backed RESTMapper.
	Mapper meta.RESTMapper
	// Discovery answers server version and API group questions.
	Discovery discovery.DiscoveryInterface
	// Metadata reads and watches objects' metadata only (status --watch).
	Metadata metadata.Interface
	// Token describes the workload-identity token the client sends and
	// renews (spec.kubeConfig.configMapRef); nil otherwise.
	Token *TokenInfo
}

// NewClient builds a Client from cfg, raising QPS and Burst to at least
// DefaultQPS and DefaultBurst.
// Nothing is sent to the server until a client is used.
func NewClient(cfg *rest.Config) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS < DefaultQPS {
		cfg.QPS = DefaultQPS
	}
	if cfg.Burst < DefaultBurst {
		cfg.Burst = DefaultBurst
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("building HTTP client for %s: %w", cfg.Host, err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("building REST mapper for %s: %w", cfg.Host, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: Scheme, Mapper: mapper, HTTPClient: httpClient})
	if err != nil {
		return nil, fmt.Errorf("building client for %s: %w", cfg.Host, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("building discovery client for %s: %w", cfg.Host, err)
	}
	md, err := metadata.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("building metadata client for %s: %w", cfg.Host, err)
	}
	return &Client{Config: cfg, Client: c, Mapper: mapper, Discovery: dc, Metadata: md}, nil
}

// ServiceAccountUser is the user name Kubernetes gives the service account
// namespace/name: system:serviceaccount:NAMESPACE:NAME.
func ServiceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// Impersonating returns a client for the same cluster that impersonates
// the service account namespace/name, as Flux does for
// spec.serviceAccountName.
func (c *Client) Impersonating(namespace, name string) (*Client, error) {
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: ServiceAccountUser(namespace, name)}
	return NewClient(cfg)
}

// IsNoMatch reports whether err says the cluster has no such kind (its CRD
// is not installed), however client-go and controller-runtime wrapped it.
func IsNoMatch(err error) bool {
	return err != nil && (meta.IsNoMatchError(err) || strings.Contains(err.Error(), "no matches for kind"))
}
