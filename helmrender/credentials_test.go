package helmrender_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

func secret(name string, typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: name}, Type: typ, Data: data}
}

func dockerConfig(name, host, user, pass string, authField bool) *corev1.Secret {
	entry := fmt.Sprintf(`{"username":%q,"password":%q}`, user, pass)
	if authField {
		entry = fmt.Sprintf(`{"auth":%q}`, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
	cfg := fmt.Sprintf(`{"auths":{"other.example.com":{"auth":"b3RoZXI6b3RoZXI="},%q:%s}}`, host, entry)
	return secret(name, corev1.SecretTypeDockerConfigJson, map[string][]byte{corev1.DockerConfigJsonKey: []byte(cfg)})
}

// load resolves src with its Secrets on a fresh Fetcher and cache, so
// that every case talks to the servers.
func load(t *testing.T, src helmrender.ChartSource, s helmrender.SourceSecrets) (*helmrender.Loaded, error) {
	t.Helper()
	src, err := helmrender.WithSecrets(src, s)
	if err != nil {
		return nil, err
	}
	return (&helmrender.Fetcher{CacheDir: t.TempDir()}).Load(context.Background(), src)
}

// assertNoSecrets fails when err shows any of the secret values.
func assertNoSecrets(t *testing.T, what string, err error, values ...[]byte) {
	t.Helper()
	if err == nil {
		return
	}
	for _, v := range values {
		if len(v) > 0 && strings.Contains(err.Error(), strings.TrimSpace(string(v))) {
			t.Errorf("%s: the error shows a Secret value: %v", what, err)
		}
	}
}

// TestFetchPrivateCA: an HTTPS chart repository and an OCI registry whose
// certificates a private CA signed are trusted only with that CA in
// certSecretRef's ca.crt (or, deprecated, caFile of a HelmRepository's
// secretRef); without it the error names the source and says where the
// CA goes.
func TestFetchPrivateCA(t *testing.T) {
	plain := testfleet.StartChartServers(t)
	s := testfleet.StartTLSChartServers(t, plain, nil)
	httpSrc := helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: s.HTTP.URL(), Chart: "webapp", Version: "0.1.x"}
	ociSrc := helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: "oci://" + s.OCIHost + "/charts", OCI: true, Chart: "webapp", Version: "0.2.0"}
	creds := secret("registry-creds", corev1.SecretTypeOpaque, map[string][]byte{"username": []byte(s.Username), "password": []byte(s.Password)})
	ca := secret("repo-ca", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": s.CA.PEM})

	for _, src := range []helmrender.ChartSource{httpSrc, ociSrc} {
		_, err := load(t, src, helmrender.SourceSecrets{Auth: creds})
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1") && !strings.Contains(err.Error(), s.OCIHost) ||
			!strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "ca.crt of the spec.certSecretRef Secret") {
			t.Errorf("%s without the private CA: %v", src.ID(), err)
		}
		t.Logf("%s without the private CA: %v", src.ID(), err)
		assertNoSecrets(t, src.ID(), err, []byte(s.Password))
	}
	for name, tc := range map[string]struct {
		src helmrender.ChartSource
		s   helmrender.SourceSecrets
	}{
		"http certSecretRef":     {httpSrc, helmrender.SourceSecrets{Cert: ca}},
		"http deprecated caFile": {httpSrc, helmrender.SourceSecrets{Auth: secret("legacy", corev1.SecretTypeOpaque, map[string][]byte{"caFile": s.CA.PEM})}},
		"oci certSecretRef":      {ociSrc, helmrender.SourceSecrets{Auth: creds, Cert: ca}},
		"oci deprecated caFile":  {ociSrc, helmrender.SourceSecrets{Auth: secret("legacy", corev1.SecretTypeOpaque, map[string][]byte{"caFile": s.CA.PEM, "username": []byte(s.Username), "password": []byte(s.Password)})}},
		"OCIRepository certSecretRef": {helmrender.ChartSource{Kind: helmrender.SourceOCIRepository, URL: "oci://" + s.Charts["webapp-0.1.0"].OCIRef, Version: "0.1.0"},
			helmrender.SourceSecrets{Auth: dockerConfig("regcred", s.OCIHost, s.Username, s.Password, true), Cert: ca}},
	} {
		l, err := load(t, tc.src, tc.s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if base, _, _ := strings.Cut(l.Version, "+"); base != "0.1.0" && base != "0.2.0" || l.Chart.Metadata.Name != "webapp" {
			t.Errorf("%s: loaded %s-%s", name, l.Chart.Metadata.Name, l.Version)
		}
	}
	// The wrong CA is still an unknown authority.
	other := testfleet.NewTestCA(t, "another CA")
	_, err := load(t, httpSrc, helmrender.SourceSecrets{Cert: secret("wrong-ca", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": other.PEM})})
	if err == nil || !strings.Contains(err.Error(), "TLS from Secret flux-system/wrong-ca") {
		t.Errorf("a CA that did not sign the server: %v", err)
	}
}

// TestFetchMutualTLS: servers that require a client certificate refuse a
// client without one with an error that says to set tls.crt and tls.key
// and names the Secret; with certSecretRef's tls.crt/tls.key (or the
// deprecated certFile/keyFile of a HelmRepository's secretRef) the
// charts load. Errors never show the key.
func TestFetchMutualTLS(t *testing.T) {
	plain := testfleet.StartChartServers(t)
	clientCA := testfleet.NewTestCA(t, "client CA")
	s := testfleet.StartTLSChartServers(t, plain, clientCA)
	crt, key := clientCA.Issue(t, "c5c3-diff", false)
	strangerCrt, strangerKey := testfleet.NewTestCA(t, "stranger").Issue(t, "stranger", false)
	httpSrc := helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: s.HTTP.URL(), Chart: "webapp", Version: "0.2.0"}
	ociSrc := helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: "oci://" + s.OCIHost + "/charts", OCI: true, Chart: "webapp", Version: "0.1.0"}
	ociRepo := helmrender.ChartSource{Kind: helmrender.SourceOCIRepository, URL: "oci://" + s.Charts["webapp-0.2.0"].OCIRef, Version: "0.2.x"}
	regcred := dockerConfig("regcred", s.OCIHost, s.Username, s.Password, false)

	for _, tc := range []struct {
		name     string
		src      helmrender.ChartSource
		auth     *corev1.Secret
		cert     map[string][]byte
		wantHint string
	}{
		{"http, CA only", httpSrc, nil, map[string][]byte{"ca.crt": s.CA.PEM}, "tls.crt and tls.key"},
		{"http, a certificate of another CA", httpSrc, nil, map[string][]byte{"ca.crt": s.CA.PEM, "tls.crt": strangerCrt, "tls.key": strangerKey}, "tls.crt and tls.key"},
		{"oci, CA only", ociSrc, regcred, map[string][]byte{"ca.crt": s.CA.PEM}, "tls.crt and tls.key"},
		{"OCIRepository, CA only", ociRepo, regcred, map[string][]byte{"ca.crt": s.CA.PEM}, "tls.crt and tls.key"},
	} {
		_, err := load(t, tc.src, helmrender.SourceSecrets{Auth: tc.auth, Cert: secret("client-tls", corev1.SecretTypeTLS, tc.cert)})
		if err == nil || !strings.Contains(err.Error(), tc.wantHint) || !strings.Contains(err.Error(), "Secret flux-system/client-tls") ||
			!strings.Contains(err.Error(), tc.src.ID()) {
			t.Errorf("%s: %v", tc.name, err)
		}
		t.Logf("%s: %v", tc.name, err)
		assertNoSecrets(t, tc.name, err, strangerKey, key, []byte(s.Password))
	}

	mtls := secret("client-tls", corev1.SecretTypeTLS, map[string][]byte{"ca.crt": s.CA.PEM, "tls.crt": crt, "tls.key": key})
	for name, tc := range map[string]struct {
		src helmrender.ChartSource
		s   helmrender.SourceSecrets
	}{
		"http":          {httpSrc, helmrender.SourceSecrets{Cert: mtls}},
		"oci":           {ociSrc, helmrender.SourceSecrets{Auth: regcred, Cert: mtls}},
		"OCIRepository": {ociRepo, helmrender.SourceSecrets{Auth: regcred, Cert: mtls}},
		"http, deprecated keys of secretRef": {httpSrc, helmrender.SourceSecrets{Auth: secret("legacy-tls", corev1.SecretTypeOpaque,
			map[string][]byte{"caFile": s.CA.PEM, "certFile": crt, "keyFile": key})}},
	} {
		if l, err := load(t, tc.src, tc.s); err != nil {
			t.Errorf("%s with a client certificate: %v", name, err)
		} else if l.Chart.Metadata.Name != "webapp" {
			t.Errorf("%s: loaded %s", name, l.Chart.Metadata.Name)
		}
	}
	// certSecretRef wins over deprecated TLS keys of secretRef.
	_, err := load(t, httpSrc, helmrender.SourceSecrets{Cert: secret("ca-only", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": s.CA.PEM}),
		Auth: secret("legacy-tls", corev1.SecretTypeOpaque, map[string][]byte{"certFile": crt, "keyFile": key})})
	if err == nil || !strings.Contains(err.Error(), "tls.crt and tls.key") {
		t.Errorf("certSecretRef did not win over secretRef's TLS keys: %v", err)
	}
}

// TestFetchDockerConfigCredentials pulls from helm's test OCI registry
// (basic auth) with kubernetes.io/dockerconfigjson Secrets: the auth of
// the registry host, as "auth" or username/password; a wrong password is
// an error naming the source and the Secret but not the password; a
// Secret without the host is an error for a HelmRepository and anonymous
// access for an OCIRepository, as in source-controller; an Opaque Secret
// is ignored for an OCIRepository and said so when the registry refuses.
func TestFetchDockerConfigCredentials(t *testing.T) {
	s := testfleet.StartChartServers(t)
	helmOCI := helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: "oci://" + s.OCIHost + "/charts", OCI: true, Insecure: true, Chart: "webapp", Version: "0.1.x"}
	ociRepo := helmrender.ChartSource{Kind: helmrender.SourceOCIRepository, URL: "oci://" + s.Charts["webapp-0.2.0"].OCIRef, Insecure: true, Version: "0.2.0"}
	for name, tc := range map[string]struct {
		src  helmrender.ChartSource
		auth *corev1.Secret
	}{
		"HelmRepository, auth":              {helmOCI, dockerConfig("regcred", s.OCIHost, s.Username, s.Password, true)},
		"HelmRepository, username/password": {helmOCI, dockerConfig("regcred", s.OCIHost, s.Username, s.Password, false)},
		"HelmRepository, https:// key":      {helmOCI, dockerConfig("regcred", "https://"+s.OCIHost+"/v1/", s.Username, s.Password, true)},
		"HelmRepository, Opaque":            {helmOCI, secret("basic", corev1.SecretTypeOpaque, map[string][]byte{"username": []byte(s.Username), "password": []byte(s.Password)})},
		"OCIRepository, auth":               {ociRepo, dockerConfig("regcred", s.OCIHost, s.Username, s.Password, true)},
		"OCIRepository, repository path":    {ociRepo, dockerConfig("regcred", s.OCIHost+"/charts", s.Username, s.Password, false)},
	} {
		if _, err := load(t, tc.src, helmrender.SourceSecrets{Auth: tc.auth}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, tc := range map[string]struct {
		src   helmrender.ChartSource
		auth  *corev1.Secret
		wants []string
	}{
		"HelmRepository, wrong password": {helmOCI, dockerConfig("regcred", s.OCIHost, s.Username, "wrong-pa55word", true),
			[]string{s.OCIHost, "refused access", "credentials from Secret flux-system/regcred"}},
		"OCIRepository, wrong password": {ociRepo, dockerConfig("regcred", s.OCIHost, s.Username, "wrong-pa55word", false),
			[]string{s.Charts["webapp-0.2.0"].OCIRef, "refused access", "credentials from Secret flux-system/regcred"}},
		"HelmRepository, no auth for the host": {helmOCI, dockerConfig("regcred", "registry.example.com", s.Username, "wrong-pa55word", true),
			[]string{`no auth config for "` + s.OCIHost + `"`, "flux-system/regcred"}},
		"OCIRepository, no auth for the host": {ociRepo, dockerConfig("regcred", "registry.example.com", s.Username, "wrong-pa55word", true),
			[]string{"requires credentials", "Secret flux-system/regcred has no auth for " + s.OCIHost}},
		"OCIRepository, Opaque Secret": {ociRepo, secret("basic", corev1.SecretTypeOpaque, map[string][]byte{"username": []byte(s.Username), "password": []byte("wrong-pa55word")}),
			[]string{"requires credentials", `Secret flux-system/basic is ignored: it is of type "Opaque"`}},
	} {
		_, err := load(t, tc.src, helmrender.SourceSecrets{Auth: tc.auth})
		if err == nil {
			t.Errorf("%s: loaded", name)
			continue
		}
		for _, w := range tc.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q: %v", name, w, err)
			}
		}
		t.Logf("%s: %v", name, err)
		assertNoSecrets(t, name, err, []byte("wrong-pa55word"), []byte(s.Password), tc.auth.Data[corev1.DockerConfigJsonKey])
	}
}

// TestSharedLoadPerCredentials: on one Fetcher, two sources of the same
// chart with different credentials are loaded apart (the wrong password
// fails, the right one loads, in either order), and sources with the same
// Secret share one load.
func TestSharedLoadPerCredentials(t *testing.T) {
	s := testfleet.StartChartServers(t)
	src := helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: "oci://" + s.OCIHost + "/charts", OCI: true, Insecure: true, Chart: "webapp", Version: "0.1.0"}
	good := dockerConfig("regcred", s.OCIHost, s.Username, s.Password, true)
	bad := dockerConfig("regcred", s.OCIHost, s.Username, "wrong-pa55word", true)
	f := &helmrender.Fetcher{CacheDir: t.TempDir()}
	get := func(sec *corev1.Secret) (*helmrender.Loaded, error) {
		c, err := helmrender.WithSecrets(src, helmrender.SourceSecrets{Auth: sec})
		if err != nil {
			t.Fatal(err)
		}
		return f.Load(context.Background(), c)
	}
	if _, err := get(bad); err == nil {
		t.Error("the wrong password loaded the chart")
	}
	l1, err := get(good)
	if err != nil {
		t.Fatalf("the right password after a wrong one: %v", err)
	}
	if _, err := get(bad); err == nil {
		t.Error("the wrong password got the load of the right one")
	}
	if l2, err := get(good); err != nil || l2 != l1 {
		t.Errorf("the same Secret loaded the chart again: %v", err)
	}
}

func TestKeyringMatch(t *testing.T) {
	auths := map[string]string{
		"registry.example.com":               "host",
		"https://registry.example.com/team":  "team",
		"registry.example.com/team/charts":   "charts",
		"*.mirror.example.com":               "glob",
		"registry.example.com:5000":          "port",
		"other.example.com/registry.example": "other",
	}
	for repo, want := range map[string]string{
		"registry.example.com/app":             "host",
		"registry.example.com/team/app":        "team",
		"registry.example.com/team/charts/x":   "charts",
		"registry.example.com/teamster/app":    "host",
		"eu.mirror.example.com/app":            "glob",
		"registry.example.com:5000/app":        "port",
		"deep.eu.mirror.example.com/app":       "",
		"registry.example.com:5001/team/app":   "",
		"unknown.example.com/registry.example": "",
	} {
		got, ok := helmrender.KeyringMatch(auths, repo)
		if got != want || ok != (want != "") {
			t.Errorf("%s: matched %q (%v), want %q", repo, got, ok, want)
		}
	}
}

func TestSendCredentials(t *testing.T) {
	src := helmrender.ChartSource{URL: "https://charts.example.com/stable", Username: "u", Password: "p"}
	pass := src
	pass.PassCredentials = true
	for _, tc := range []struct {
		src  helmrender.ChartSource
		url  string
		want bool
	}{
		{src, "https://charts.example.com/stable/webapp-0.1.0.tgz", true},
		{src, "https://cdn.example.com/webapp-0.1.0.tgz", false},
		{src, "http://charts.example.com/stable/webapp-0.1.0.tgz", false},
		{src, "https://charts.example.com:8443/webapp-0.1.0.tgz", false},
		{pass, "https://cdn.example.com/webapp-0.1.0.tgz", true},
		{helmrender.ChartSource{URL: src.URL, Username: "u"}, src.URL + "/index.yaml", false},
	} {
		if got := helmrender.SendCredentials(tc.src, tc.url); got != tc.want {
			t.Errorf("passCredentials=%v %s: %v, want %v", tc.src.PassCredentials, tc.url, got, tc.want)
		}
	}
}

// TestWithSecretsErrors: malformed Secrets are errors naming the Secret and
// the key, never a value.
func TestWithSecretsErrors(t *testing.T) {
	const value = "sup3r-s3cret-value"
	http := helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: "https://charts.example.com", Chart: "webapp"}
	oci := helmrender.ChartSource{Kind: helmrender.SourceHelmRepository, URL: "oci://registry.example.com/charts", OCI: true, Chart: "webapp"}
	for _, tc := range []struct {
		name string
		src  helmrender.ChartSource
		s    helmrender.SourceSecrets
		want string
	}{
		{"certificate without key", http, helmrender.SourceSecrets{Cert: secret("tls", "", map[string][]byte{"tls.crt": []byte(value)})}, "flux-system/tls: it has tls.crt but no tls.key"},
		{"key without certificate", http, helmrender.SourceSecrets{Cert: secret("tls", "", map[string][]byte{"keyFile": []byte(value)})}, "it has keyFile but no tls.crt"},
		{"empty certSecretRef", http, helmrender.SourceSecrets{Cert: secret("tls", "", map[string][]byte{"x": []byte(value)})}, "it has none of ca.crt, tls.crt and tls.key"},
		{"bad pair", http, helmrender.SourceSecrets{Cert: secret("tls", "", map[string][]byte{"tls.crt": []byte(value), "tls.key": []byte(value)})}, "tls.crt and tls.key are not a valid certificate and key pair"},
		{"bad CA", http, helmrender.SourceSecrets{Cert: secret("tls", "", map[string][]byte{"ca.crt": []byte(value)})}, "ca.crt holds no PEM certificate"},
		{"bad deprecated CA", http, helmrender.SourceSecrets{Auth: secret("auth", "", map[string][]byte{"caFile": []byte(value)})}, "TLS keys of spec.secretRef: Secret flux-system/auth: caFile holds no PEM"},
		{"username without password", http, helmrender.SourceSecrets{Auth: secret("auth", "", map[string][]byte{"username": []byte(value)})}, "Secret flux-system/auth has username but not password"},
		{"not JSON", oci, helmrender.SourceSecrets{Auth: secret("regcred", corev1.SecretTypeDockerConfigJson, map[string][]byte{".dockerconfigjson": []byte(value)})}, ".dockerconfigjson is not a docker config: invalid JSON at byte 1"},
		{"bad auth", oci, helmrender.SourceSecrets{Auth: secret("regcred", corev1.SecretTypeDockerConfigJson,
			map[string][]byte{".dockerconfigjson": []byte(`{"auths":{"registry.example.com":{"auth":"` + value + `"}}}`)})}, `the auth of "registry.example.com" is not base64 of username:password`},
		{"half an auth", oci, helmrender.SourceSecrets{Auth: dockerConfig("regcred", "registry.example.com", "", value, false)}, "needs both a username and a password"},
	} {
		_, err := helmrender.WithSecrets(tc.src, tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), value) {
			t.Errorf("%s: %v, want %q without the value", tc.name, err, tc.want)
		}
	}
	// A secretRef with only credentials has no deprecated TLS keys: no TLS.
	src, err := helmrender.WithSecrets(http, helmrender.SourceSecrets{Auth: secret("auth", "", map[string][]byte{"username": []byte("u"), "password": []byte(value)})})
	if err != nil || src.TLS != nil || src.Username != "u" || src.Password != value || strings.Contains(src.AuthHint, value) {
		t.Errorf("basic auth: %v, %+v", err, src)
	}
}
