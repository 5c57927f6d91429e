package kube

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// SpokeOptions says how a spoke REST config is made from kubeconfig bytes.
type SpokeOptions struct {
	// AllowExec permits kubeconfigs that run exec plugins, use auth
	// providers or read local files. Flux refuses those by default, and so
	// does the plugin.
	AllowExec bool
	// Impersonate, when set, is the service account (namespace/name) to
	// impersonate, as Flux does for spec.serviceAccountName.
	Impersonate string
	// Timeout is the per-request timeout.
	Timeout time.Duration
	// WrapTransport, when set, wraps the spoke's HTTP transport (request
	// counting in tests and benchmarks).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// apply sets what the options say on a spoke's REST config, however its
// credentials were found: impersonation, the request timeout and the
// transport wrapper.
func (opts SpokeOptions) apply(rc *rest.Config) {
	if opts.Impersonate != "" {
		ns, name, _ := strings.Cut(opts.Impersonate, "/")
		rc.Impersonate.UserName = ServiceAccountUser(ns, name)
	}
	if opts.Timeout > 0 {
		rc.Timeout = opts.Timeout
	}
	if opts.WrapTransport != nil {
		rc.Wrap(opts.WrapTransport)
	}
}

// ErrUnsafeKubeconfig is wrapped by RESTConfigFromKubeconfig when the
// kubeconfig needs exec plugins or local files and AllowExec is off.
var ErrUnsafeKubeconfig = errors.New("kubeconfig needs exec plugins or local files")

// RESTConfigFromKubeconfig turns the kubeconfig bytes of a spoke into a REST
// config using its current context. Errors never quote the kubeconfig: it
// holds credentials.
func RESTConfigFromKubeconfig(data []byte, opts SpokeOptions) (*rest.Config, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, errors.New("kubeconfig is empty")
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, errors.New("kubeconfig is not valid YAML or not a kubeconfig")
	}
	if cfg.CurrentContext == "" && len(cfg.Contexts) == 1 {
		for name := range cfg.Contexts {
			cfg.CurrentContext = name
		}
	}
	if err := checkContext(cfg); err != nil {
		return nil, err
	}
	if !opts.AllowExec {
		if unsafe := unsafeFields(cfg); len(unsafe) > 0 {
			return nil, fmt.Errorf("%w (%s); Flux refuses these too, pass --allow-exec-kubeconfig to use them anyway",
				ErrUnsafeKubeconfig, strings.Join(unsafe, ", "))
		}
	}
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig is incomplete: %s", redact(err))
	}
	opts.apply(rc)
	return rc, nil
}

func checkContext(cfg *clientcmdapi.Config) error {
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return errors.New("kubeconfig has no current context")
	}
	if _, ok := cfg.Clusters[ctx.Cluster]; !ok {
		return fmt.Errorf("kubeconfig context %q names a cluster that is not defined", cfg.CurrentContext)
	}
	if cfg.Clusters[ctx.Cluster].Server == "" {
		return fmt.Errorf("kubeconfig cluster %q has no server", ctx.Cluster)
	}
	return nil
}

// unsafeFields lists, for the current context, what would make the client
// run a program or read the local file system.
func unsafeFields(cfg *clientcmdapi.Config) []string {
	ctx := cfg.Contexts[cfg.CurrentContext]
	var out []string
	if c := cfg.Clusters[ctx.Cluster]; c != nil && c.CertificateAuthority != "" {
		out = append(out, "cluster.certificate-authority file")
	}
	if u := cfg.AuthInfos[ctx.AuthInfo]; u != nil {
		if u.Exec != nil {
			out = append(out, "user.exec plugin")
		}
		if u.AuthProvider != nil {
			out = append(out, "user.auth-provider "+u.AuthProvider.Name)
		}
		if u.ClientCertificate != "" || u.ClientKey != "" {
			out = append(out, "user.client-certificate/key file")
		}
		if u.TokenFile != "" {
			out = append(out, "user.tokenFile")
		}
	}
	sort.Strings(out)
	return out
}

// redact keeps only the first line of client-go's message: the lines
// after it (a YAML parse error's context) could echo the kubeconfig.
func redact(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
