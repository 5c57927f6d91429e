package status

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

var now = time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)

// certPEM makes a real self-signed certificate valid until notAfter.
func certPEM(t *testing.T, notAfter time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: notAfter.Add(-400 * 24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// jwt builds an unsigned-looking JWT with the given payload JSON.
func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"k"}`)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJlLW11c3Qtbm90LWxlYWs"
}

func TestExpiryCheck(t *testing.T) {
	for _, tc := range []struct {
		left  time.Duration
		state string
		word  string
	}{
		{-48 * time.Hour, AccessFailed, "expired 2d ago"},
		{0, AccessFailed, "expired"},
		{3 * 24 * time.Hour, AccessCritical, "expires in 3d"},
		{7*24*time.Hour - time.Second, AccessCritical, "expires in"},
		{7 * 24 * time.Hour, AccessWarning, "expires in 7d"},
		{30*24*time.Hour - time.Second, AccessWarning, "expires in"},
		{30 * 24 * time.Hour, AccessOK, "valid until"},
	} {
		c := expiryCheck(CheckClientCertificate, "client certificate", "Secret/ns/s", now.Add(tc.left), now)
		if c.State != tc.state || !strings.Contains(c.Message, tc.word) || !strings.Contains(c.Message, "Secret/ns/s") {
			t.Errorf("%v left: %s %q, want %s and %q", tc.left, c.State, c.Message, tc.state, tc.word)
		}
		if c.Expires == nil || !c.Expires.Equal(now.Add(tc.left)) {
			t.Errorf("%v left: expires %v", tc.left, c.Expires)
		}
		if got := c.Failing(); got != (tc.state == AccessCritical || tc.state == AccessFailed) {
			t.Errorf("%v left: Failing() = %v", tc.left, got)
		}
	}
}

func TestJWTExpiry(t *testing.T) {
	exp := now.Add(72 * time.Hour)
	for _, tc := range []struct {
		name          string
		token         string
		hasExp, isJWT bool
	}{
		{"jwt with exp", jwt(fmt.Sprintf(`{"sub":"system:serviceaccount:a:b","exp":%d}`, exp.Unix())), true, true},
		{"jwt padded", strings.Replace(jwt(fmt.Sprintf(`{"exp":%d}`, exp.Unix())), ".", "==.", 1), true, true},
		{"jwt without exp", jwt(`{"sub":"x"}`), false, true},
		{"jwt with garbage payload", jwt(`not json`), false, true},
		{"jwt with exp beyond year 9999", jwt(`{"exp":1e300}`), false, true},
		{"jwt with negative exp", jwt(`{"exp":-5}`), false, true},
		{"opaque token", "abcdef.0123456789abcdef", false, false},
		{"three parts, not base64 JSON", "a.b.c", false, false},
		{"header without alg", base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT"}`)) + ".e30.x", false, false},
	} {
		got, hasExp, isJWT := jwtExpiry(tc.token)
		if hasExp != tc.hasExp || isJWT != tc.isJWT || (hasExp && !got.Equal(exp)) {
			t.Errorf("%s: exp %v hasExp %v isJWT %v", tc.name, got, hasExp, isJWT)
		}
	}
}

// TestCredentialChecksNeverQuoteCredentials: whatever state, no message
// holds the token or a part of it, nor certificate data.
func TestCredentialChecksNeverQuoteCredentials(t *testing.T) {
	for _, left := range []time.Duration{-time.Hour, 3 * 24 * time.Hour, 20 * 24 * time.Hour, 400 * 24 * time.Hour} {
		token := jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(left).Unix()))
		cert := certPEM(t, now.Add(left))
		cfg := &rest.Config{BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CertData: cert, CAData: append(certPEM(t, now.Add(10*365*24*time.Hour)), cert...)}}
		checks := credentialChecks("Secret/ns/spoke-kubeconfig", cfg, now)
		if len(checks) != 3 {
			t.Fatalf("%v: %d checks, want certificate, CA and token: %+v", left, len(checks), checks)
		}
		for i, want := range []string{CheckClientCertificate, CheckCertificateAuthority, CheckToken} {
			if checks[i].Check != want {
				t.Errorf("check %d is %s, want %s", i, checks[i].Check, want)
			}
			// The CA bundle's earliest certificate counts.
			if !checks[i].Expires.Equal(now.Add(left).Truncate(time.Second)) {
				t.Errorf("%s expires %v, want %v", want, checks[i].Expires, now.Add(left))
			}
		}
		for _, c := range checks {
			text := c.Message + c.short
			for _, part := range append(strings.Split(token, "."), token, string(cert[30:60])) {
				if strings.Contains(text, part) {
					t.Fatalf("message quotes a credential: %q", text)
				}
			}
		}
	}
	if got := credentialChecks("Secret/ns/s", &rest.Config{BearerToken: "opaque-token"}, now); len(got) != 0 {
		t.Errorf("opaque token: %+v, want no check", got)
	}
	bad := credentialChecks("Secret/ns/s", &rest.Config{TLSClientConfig: rest.TLSClientConfig{CertData: []byte("not pem")}}, now)
	if len(bad) != 1 || bad[0].State != AccessFailed || !strings.Contains(bad[0].Message, "Secret/ns/s") || strings.Contains(bad[0].Message, "not pem") {
		t.Errorf("unparsable certificate: %+v", bad)
	}
}

func TestSkewCheck(t *testing.T) {
	for _, tc := range []struct {
		hub, spoke string
		state      string
		skew       int
		word       string
	}{
		{"v1.37.2", "v1.37.0", AccessOK, 0, "the hub's minor version"},
		{"v1.37.2", "v1.36.5", AccessOK, -1, "1 minor version behind"},
		{"v1.37.2", "v1.38.0", AccessOK, 1, "1 minor version ahead"},
		{"v1.37.2", "v1.34.1+k3s1", AccessWarning, -3, "3 minor versions behind"},
	} {
		c, ok := skewCheck(tc.hub, tc.spoke)
		if !ok || c.State != tc.state || c.MinorSkew == nil || *c.MinorSkew != tc.skew || !strings.Contains(c.Message, tc.word) {
			t.Errorf("%s vs %s: %+v", tc.spoke, tc.hub, c)
		}
	}
	if _, ok := skewCheck("v1.37.2", "weird"); ok {
		t.Error("unparsable version must give no check")
	}
}

func TestFluxAPICheck(t *testing.T) {
	// As discovery builds it: each served version registered for its group.
	mapper := func(gvks ...schema.GroupVersionKind) meta.RESTMapper {
		var gvs []schema.GroupVersion
		for _, gvk := range gvks {
			gvs = append(gvs, gvk.GroupVersion())
		}
		m := meta.NewDefaultRESTMapper(gvs)
		for _, gvk := range gvks {
			m.Add(gvk, meta.RESTScopeNamespace)
		}
		return m
	}
	ks, hr := FluxAPIs[0], FluxAPIs[1]
	if c := fluxAPICheck(mapper(ks, hr)); c.State != AccessOK || !strings.Contains(c.Message, "Kustomization v1, HelmRelease v2") {
		t.Errorf("as expected: %+v", c)
	}
	c := fluxAPICheck(mapper(ks, hr, schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v2", Kind: "Kustomization"}))
	if c.State != AccessWarning || !strings.Contains(c.Message, "Kustomization is served as v2 too") {
		t.Errorf("newer version: %+v", c)
	}
	if c := fluxAPICheck(mapper(ks, schema.GroupVersionKind{Group: "helm.toolkit.fluxcd.io", Version: "v3", Kind: "HelmRelease"})); c.State != AccessFailed || !strings.Contains(c.Message, "HelmRelease is served as v3, not helm.toolkit.fluxcd.io/v2") {
		t.Errorf("missing version: %+v", c)
	}
}

func TestInventoryTargets(t *testing.T) {
	ks := &kustomizev1.Kustomization{}
	o := fleet.Object{Kind: fleet.KindKustomization, Kustomization: ks}
	if _, has, _ := inventoryTargets(o); has {
		t.Error("no inventory yet must say so")
	}
	ks.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{
		{ID: "keystone_api_apps_Deployment", Version: "v1"},
		{ID: "keystone_web_apps_Deployment", Version: "v1"},
		{ID: "keystone_cfg__ConfigMap", Version: "v1"},
		{ID: "_keystone__Namespace", Version: "v1"},
	}}
	got, has, err := inventoryTargets(o)
	want := []accessTarget{{"", "ConfigMap", "keystone"}, {"apps", "Deployment", "keystone"}, {"", "Namespace", ""}}
	if err != nil || !has || !reflect.DeepEqual(got, want) {
		t.Errorf("targets %v %v %v, want %v", got, has, err, want)
	}
	if s := want[1].String() + "; " + want[2].String(); s != "Deployment.apps in keystone; Namespace (cluster-scoped)" {
		t.Errorf("target names: %s", s)
	}
	hr := &helmv2.HelmRelease{}
	hr.Status.Inventory = &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{{ID: "bad-id"}}}
	if _, _, err := inventoryTargets(fleet.Object{Kind: fleet.KindHelmRelease, HelmRelease: hr}); err == nil {
		t.Error("a malformed inventory entry must be an error")
	}
}

func TestSummarizeAccess(t *testing.T) {
	r := &Report{Hub: Hub{Access: []AccessCheck{{State: AccessWarning}}}, Clusters: []Cluster{
		{Reachable: true, Access: []AccessCheck{{State: AccessOK}, {State: AccessWarning}}},
	}}
	if s := summarize(r); !s.Healthy || s.AccessWarnings != 2 || s.AccessFailing != 0 {
		t.Errorf("warnings only: %+v", s)
	}
	r.Clusters[0].Access = append(r.Clusters[0].Access, AccessCheck{State: AccessCritical})
	if s := summarize(r); s.Healthy || s.AccessFailing != 1 {
		t.Errorf("critical: %+v", s)
	}
	filterFailing(r)
	if len(r.Clusters) != 1 || len(r.Clusters[0].Access) != 1 || r.Clusters[0].Access[0].State != AccessCritical || len(r.Hub.Access) != 0 {
		t.Errorf("--failing keeps %+v / hub %+v", r.Clusters, r.Hub.Access)
	}
}

// tokenMessage is every message a token check may print: fixed words,
// the Secret, a duration and a time — nothing taken from the token.
var tokenMessage = regexp.MustCompile(`^bearer token \(JWT\) of Secret/ns/s (has no exp claim that can be read|valid until ` + stamp +
	`|expires in ` + dur + ` \(` + stamp + `\)(: renew it now)?|expired ` + dur + ` ago \(` + stamp + `\): the cluster refuses it; put a new one in the Secret)$`)

const (
	stamp = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`
	dur   = `[0-9ydhms]+`
)

// FuzzTokenCheck: whatever the bearer token, its access check says
// nothing but fixed words, the Secret's name, a duration and a time.
func FuzzTokenCheck(f *testing.F) {
	f.Add(jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(72*time.Hour).Unix())))
	f.Add(jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(-72*time.Hour).Unix())))
	f.Add(jwt(`{"exp":"soon"}`))
	f.Add(jwt(`{"exp":1e300}`))
	f.Add("opaque-token-value")
	f.Fuzz(func(t *testing.T, token string) {
		c, ok := tokenCheck("Secret/ns/s", token, now)
		if !ok {
			return
		}
		if !tokenMessage.MatchString(c.Message) {
			t.Fatalf("unexpected message %q", c.Message)
		}
		for _, part := range append(strings.Split(token, "."), token) {
			if len(part) >= 8 && strings.Contains(c.short, part) {
				t.Fatalf("short form quotes the token: %q", c.short)
			}
		}
	})
}
