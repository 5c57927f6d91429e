package kube

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/pkg/auth"
	authutils "github.com/fluxcd/pkg/auth/utils"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Workload identity providers: the provider key of a
// spec.kubeConfig.configMapRef ConfigMap (fluxcd/pkg/auth's names).
const (
	ProviderGeneric = "generic"
	ProviderAWS     = "aws"
	ProviderAzure   = "azure"
	ProviderGCP     = "gcp"
)

// WorkloadIdentity is a spec.kubeConfig.configMapRef ConfigMap: how Flux
// reaches a cluster with a short-lived token instead of a kubeconfig
// (Flux 2.6+). The fields are the ConfigMap's keys.
type WorkloadIdentity struct {
	// ConfigMap is "namespace/name", for errors.
	ConfigMap string
	// Namespace is the ConfigMap's (and the Flux object's) namespace,
	// where serviceAccountName lives.
	Namespace string
	// Provider is generic, aws, azure or gcp.
	Provider string
	// Cluster is the cloud's cluster resource name (aws, azure, gcp).
	Cluster string
	// Address is the API server address; required for generic.
	Address string
	// CAData is the ca.crt key: PEM CA of the API server.
	CAData string
	// ServiceAccountName is the hub service account whose token is used
	// (exchanged with the cloud for aws/azure/gcp). Empty: the controller's
	// own identity.
	ServiceAccountName string
	// Audiences of the service account token, one a line in the ConfigMap;
	// empty: the address for generic, the provider's default otherwise.
	Audiences []string
	// ControllerServiceAccount ("namespace/name") stands in for the Flux
	// controller's own identity when ServiceAccountName is empty and the
	// provider is generic: Flux then requests a token for its controller's
	// service account, and so does the plugin.
	ControllerServiceAccount string
}

// Validate checks what Flux needs before it asks for a token; errors name
// the ConfigMap and the key.
func (w WorkloadIdentity) Validate() error {
	switch w.Provider {
	case ProviderGeneric:
		if w.Address == "" {
			return fmt.Errorf("ConfigMap %s (spec.kubeConfig.configMapRef) has provider generic but no address: set address to the cluster's API server URL", w.ConfigMap)
		}
		if _, err := auth.ParseClusterAddress(w.Address); err != nil {
			return fmt.Errorf("ConfigMap %s (spec.kubeConfig.configMapRef) address: %w", w.ConfigMap, err)
		}
	case ProviderAWS, ProviderAzure, ProviderGCP:
	case "":
		return fmt.Errorf("ConfigMap %s (spec.kubeConfig.configMapRef) has no provider key: set provider to generic, aws, azure or gcp", w.ConfigMap)
	default:
		return fmt.Errorf("ConfigMap %s (spec.kubeConfig.configMapRef) has provider %q, which Flux does not know: use generic, aws, azure or gcp", w.ConfigMap, w.Provider)
	}
	return nil
}

// ServiceAccount is the hub service account (namespace, name) whose token
// is requested; empty name for the user's own cloud credentials.
func (w WorkloadIdentity) ServiceAccount() (string, string) {
	if w.ServiceAccountName != "" {
		return w.Namespace, w.ServiceAccountName
	}
	if w.Provider == ProviderGeneric && w.ControllerServiceAccount != "" {
		ns, name, _ := strings.Cut(w.ControllerServiceAccount, "/")
		return ns, name
	}
	return "", ""
}

// options are fluxcd/pkg/auth's options for w, mapped from the ConfigMap
// as fluxcd/pkg/auth/utils.GetRESTConfig maps them.
func (w WorkloadIdentity) options(hub client.Client, allowShellOut bool) []auth.Option {
	opts := []auth.Option{auth.WithClient(hub)}
	if w.Cluster != "" {
		opts = append(opts, auth.WithClusterResource(w.Cluster))
	}
	if w.Address != "" {
		opts = append(opts, auth.WithClusterAddress(w.Address))
	}
	if w.CAData != "" {
		opts = append(opts, auth.WithCAData(w.CAData))
	}
	if ns, name := w.ServiceAccount(); name != "" {
		opts = append(opts, auth.WithServiceAccountNamespace(ns), auth.WithServiceAccountName(name))
	}
	if len(w.Audiences) > 0 {
		opts = append(opts, auth.WithAudiences(w.Audiences...))
	}
	if allowShellOut {
		opts = append(opts, auth.WithAllowShellOut())
	}
	return opts
}

// ParseAudiences splits the audiences key: one audience a line, blank
// lines and surrounding spaces dropped (Flux's rule).
func ParseAudiences(s string) []string {
	var out []string
	for _, a := range strings.Split(s, "\n") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// TokenInfo describes the short-lived token a workload-identity client
// sends. It never holds the token.
type TokenInfo struct {
	// Provider is the ConfigMap's provider.
	Provider string
	// Identity is whose token it is: "ServiceAccount ns/name", or the
	// user's cloud credentials.
	Identity string
	// ExpiresAt is when the first token expires; the client requests a new
	// one before then.
	ExpiresAt time.Time
	// Lifetime is ExpiresAt minus the time it was issued.
	Lifetime time.Duration
}

var enableObjectLevel sync.Once

// RESTConfigFromWorkloadIdentity returns a REST config for the cluster w
// describes, reached as Flux reaches it: fluxcd/pkg/auth issues the token
// (generic: the hub's TokenRequest API for the service account with the
// audiences; aws/azure/gcp: the cloud's token for the cluster, from the
// service account's token exchanged with the cloud or, without one, the
// user's own cloud credentials). A first token is requested now, so a
// bad ConfigMap or missing credentials fail here; the config then renews
// its token before it expires, as Flux's token cache does. opts apply as
// for a kubeconfig (impersonation, timeout, transport); AllowExec lets the
// cloud providers run their CLIs (az, gcloud) for credentials. Errors name
// the ConfigMap and never carry a token.
func RESTConfigFromWorkloadIdentity(ctx context.Context, hub client.Client, w WorkloadIdentity, opts SpokeOptions) (*rest.Config, *TokenInfo, error) {
	if err := w.Validate(); err != nil {
		return nil, nil, err
	}
	provider, err := authutils.ProviderByName[auth.RESTConfigProvider](w.Provider)
	if err != nil {
		return nil, nil, fmt.Errorf("ConfigMap %s: %w", w.ConfigMap, err)
	}
	info := &TokenInfo{Provider: w.Provider, Identity: "your " + w.Provider + " credentials"}
	if ns, name := w.ServiceAccount(); name != "" {
		info.Identity = "ServiceAccount " + ns + "/" + name
		// A missing service account is the common mistake: say so plainly.
		var sa corev1.ServiceAccount
		if err := hub.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sa); err != nil {
			if apierrors.IsNotFound(err) && w.ServiceAccountName == "" {
				return nil, nil, fmt.Errorf("ServiceAccount %s/%s (the Flux controller's own identity, used as ConfigMap %s names no serviceAccountName) not found in the hub: set serviceAccountName, or --flux-namespace", ns, name, w.ConfigMap)
			}
			if apierrors.IsNotFound(err) {
				return nil, nil, fmt.Errorf("ServiceAccount %s/%s (serviceAccountName of ConfigMap %s) not found in the hub", ns, name, w.ConfigMap)
			}
			return nil, nil, fmt.Errorf("reading ServiceAccount %s/%s of ConfigMap %s: %w", ns, name, w.ConfigMap, err)
		}
		// Flux needs its ObjectLevelWorkloadIdentity feature gate for a
		// service account's token; the plugin acts as the user, who
		// may request it.
		enableObjectLevel.Do(auth.EnableObjectLevelWorkloadIdentity)
	}
	src := &tokenSource{provider: provider, opts: w.options(hub, opts.AllowExec)}
	conf, err := src.get(ctx)
	if err != nil {
		hint := ""
		if name := w.ServiceAccountName; name == "" && w.Provider != ProviderGeneric {
			hint = fmt.Sprintf(" (without serviceAccountName the plugin uses your own %s credentials, from the environment and files the %s CLI reads)", w.Provider, cloudCLI[w.Provider])
		}
		return nil, nil, fmt.Errorf("workload identity of ConfigMap %s (provider %s): %w%s", w.ConfigMap, w.Provider, err, hint)
	}
	info.ExpiresAt = conf.ExpiresAt
	info.Lifetime = conf.ExpiresAt.Sub(src.issued).Round(time.Minute)
	rc := &rest.Config{Host: conf.Host, TLSClientConfig: rest.TLSClientConfig{CAData: conf.CAData}}
	rc.Wrap(func(base http.RoundTripper) http.RoundTripper {
		return &bearerRoundTripper{base: base, src: src, cm: w.ConfigMap}
	})
	opts.apply(rc)
	return rc, info, nil
}

// cloudCLI is the command line tool of each cloud provider.
var cloudCLI = map[string]string{ProviderAWS: "aws", ProviderAzure: "az", ProviderGCP: "gcloud"}

// renewBefore is the share of a token's lifetime left when it is renewed
// (Flux's token cache renews at 80% of the lifetime).
const renewBefore = 5

// tokenSource holds the current token of one cluster and renews it.
type tokenSource struct {
	provider auth.RESTConfigProvider
	opts     []auth.Option

	mu     sync.Mutex
	conf   *auth.RESTConfig
	issued time.Time
}

// get returns the current token, asking for a new one when there is none
// or a fifth of its lifetime is left.
func (s *tokenSource) get(ctx context.Context) (*auth.RESTConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.conf != nil && s.conf.ExpiresAt.Sub(now) > s.conf.ExpiresAt.Sub(s.issued)/renewBefore {
		return s.conf, nil
	}
	conf, err := auth.GetRESTConfig(ctx, s.provider, slices.Clone(s.opts)...)
	if err != nil {
		return nil, err
	}
	s.conf, s.issued = conf, now
	return conf, nil
}

// bearerRoundTripper sets the current token on each request.
type bearerRoundTripper struct {
	base http.RoundTripper
	src  *tokenSource
	cm   string
}

// RoundTrip implements http.RoundTripper.
func (r *bearerRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	conf, err := r.src.get(req.Context())
	if err != nil {
		return nil, fmt.Errorf("renewing the workload identity token of ConfigMap %s: %w", r.cm, err)
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+conf.BearerToken)
	return r.base.RoundTrip(req)
}
