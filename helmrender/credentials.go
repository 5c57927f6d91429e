package helmrender

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The keys source-controller reads TLS material from
// (fluxcd/pkg/runtime/secrets): the standard ones first, else the
// deprecated ones.
const (
	keyCA, keyCert, keyKey          = "ca.crt", corev1.TLSCertKey, corev1.TLSPrivateKeyKey
	legacyCA, legacyCert, legacyKey = "caFile", "certFile", "keyFile"
)

// SourceSecrets are the hub Secrets a chart source names; nil when the
// reference is not set.
type SourceSecrets struct {
	// Auth is the Secret of spec.secretRef: username/password, a
	// kubernetes.io/dockerconfigjson Secret (OCI) or, deprecated and for a
	// HelmRepository only, TLS keys.
	Auth *corev1.Secret
	// Cert is the Secret of spec.certSecretRef: ca.crt, tls.crt, tls.key.
	Cert *corev1.Secret
}

// WithSecrets returns src with the credentials and TLS configuration
// source-controller builds from the source's Secrets:
//
//   - TLS from certSecretRef (ca.crt added to the system roots, tls.crt and
//     tls.key as client certificate; caFile/certFile/keyFile as fallbacks);
//     for a HelmRepository without certSecretRef, from the same keys of
//     secretRef (deprecated).
//   - HelmRepository over HTTP(S): username and password of secretRef, both
//     or neither.
//   - HelmRepository of type oci: a kubernetes.io/dockerconfigjson secretRef
//     gives the auth of the registry host (an error when it has none), any
//     other Secret its username and password.
//   - OCIRepository: only kubernetes.io/dockerconfigjson (or dockercfg)
//     Secrets count, matched to the repository as the kubelet keyring
//     does; any other Secret, or no matching entry, is anonymous access.
//
// Errors name the Secrets and keys, never their data.
func WithSecrets(src ChartSource, s SourceSecrets) (ChartSource, error) {
	var hints []string
	if s.Cert != nil {
		cfg, err := tlsFromSecret(s.Cert, false)
		if err != nil {
			return src, fmt.Errorf("TLS of spec.certSecretRef: Secret %s: %w", secretID(s.Cert), err)
		}
		src.TLS, src.tlsID = cfg, tlsMaterialID(s.Cert)
		hints = append(hints, "TLS from Secret "+secretID(s.Cert))
	}
	if s.Auth == nil {
		src.AuthHint = strings.Join(hints, "; ")
		return src, nil
	}
	id := secretID(s.Auth)
	if src.Kind == SourceHelmRepository && src.TLS == nil {
		cfg, err := tlsFromSecret(s.Auth, true)
		if err != nil {
			return src, fmt.Errorf("TLS keys of spec.secretRef: Secret %s: %w", id, err)
		}
		if cfg != nil {
			src.TLS, src.tlsID = cfg, tlsMaterialID(s.Auth)
			hints = append(hints, "TLS from Secret "+id+" (deprecated: move the keys to a spec.certSecretRef Secret)")
		}
	}
	host := registryHost(src.URL)
	switch {
	case src.Kind == SourceOCIRepository:
		if s.Auth.Type != corev1.SecretTypeDockerConfigJson && s.Auth.Type != corev1.SecretTypeDockercfg {
			hints = append(hints, fmt.Sprintf("Secret %s is ignored: it is of type %q and source-controller reads an OCIRepository's spec.secretRef only as %s",
				id, s.Auth.Type, corev1.SecretTypeDockerConfigJson))
			break
		}
		auths, err := dockerAuths(s.Auth)
		if err != nil {
			return src, fmt.Errorf("Secret %s: %w", id, err)
		}
		a, ok := keyringMatch(auths, strings.TrimPrefix(src.URL, "oci://"))
		if !ok {
			hints = append(hints, fmt.Sprintf("Secret %s has no auth for %s", id, host))
			break
		}
		src.Username, src.Password = a.Username, a.Password
		hints = append(hints, "credentials from Secret "+id)
	case src.Kind == SourceHelmRepository && src.isOCI() && s.Auth.Type == corev1.SecretTypeDockerConfigJson:
		auths, err := dockerAuths(s.Auth)
		if err != nil {
			return src, fmt.Errorf("Secret %s: %w", id, err)
		}
		a, ok := dockerHostMatch(auths, host)
		if !ok {
			return src, fmt.Errorf("no auth config for %q in the docker-registry Secret %s", host, id)
		}
		if (a.Username == "") != (a.Password == "") {
			return src, fmt.Errorf("the auth for %q in Secret %s needs both a username and a password", host, id)
		}
		src.Username, src.Password = a.Username, a.Password
		hints = append(hints, "credentials from Secret "+id)
	default:
		user, hasUser := s.Auth.Data["username"]
		pass, hasPass := s.Auth.Data["password"]
		if hasUser != hasPass {
			return src, fmt.Errorf("Secret %s has %s but not %s: set both or neither", id, present(hasUser), present(!hasUser))
		}
		src.Username, src.Password = string(user), string(pass)
		if hasUser {
			hints = append(hints, "credentials from Secret "+id)
		}
	}
	src.AuthHint = strings.Join(hints, "; ")
	return src, nil
}

func present(user bool) string {
	if user {
		return "username"
	}
	return "password"
}

func secretID(s *corev1.Secret) string { return s.Namespace + "/" + s.Name }

// isOCI is true for a HelmRepository served by an OCI registry.
func (s ChartSource) isOCI() bool { return s.OCI || strings.HasPrefix(s.URL, "oci://") }

// registryHost is the host[:port] of an oci:// or http(s):// URL.
func registryHost(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}

// tlsFromSecret builds the TLS configuration of s as fluxcd/pkg's
// TLSConfigFromSecret with the system pool (what source-controller uses
// for chart sources). lenient is secretRef's reading: a Secret without TLS
// keys, or with a certificate and no key, has no TLS (nil, nil).
func tlsFromSecret(s *corev1.Secret, lenient bool) (*tls.Config, error) {
	cert, certKey := secretData(s, keyCert, legacyCert)
	key, keyKeyName := secretData(s, keyKey, legacyKey)
	ca, caKey := secretData(s, keyCA, legacyCA)
	switch {
	case lenient && (len(cert) > 0) != (len(key) > 0), lenient && len(cert) == 0 && len(ca) == 0:
		return nil, nil
	case len(cert) > 0 && len(key) == 0:
		return nil, fmt.Errorf("it has %s but no %s (the client certificate's private key)", certKey, keyKey)
	case len(cert) == 0 && len(key) > 0:
		return nil, fmt.Errorf("it has %s but no %s (the client certificate)", keyKeyName, keyCert)
	case len(cert) == 0 && len(ca) == 0:
		return nil, fmt.Errorf("it has none of %s, %s and %s", keyCA, keyCert, keyKey)
	}
	cfg := &tls.Config{}
	if len(cert) > 0 {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			// crypto/tls names what is wrong, never the key material.
			return nil, fmt.Errorf("%s and %s are not a valid certificate and key pair: %w", certKey, keyKeyName, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if len(ca) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("reading the system certificate pool: %w", err)
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caKey)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// tlsMaterialID is a hash of the TLS keys of s.
func tlsMaterialID(s *corev1.Secret) string {
	h := sha256.New()
	for _, k := range [][2]string{{keyCA, legacyCA}, {keyCert, legacyCert}, {keyKey, legacyKey}} {
		v, _ := secretData(s, k[0], k[1])
		fmt.Fprintf(h, "%d:%s", len(v), v)
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

// secretData is the value of key in s, else of its legacy key, and the key
// it came from.
func secretData(s *corev1.Secret, key, legacy string) ([]byte, string) {
	if v, ok := s.Data[key]; ok {
		return v, key
	}
	return s.Data[legacy], legacy
}

// dockerAuth is one registry's credentials of a docker config.
type dockerAuth struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Auth     string `json:"auth,omitempty"`
}

// dockerAuths reads the auths of a kubernetes.io/dockerconfigjson
// (.dockerconfigjson, {"auths": {...}}) or kubernetes.io/dockercfg
// (.dockercfg, the map itself) Secret; an "auth" (base64 of
// "username:password") wins over username and password, as in docker's
// and the kubelet's readers.
func dockerAuths(s *corev1.Secret) (map[string]dockerAuth, error) {
	auths := map[string]dockerAuth{}
	if s.Type == corev1.SecretTypeDockercfg {
		if err := json.Unmarshal(s.Data[corev1.DockerConfigKey], &auths); err != nil {
			return nil, fmt.Errorf("%s is not a docker config: %w", corev1.DockerConfigKey, jsonError(err))
		}
	} else {
		var cfg struct {
			Auths map[string]dockerAuth `json:"auths"`
		}
		if err := json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg); err != nil {
			return nil, fmt.Errorf("%s is not a docker config: %w", corev1.DockerConfigJsonKey, jsonError(err))
		}
		auths = cfg.Auths
	}
	for k, a := range auths {
		if a.Auth == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(a.Auth)
		user, pass, ok := strings.Cut(string(b), ":")
		if err != nil || !ok {
			return nil, fmt.Errorf("the auth of %q is not base64 of username:password", k)
		}
		auths[k] = dockerAuth{Username: user, Password: pass}
	}
	return auths, nil
}

// jsonError drops what a JSON error quotes of its input: only the kind
// of mistake and its offset remain.
func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q has the wrong type", te.Field)
	}
	return errors.New("invalid JSON")
}

// dockerHostMatch finds host's auth as docker's file store does: the
// entry keyed by host, else one whose key (scheme and path removed) is
// host.
func dockerHostMatch(auths map[string]dockerAuth, host string) (dockerAuth, bool) {
	if a, ok := auths[host]; ok {
		return a, true
	}
	keys := make([]string, 0, len(auths))
	for k := range auths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if h, _, _ := strings.Cut(stripScheme(k), "/"); h == host {
			return auths[k], true
		}
	}
	return dockerAuth{}, false
}

func stripScheme(s string) string {
	return strings.TrimPrefix(strings.TrimPrefix(s, "http://"), "https://")
}

// keyringMatch finds the auth of repository ("host[:port]/path") as the
// kubelet's credential keyring (go-containerregistry's k8schain) does: a
// key matches when its host (labels may be globs such as *.example.com)
// and port equal the repository's and its path is a prefix of the
// repository's path; the longest matching key (without scheme) wins.
func keyringMatch(auths map[string]dockerAuth, repository string) (dockerAuth, bool) {
	rh, rp, _ := strings.Cut(repository, "/")
	var best, bestKey string
	found := false
	for k := range auths {
		sk := strings.TrimSuffix(stripScheme(k), "/")
		kh, kp, _ := strings.Cut(sk, "/")
		if !hostGlobMatch(kh, rh) || !pathPrefix(kp, rp) {
			continue
		}
		if !found || len(sk) > len(best) || (len(sk) == len(best) && k < bestKey) {
			best, bestKey, found = sk, k, true
		}
	}
	return auths[bestKey], found
}

func hostGlobMatch(pattern, host string) bool {
	ph, pport, _ := strings.Cut(pattern, ":")
	hh, hport, _ := strings.Cut(host, ":")
	if pport != hport {
		return false
	}
	pl, hl := strings.Split(ph, "."), strings.Split(hh, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if ok, err := path.Match(pl[i], hl[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

func pathPrefix(prefix, p string) bool {
	return prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/")
}
