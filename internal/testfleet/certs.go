package testfleet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ClientCertLifetime is how long the fleet's own client certificates are
// valid: long enough that no access check warns about them. (envtest's
// default authenticator mints certificates valid for 7 days, which the
// status access checks would call critical.)
const ClientCertLifetime = 365 * 24 * time.Hour

// clientCA is an envtest authenticator with a CA of the test fleet's own:
// the apiserver trusts it for client certificates (--client-ca-file), so
// tests can mint certificates with the lifetime they need — also short or
// expired ones — and the apiserver judges them as it would any other.
type clientCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	path string

	mu     sync.Mutex
	serial int64
}

var _ envtest.Authn = (*clientCA)(nil)

func newClientCA(name string) (*clientCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "c5c3 test fleet client CA " + name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &clientCA{cert: cert, key: key, serial: 1}, nil
}

// Configure points the apiserver's --client-ca-file at the CA.
func (a *clientCA) Configure(workDir string, args *envtest.Arguments) error {
	a.path = filepath.Join(workDir, "c5c3-client-ca.crt")
	args.Set("client-ca-file", a.path)
	return nil
}

// Start writes the CA certificate before the apiserver starts.
func (a *clientCA) Start() error {
	return os.WriteFile(a.path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.cert.Raw}), 0o600)
}

// Stop does nothing: the file goes with the apiserver's work dir.
func (a *clientCA) Stop() error { return nil }

// AddUser mints a client certificate valid for ClientCertLifetime.
func (a *clientCA) AddUser(u envtest.User, base *rest.Config) (*rest.Config, error) {
	now := time.Now()
	certPEM, keyPEM, err := a.mint(u.Name, u.Groups, now.Add(-time.Minute), now.Add(ClientCertLifetime))
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(base)
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return cfg, nil
}

// mint signs a client certificate for user in groups with the given
// validity and returns it and its key as PEM.
func (a *clientCA) mint(user string, groups []string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	a.mu.Lock()
	a.serial++
	serial := a.serial
	a.mu.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: user, Organization: groups},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// KubeconfigWithClientCert returns the cluster's admin kubeconfig with a
// fresh client certificate for user (in system:masters) valid from
// notBefore to notAfter, signed by the CA the apiserver trusts.
func (c *Cluster) KubeconfigWithClientCert(user string, notBefore, notAfter time.Time) ([]byte, error) {
	certPEM, keyPEM, err := c.ca.mint(user, []string{"system:masters"}, notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	return c.rewriteUser(func(u *clientcmdapi.AuthInfo) {
		u.ClientCertificateData, u.ClientKeyData, u.Token = certPEM, keyPEM, ""
	})
}

// KubeconfigWithToken returns the cluster's kubeconfig with token as the
// only credential (no client certificate).
func (c *Cluster) KubeconfigWithToken(token string) ([]byte, error) {
	return c.rewriteUser(func(u *clientcmdapi.AuthInfo) {
		u.ClientCertificateData, u.ClientKeyData, u.Token = nil, nil, token
	})
}

// ServiceAccountToken creates the service account namespace/name on the
// cluster (and its namespace) when missing and returns a token for it
// from the TokenRequest API: a JWT signed by the apiserver, valid for
// lifetime.
func (c *Cluster) ServiceAccountToken(ctx context.Context, namespace, name string, lifetime time.Duration) (string, error) {
	if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); client.IgnoreAlreadyExists(err) != nil {
		return "", err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if err := c.Client.Create(ctx, sa); client.IgnoreAlreadyExists(err) != nil {
		return "", err
	}
	secs := int64(lifetime / time.Second)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}
	if err := c.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("requesting a token for %s/%s: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}

// rewriteUser applies edit to the user of the admin kubeconfig's current
// context and returns the result.
func (c *Cluster) rewriteUser(edit func(*clientcmdapi.AuthInfo)) ([]byte, error) {
	cfg, err := clientcmd.Load(c.Kubeconfig)
	if err != nil {
		return nil, err
	}
	kctx := cfg.Contexts[cfg.CurrentContext]
	if kctx == nil || cfg.AuthInfos[kctx.AuthInfo] == nil {
		return nil, fmt.Errorf("%s kubeconfig has no user in its current context", c.Name)
	}
	edit(cfg.AuthInfos[kctx.AuthInfo])
	return clientcmd.Write(*cfg)
}

// serviceAccountKubeconfig returns a kubeconfig of the cluster whose only
// credential is a token of the service account default/name, which it
// creates and binds to cluster-admin (a ClusterRoleBinding of the same
// name): credentials of their own for one spoke entry.
func (c *Cluster) serviceAccountKubeconfig(ctx context.Context, name string) ([]byte, error) {
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: metav1.NamespaceDefault, Name: name}},
	}
	if err := c.Client.Create(ctx, crb); client.IgnoreAlreadyExists(err) != nil {
		return nil, fmt.Errorf("binding %s to cluster-admin on %s: %w", name, c.Name, err)
	}
	token, err := c.ServiceAccountToken(ctx, metav1.NamespaceDefault, name, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	return c.KubeconfigWithToken(token)
}
