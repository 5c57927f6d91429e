package fleet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/c5c3/kubectl-c5c3/internal/keyed"
	"github.com/c5c3/kubectl-c5c3/kube"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

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
	key := ref.String() + "|" + impersonate
	if ref.ConfigMapName != "" {
		key += "|" + c.controller()
	}
	return f.clients.Do(key, func() (*kube.Client, error) {
		return f.opts.Dialer.Dial(ctx, c, impersonate)
	})
}

// ClientFor returns the client Flux uses for o on cluster c: as o's
// controller (for a workload-identity token without serviceAccountName,
// see Cluster.Controller), impersonating
// o's spec.serviceAccountName in o's namespace, on a spoke (through its
// kubeconfig Secret) as on the hub; the plain cluster client without one.
// o's namespace is its kubeconfig Secret's for an object in the hub; a
// HelmRelease that lives on the spoke impersonates in its own namespace
// there.
func (f *Fleet) ClientFor(ctx context.Context, c *Cluster, o Object) (*kube.Client, error) {
	if !c.Hub && c.KubeConfig.ConfigMapName != "" && c.controller() != o.Controller() {
		// A workload-identity token may be the applying controller's own.
		as := *c
		as.Controller = o.Controller()
		c = &as
	}
	sa := o.ServiceAccountName()
	if sa == "" {
		return f.Client(ctx, c, "")
	}
	ns := o.Meta().GetNamespace()
	if !c.Hub {
		return f.spokeClient(ctx, c, ns+"/"+sa)
	}
	return f.clients.Do("hub|"+ns+"/"+sa, func() (*kube.Client, error) { return f.hub.Impersonating(ns, sa) })
}

// Dialer builds the clients of spoke clusters. A Fleet asks it once per
// kubeconfig Secret and impersonated service account and caches the
// result (or the error).
type Dialer interface {
	// Dial returns a client of spoke c impersonating impersonate
	// ("namespace/name" of a service account; empty for none). Errors
	// name the cluster and never carry credentials.
	Dial(ctx context.Context, c *Cluster, impersonate string) (*kube.Client, error)
}

// SecretDialer dials a spoke as Flux does: with the kubeconfig in the hub
// Secret that c.KubeConfig names, or by workload identity for a
// configMapRef (a token from the hub's TokenRequest API or the cloud, see
// kube.RESTConfigFromWorkloadIdentity). It is the Fleet's default Dialer.
type SecretDialer struct {
	// Hub reads the kubeconfig Secrets and ConfigMaps and requests
	// service account tokens.
	Hub client.Client
	// Spoke says how the clients are built (timeout, impersonation).
	Spoke kube.SpokeOptions
	// FluxNamespace is where the Flux controllers run: a generic
	// workload-identity ConfigMap without serviceAccountName uses the
	// service account of the cluster's controller (Cluster.Controller:
	// kustomize-controller or helm-controller) there, as Flux uses its own.
	FluxNamespace string
	// shared, when set (Discover sets it), lets entries with the same
	// kubeconfig share one client.
	shared *sharedClients
}

// Dial implements Dialer.
func (d SecretDialer) Dial(ctx context.Context, c *Cluster, impersonate string) (*kube.Client, error) {
	opts := d.Spoke
	if impersonate != "" {
		opts.Impersonate = impersonate
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultSpokeTimeout
	}
	if c.KubeConfig.ConfigMapName != "" {
		return d.dialWorkloadIdentity(ctx, c, opts)
	}
	data, err := ReadKubeConfigSecret(ctx, d.Hub, *c.KubeConfig)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	cfg, err := kube.RESTConfigFromKubeconfig(data, opts)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %s: %w", c.Name, c.KubeConfig, err)
	}
	if d.shared == nil {
		return kube.NewClient(cfg)
	}
	return d.shared.get(data, opts.Impersonate, func() (*kube.Client, error) { return kube.NewClient(cfg) })
}

// sharedClients are the spoke clients of one SecretDialer by identity:
// spoke entries whose Secrets hold the same kubeconfig (the same
// apiserver, CA and credentials) and that impersonate the same user share
// one client — its connections, its discovery and its RESTMapper — so an
// extra entry for a cluster costs its Secret, not another TLS handshake
// and discovery. The key is a hash of the kubeconfig, never the data.
type sharedClients struct {
	clients keyed.Once[[sha256.Size]byte, *kube.Client]
}

func (s *sharedClients) get(kubeconfig []byte, impersonate string, build func() (*kube.Client, error)) (*kube.Client, error) {
	key := sha256.Sum256(append(append(append([]byte{}, kubeconfig...), 0), impersonate...))
	return s.clients.Do(key, build)
}

// dialWorkloadIdentity dials a spoke of a spec.kubeConfig.configMapRef.
func (d SecretDialer) dialWorkloadIdentity(ctx context.Context, c *Cluster, opts kube.SpokeOptions) (*kube.Client, error) {
	w, err := ReadWorkloadIdentity(ctx, d.Hub, *c.KubeConfig)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	ns := d.FluxNamespace
	if ns == "" {
		ns = DefaultFluxNamespace
	}
	w.ControllerServiceAccount = ns + "/" + c.controller()
	cfg, token, err := kube.RESTConfigFromWorkloadIdentity(ctx, d.Hub, w, opts)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	cl, err := kube.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	cl.Token = token
	return cl, nil
}

// DefaultFluxNamespace is where Flux runs unless told otherwise.
const DefaultFluxNamespace = "flux-system"

// KustomizeControllerServiceAccount is the service account of Flux's
// kustomize-controller (its install manifests' name).
const KustomizeControllerServiceAccount = "kustomize-controller"

// HelmControllerServiceAccount is the service account of Flux's
// helm-controller (its install manifests' name).
const HelmControllerServiceAccount = "helm-controller"

// DefaultSpokeTimeout bounds each spoke request when --request-timeout is
// not given, so that one dead spoke cannot hang the whole command.
const DefaultSpokeTimeout = 30 * time.Second
