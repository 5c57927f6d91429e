package status

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/rest"

	"github.com/c5c3/kubectl-c5c3/kube"
)

// credentialChecks inspects the credentials of a spoke's REST config, made
// from the kubeconfig Secret ref: the client certificate's and the CA's
// NotAfter and a JWT bearer token's exp claim. Nothing of a credential
// goes into a message.
func credentialChecks(ref string, cfg *rest.Config, now time.Time) []AccessCheck {
	var out []AccessCheck
	if len(cfg.CertData) > 0 {
		out = append(out, certCheck(CheckClientCertificate, "client certificate", ref, cfg.CertData, now))
	}
	if len(cfg.CAData) > 0 {
		out = append(out, certCheck(CheckCertificateAuthority, "CA certificate", ref, cfg.CAData, now))
	}
	if cfg.BearerToken != "" {
		if c, ok := tokenCheck(ref, cfg.BearerToken, now); ok {
			out = append(out, c)
		}
	}
	return out
}

// workloadTokenCheck reports the lifetime of a workload-identity token
// (spec.kubeConfig.configMapRef). Such tokens live an hour or so by
// design and are renewed before they expire, by Flux and by the plugin:
// a short lifetime is not a warning. The check fails only when the token
// came already expired (a clock skew between the user's machine and the
// token issuer).
func workloadTokenCheck(ref string, t *kube.TokenInfo) AccessCheck {
	exp := t.ExpiresAt.UTC()
	c := AccessCheck{Check: CheckToken, State: AccessOK, Expires: &exp}
	what := fmt.Sprintf("workload identity token (%s, %s)", t.Provider, t.Identity)
	if t.Lifetime <= 0 {
		c.State = AccessFailed
		c.Message = fmt.Sprintf("%s of %s expired when issued (%s): check the clock of this machine", what, ref, exp.Format(time.RFC3339))
		c.short = "token expired when issued"
		return c
	}
	c.Message = fmt.Sprintf("%s of %s lives %s, until %s; renewed before it expires", what, ref, duration.HumanDuration(t.Lifetime), exp.Format(time.RFC3339))
	c.short = "workload identity token lives " + duration.HumanDuration(t.Lifetime)
	return c
}

// certCheck checks the earliest NotAfter of the PEM certificates in data
// (a CA bundle may hold several; a client certificate's chain starts with
// the leaf, which never outlives its issuers in practice).
func certCheck(check, what, ref string, data []byte, now time.Time) AccessCheck {
	var earliest time.Time
	remaining := data
	for {
		var block *pem.Block
		block, remaining = pem.Decode(remaining)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			continue
		}
		if earliest.IsZero() || cert.NotAfter.Before(earliest) {
			earliest = cert.NotAfter
		}
	}
	if earliest.IsZero() {
		return AccessCheck{Check: check, State: AccessFailed,
			Message: fmt.Sprintf("%s of %s holds no PEM certificate that can be parsed", what, ref), short: what + " unreadable"}
	}
	return expiryCheck(check, what, ref, earliest, now)
}

// tokenCheck reads the exp claim of a bearer token that is a JWT; ok is
// false for an opaque token, whose expiry cannot be known. The signature
// is not verified: the claim is only read to warn.
func tokenCheck(ref, token string, now time.Time) (AccessCheck, bool) {
	exp, hasExp, isJWT := jwtExpiry(token)
	if !isJWT {
		return AccessCheck{}, false
	}
	if !hasExp {
		return AccessCheck{Check: CheckToken, State: AccessOK,
			Message: fmt.Sprintf("bearer token (JWT) of %s has no exp claim that can be read", ref), short: "token without expiry"}, true
	}
	return expiryCheck(CheckToken, "bearer token (JWT)", ref, exp, now), true
}

// maxExp is 9999-12-31T23:59:59Z in Unix seconds.
const maxExp = 253402300799

// jwtExpiry parses a JWT's header and payload (never its signature) for
// the exp claim.
func jwtExpiry(token string) (exp time.Time, hasExp, isJWT bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false, false
	}
	decode := func(s string) ([]byte, error) {
		return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	hdr, err := decode(parts[0])
	if err != nil {
		return time.Time{}, false, false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hdr, &h) != nil || h.Alg == "" {
		return time.Time{}, false, false
	}
	payload, err := decode(parts[1])
	if err != nil {
		return time.Time{}, false, true
	}
	var p struct {
		Exp *float64 `json:"exp"`
	}
	// Outside 1970..9999 the claim is not a time anyone meant.
	if json.Unmarshal(payload, &p) != nil || p.Exp == nil || math.IsNaN(*p.Exp) || *p.Exp < 0 || *p.Exp > maxExp {
		return time.Time{}, false, true
	}
	return time.Unix(int64(*p.Exp), 0).UTC(), true, true
}

// expiryCheck grades an expiry time: Failed when past, Critical within
// CriticalBefore, Warning within WarnBefore, else OK.
func expiryCheck(check, what, ref string, notAfter, now time.Time) AccessCheck {
	left := notAfter.Sub(now)
	at := notAfter.UTC().Format(time.RFC3339)
	exp := notAfter.UTC()
	c := AccessCheck{Check: check, Expires: &exp}
	switch {
	case left <= 0:
		c.State = AccessFailed
		c.Message = fmt.Sprintf("%s of %s expired %s ago (%s): the cluster refuses it; put a new one in the Secret", what, ref, duration.HumanDuration(-left), at)
		c.short = what + " expired"
	case left < CriticalBefore:
		c.State = AccessCritical
		c.Message = fmt.Sprintf("%s of %s expires in %s (%s): renew it now", what, ref, duration.HumanDuration(left), at)
		c.short = what + " expires in " + duration.HumanDuration(left)
	case left < WarnBefore:
		c.State = AccessWarning
		c.Message = fmt.Sprintf("%s of %s expires in %s (%s)", what, ref, duration.HumanDuration(left), at)
		c.short = what + " expires in " + duration.HumanDuration(left)
	default:
		c.State = AccessOK
		c.Message = fmt.Sprintf("%s of %s valid until %s", what, ref, at)
		c.short = what + " valid " + duration.HumanDuration(left)
	}
	return c
}
