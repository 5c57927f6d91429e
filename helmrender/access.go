package helmrender

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// statusError is an HTTP repository's answer other than 200 OK.
type statusError struct {
	URL    string
	Code   int
	Status string
}

func (e *statusError) Error() string { return fmt.Sprintf("GET %s: %s", e.URL, e.Status) }

// httpClient is the client for requests to src: f.HTTP (default
// http.DefaultClient) or, when src has a TLS configuration, a client with
// that configuration on a clone of its transport, made once per Fetcher
// and configuration so connections are reused.
func (f *Fetcher) httpClient(src ChartSource) (*http.Client, error) {
	base := f.HTTP
	if base == nil {
		base = http.DefaultClient
	}
	if src.TLS == nil {
		return base, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.tlsClients[src.tlsKey()]; c != nil {
		return c, nil
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("the HTTP client's transport %T cannot take the TLS configuration of %s", rt, src.ID())
	}
	t = t.Clone()
	t.TLSClientConfig = src.TLS.Clone()
	c := *base
	c.Transport = t
	if f.tlsClients == nil {
		f.tlsClients = map[string]*http.Client{}
	}
	f.tlsClients[src.tlsKey()] = &c
	return &c, nil
}

// accessKey tells sources with different credentials or TLS apart in
// the Fetcher's in-memory map, so that one source's access error (or
// access) is never another's; it holds a hash, never the credentials.
func (s ChartSource) accessKey() string {
	h := sha256.Sum256([]byte(s.Username + "\x00" + s.Password))
	return fmt.Sprintf("|%x|%s|%v|%s", h[:8], s.tlsKey(), s.PassCredentials, s.AuthHint)
}

// tlsKey identifies src's TLS configuration: by the material WithSecrets
// read, else by identity.
func (s ChartSource) tlsKey() string {
	switch {
	case s.TLS == nil:
		return ""
	case s.tlsID != "":
		return s.tlsID
	}
	return fmt.Sprintf("%p", s.TLS)
}

// sendCredentials is whether a request to u carries src's basic auth: as
// Helm's HTTP getter does, only to the repository's own scheme and
// host:port unless spec.passCredentials is set.
func sendCredentials(src ChartSource, u string) bool {
	if src.Username == "" || src.Password == "" {
		return false
	}
	if src.PassCredentials {
		return true
	}
	a, err1 := url.Parse(src.URL)
	b, err2 := url.Parse(u)
	return err1 == nil && err2 == nil && a.Scheme == b.Scheme && a.Host == b.Host
}

// accessHint adds to err, an error fetching src, what to check when the
// TLS handshake failed or the server refused access, and which Secrets
// the credentials and TLS came from (names only).
func accessHint(err error, src ChartSource) error {
	if err == nil {
		return nil
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		status    *statusError
		registry  *errcode.ErrorResponse
	)
	msg := err.Error()
	hint := ""
	switch {
	case errors.As(err, &unknownCA):
		hint = "the server's certificate is signed by a CA the source does not trust: put that CA in ca.crt of the spec.certSecretRef Secret"
	case errors.As(err, &hostname):
		hint = "the server's certificate is not valid for this host name"
	case errors.As(err, &invalid):
		hint = "the server's certificate is not valid (expired, not yet valid, or not for a server)"
	case strings.Contains(msg, "tls: certificate required"), strings.Contains(msg, "tls: bad certificate"),
		strings.Contains(msg, "tls: unknown certificate authority"), strings.Contains(msg, "tls: certificate expired"):
		hint = "the server requires a client certificate it trusts: put it in tls.crt and tls.key of the spec.certSecretRef Secret"
	case (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(msg, "http2: client conn could not be established")) && !src.Insecure && (src.TLS == nil || len(src.TLS.Certificates) == 0):
		// With TLS 1.3 the server checks the client certificate after the
		// client's handshake is done: its alert can come as a reset, or,
		// over HTTP/2, as a connection the transport could not set up
		// (which drops the alert).
		hint = "the server closed the connection: if it requires a client certificate, put it in tls.crt and tls.key of the spec.certSecretRef Secret"
	case errors.As(err, &status) && (status.Code == http.StatusUnauthorized || status.Code == http.StatusForbidden),
		errors.As(err, &registry) && (registry.StatusCode == http.StatusUnauthorized || registry.StatusCode == http.StatusForbidden):
		hint = "the server refused access: check the credentials of the spec.secretRef Secret"
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		hint = "the registry requires credentials: set them in the spec.secretRef Secret"
	default:
		return err
	}
	if src.AuthHint != "" {
		hint += " (" + src.AuthHint + ")"
	} else {
		hint += " (the source sets no spec.secretRef or spec.certSecretRef)"
	}
	return fmt.Errorf("%w; %s", err, hint)
}
