package testfleet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	dregistry "github.com/distribution/distribution/v3/registry"
	"golang.org/x/crypto/bcrypt"
	"helm.sh/helm/v4/pkg/registry"
	"helm.sh/helm/v4/pkg/repo/v1/repotest"
)

// TestCA is a certificate authority of one test: it signs server
// certificates for 127.0.0.1 and localhost and client certificates.
type TestCA struct {
	// PEM is the CA certificate.
	PEM  []byte
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewTestCA makes a CA named name.
func NewTestCA(t *testing.T, name string) *TestCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &TestCA{PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert: cert, key: key}
}

// Issue signs a certificate for cn: a server certificate for 127.0.0.1
// and localhost, or a client certificate; it returns certificate and key
// as PEM.
func (ca *TestCA) Issue(t *testing.T, cn string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses, tmpl.DNSNames = []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// Pool is a certificate pool holding only the CA.
func (ca *TestCA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// TLSChartServers serves the test charts over TLS with certificates of a
// test CA: helm's repotest HTTP chart repository (repotest.WithTLSConfig)
// and a distribution/distribution registry with htpasswd basic auth, both
// on 127.0.0.1. With a client CA, both require a client certificate it
// signed (mutual TLS).
type TLSChartServers struct {
	// CA signed the servers' certificates.
	CA *TestCA
	// HTTP is the chart repository; HTTP.URL() is https://127.0.0.1:<port>.
	HTTP *repotest.Server
	// OCIHost is the registry's "localhost:<port>".
	OCIHost            string
	Username, Password string
	// Charts by "name-version"; OCIRef and OCIDigest are of this registry.
	Charts map[string]*Chart
}

// StartTLSChartServers starts TLS chart servers with the test charts of
// plain (see StartChartServers). clientCA, when not nil, is the CA whose
// client certificates the servers require. They stop when the test ends.
func StartTLSChartServers(t *testing.T, plain *ChartServers, clientCA *TestCA) *TLSChartServers {
	t.Helper()
	ca := NewTestCA(t, "c5c3 test chart servers CA")
	certPEM, keyPEM := ca.Issue(t, "127.0.0.1", true)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{pair}}
	if clientCA != nil {
		serverTLS.ClientAuth, serverTLS.ClientCAs = tls.RequireAndVerifyClientCert, clientCA.Pool()
	}
	s := &TLSChartServers{CA: ca, Charts: map[string]*Chart{}, Username: "chart-reader", Password: "tls-registry-pass-" + Namespace(t)}
	s.HTTP = repotest.NewTempServer(t, repotest.WithTLSConfig(serverTLS), repotest.WithChartSourceGlob(filepath.Join(plain.HTTP.Root(), "*.tgz")))
	t.Cleanup(s.HTTP.Stop)

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(s.Password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s.OCIHost = fmt.Sprintf("localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	cfg := &configuration.Configuration{}
	cfg.HTTP.Addr, cfg.HTTP.DrainTimeout = addr, time.Second
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.TLS.Certificate, cfg.HTTP.TLS.Key = write("server.crt", certPEM), write("server.key", keyPEM)
	if clientCA != nil {
		cfg.HTTP.TLS.ClientCAs = []string{write("client-ca.crt", clientCA.PEM)}
		cfg.HTTP.TLS.ClientAuth = configuration.ClientAuthRequireAndVerifyClientCert
	}
	cfg.Storage = map[string]configuration.Parameters{"inmemory": map[string]any{}}
	cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "localhost",
		"path": write("htpasswd", fmt.Appendf(nil, "%s:%s\n", s.Username, hash))}}
	ctx, cancel := context.WithCancel(context.Background())
	reg, err := dregistry.NewRegistry(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- reg.ListenAndServe() }()
	t.Cleanup(func() {
		shutdown, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = reg.Shutdown(shutdown)
		cancel()
	})

	clientTLS := &tls.Config{RootCAs: ca.Pool()}
	if clientCA != nil {
		c, k := clientCA.Issue(t, "chart-pusher", false)
		p, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		clientTLS.Certificates = []tls.Certificate{p}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = clientTLS
	rc, err := registry.NewClient(registry.ClientOptBasicAuth(s.Username, s.Password), registry.ClientOptHTTPClient(&http.Client{Transport: tr}),
		registry.ClientOptCredentialsFile(filepath.Join(t.TempDir(), "config.json")))
	if err != nil {
		t.Fatal(err)
	}
	for k, pc := range plain.Charts {
		data, err := os.ReadFile(pc.Archive)
		if err != nil {
			t.Fatal(err)
		}
		c := &Chart{Name: pc.Name, Version: pc.Version, Archive: filepath.Join(s.HTTP.Root(), filepath.Base(pc.Archive)),
			OCIRef: fmt.Sprintf("%s/charts/%s", s.OCIHost, pc.Name)}
		res, err := pushWithRetry(rc, data, c.OCIRef+":"+c.Version, served)
		if err != nil {
			t.Fatalf("pushing %s-%s to the TLS test registry: %v", c.Name, c.Version, err)
		}
		c.OCIDigest = res.Manifest.Digest
		s.Charts[k] = c
	}
	return s
}
