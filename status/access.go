package status

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/version"
	kversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// Kinds of access checks (AccessCheck.Check).
const (
	// CheckClientCertificate is the kubeconfig's client certificate expiry.
	CheckClientCertificate = "ClientCertificate"
	// CheckCertificateAuthority is the expiry of the kubeconfig's CA data.
	CheckCertificateAuthority = "CertificateAuthority"
	// CheckToken is the exp claim of a bearer token that is a JWT.
	CheckToken = "Token"
	// CheckVersionSkew compares a spoke's Kubernetes minor version with the hub's.
	CheckVersionSkew = "VersionSkew"
	// CheckFluxAPI compares the Flux API versions the hub serves with the
	// ones the plugin reads.
	CheckFluxAPI = "FluxAPI"
	// CheckServiceAccount asks whether spec.serviceAccountName may patch
	// the kinds of the object's inventory (--check-access).
	CheckServiceAccount = "ServiceAccount"
)

// States of an access check, from good to bad.
const (
	AccessOK = "OK"
	// AccessWarning: expires within WarnBefore, or a version skew; does not
	// change the exit code.
	AccessWarning = "Warning"
	// AccessCritical: expires within CriticalBefore; exit code 1.
	AccessCritical = "Critical"
	// AccessFailed: expired, denied, not served or not checkable; exit code 1.
	AccessFailed = "Failed"
)

// Expiry thresholds of certificates and tokens.
const (
	WarnBefore     = 30 * 24 * time.Hour
	CriticalBefore = 7 * 24 * time.Hour
)

// accessRank orders states for "worst of".
var accessRank = map[string]int{AccessOK: 0, AccessWarning: 1, AccessCritical: 2, AccessFailed: 3}

// worstAccess returns the worst state of checks (OK for none).
func worstAccess(checks []AccessCheck) string {
	worst := AccessOK
	for _, c := range checks {
		if accessRank[c.State] > accessRank[worst] {
			worst = c.State
		}
	}
	return worst
}

// Failing reports whether the check fails the run (exit code 1).
func (c AccessCheck) Failing() bool { return c.State == AccessCritical || c.State == AccessFailed }

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

// skewCheck compares a spoke's server version with the hub's: more than
// one minor version apart is a warning (Flux on the hub applies to the
// spoke with the hub's API knowledge).
func skewCheck(hub, spoke string) (AccessCheck, bool) {
	hv, err := version.ParseGeneric(hub)
	if err != nil {
		return AccessCheck{}, false
	}
	sv, err := version.ParseGeneric(spoke)
	if err != nil {
		return AccessCheck{}, false
	}
	c := AccessCheck{Check: CheckVersionSkew, State: AccessOK}
	if hv.Major() != sv.Major() {
		c.State = AccessWarning
		c.Message = fmt.Sprintf("Kubernetes %s, another major version than the hub's %s", spoke, hub)
		c.short = "major version differs from the hub"
		return c, true
	}
	d := int(sv.Minor()) - int(hv.Minor())
	skew := d
	if skew < 0 {
		skew = -skew
	}
	c.MinorSkew = &d
	switch {
	case d == 0:
		c.Message = fmt.Sprintf("Kubernetes %s, the hub's minor version (%s)", spoke, hub)
		c.short = "same minor as the hub"
		return c, true
	case d < 0:
		c.Message = fmt.Sprintf("Kubernetes %s, %s behind the hub's %s", spoke, plural(skew, "minor version"), hub)
		c.short = plural(skew, "minor") + " behind the hub"
	default:
		c.Message = fmt.Sprintf("Kubernetes %s, %s ahead of the hub's %s", spoke, plural(skew, "minor version"), hub)
		c.short = plural(skew, "minor") + " ahead of the hub"
	}
	if skew > 1 {
		c.State = AccessWarning
		c.Message += ": more than one minor version apart"
	}
	return c, true
}

// FluxAPIs are the Flux kinds and versions the plugin reads on the hub.
var FluxAPIs = []schema.GroupVersionKind{
	kustomizev1.GroupVersion.WithKind(fleet.KindKustomization),
	helmv2.GroupVersion.WithKind(fleet.KindHelmRelease),
	fleet.SourceGroupVersion.WithKind("GitRepository"),
	fleet.SourceGroupVersion.WithKind("OCIRepository"),
	fleet.SourceGroupVersion.WithKind("HelmChart"),
	fleet.FluxReportGVK,
}

// fluxAPICheck compares the versions the hub serves of each Flux kind
// with FluxAPIs, from the RESTMapper's discovery cache (filled by
// discovery already). A kind the hub does not have is skipped; one not
// served at the plugin's version fails; a newer version served beside it
// is a warning.
func fluxAPICheck(mapper meta.RESTMapper) AccessCheck {
	c := AccessCheck{Check: CheckFluxAPI, State: AccessOK}
	var problems, ok []string
	for _, want := range FluxAPIs {
		mappings, err := mapper.RESTMappings(want.GroupKind())
		if kube.IsNoMatch(err) {
			continue
		}
		if err != nil {
			c.State = AccessFailed
			problems = append(problems, fmt.Sprintf("%s: %v", want.Kind, err))
			continue
		}
		var served, newer []string
		found := false
		for _, m := range mappings {
			v := m.GroupVersionKind.Version
			served = append(served, v)
			if v == want.Version {
				found = true
			} else if kversion.CompareKubeAwareVersionStrings(v, want.Version) > 0 {
				newer = append(newer, v)
			}
		}
		switch {
		case !found:
			c.State = AccessFailed
			problems = append(problems, fmt.Sprintf("%s is served as %s, not %s as the plugin reads it: use a plugin built for this Flux version",
				want.Kind, strings.Join(served, ", "), want.GroupVersion()))
		case len(newer) > 0:
			if c.State == AccessOK {
				c.State = AccessWarning
			}
			problems = append(problems, fmt.Sprintf("%s is served as %s too; the plugin reads %s", want.Kind, strings.Join(newer, ", "), want.GroupVersion()))
		default:
			ok = append(ok, want.Kind+" "+want.Version)
		}
	}
	if len(problems) > 0 {
		c.Message = "Flux APIs on the hub: " + strings.Join(problems, "; ")
		c.short = "Flux APIs differ"
	} else {
		c.Message = "Flux APIs on the hub as the plugin reads them: " + strings.Join(ok, ", ")
		c.short = "Flux APIs as expected"
	}
	return c
}

// accessTarget is one kind in one namespace of an inventory.
type accessTarget struct{ group, kind, namespace string }

func (t accessTarget) String() string {
	gk := t.kind
	if t.group != "" {
		gk += "." + t.group
	}
	if t.namespace == "" {
		return gk + " (cluster-scoped)"
	}
	return gk + " in " + t.namespace
}

// inventoryTargets returns the distinct kinds and namespaces of an
// object's inventory, and whether it has one.
func inventoryTargets(o fleet.Object) ([]accessTarget, bool, error) {
	ids := o.Inventory()
	if ids == nil {
		return nil, false, nil
	}
	seen := map[accessTarget]bool{}
	var out []accessTarget
	for _, id := range ids {
		om, err := object.ParseObjMetadata(id)
		if err != nil {
			return nil, true, fmt.Errorf("inventory entry %q: %w", id, err)
		}
		t := accessTarget{group: om.GroupKind.Group, kind: om.GroupKind.Kind, namespace: om.Namespace}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, true, nil
}

// serviceAccountCheck asks the target cluster, impersonating o's
// service account, whether it may patch every kind of o's inventory in
// its namespace (one SelfSubjectAccessReview per kind and namespace).
func serviceAccountCheck(ctx context.Context, f *fleet.Fleet, c *fleet.Cluster, o fleet.Object) AccessCheck {
	sa := o.Meta().GetNamespace() + "/" + o.ServiceAccountName()
	chk := AccessCheck{Check: CheckServiceAccount, Object: o.ID(), ServiceAccount: sa}
	fail := func(format string, a ...any) AccessCheck {
		chk.State = AccessFailed
		chk.Message = fmt.Sprintf("ServiceAccount %s (%s): ", sa, o.ID()) + fmt.Sprintf(format, a...)
		chk.short = "ServiceAccount " + sa + " not checked"
		return chk
	}
	targets, hasInventory, err := inventoryTargets(o)
	if err != nil {
		return fail("%v", err)
	}
	if !hasInventory {
		chk.State = AccessOK
		chk.Message = fmt.Sprintf("ServiceAccount %s (%s): no inventory yet, nothing to check", sa, o.ID())
		chk.short = "ServiceAccount " + sa + ": no inventory"
		return chk
	}
	admin, err := f.Client(ctx, c, "")
	if err != nil {
		return fail("%v", err)
	}
	imp, err := f.ClientFor(ctx, c, o)
	if err != nil {
		return fail("%v", err)
	}
	var denied []string
	for _, t := range targets {
		m, err := admin.Mapper.RESTMapping(schema.GroupKind{Group: t.group, Kind: t.kind})
		if kube.IsNoMatch(err) {
			continue // the kind is gone from the cluster: nothing to patch
		}
		if err != nil {
			return fail("mapping %s: %v", t, err)
		}
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: t.namespace, Verb: "patch", Group: t.group, Resource: m.Resource.Resource},
		}}
		if err := imp.Client.Create(ctx, review); err != nil {
			return fail("cannot ask the cluster as the service account: %v", err)
		}
		if !review.Status.Allowed {
			denied = append(denied, t.String())
		}
	}
	if len(denied) > 0 {
		chk.State = AccessFailed
		chk.Denied = denied
		chk.Message = fmt.Sprintf("ServiceAccount %s (%s) may not patch %s: Flux cannot apply them; grant it patch on these kinds",
			sa, o.ID(), strings.Join(denied, ", "))
		chk.short = "ServiceAccount " + sa + " denied"
		return chk
	}
	chk.State = AccessOK
	chk.Message = fmt.Sprintf("ServiceAccount %s (%s) may patch the %s of its inventory", sa, o.ID(), plural(len(targets), "kind"))
	chk.short = "ServiceAccount " + sa + " may patch"
	return chk
}

// clusterAccess runs the access checks of one cluster: for a spoke its
// kubeconfig's credentials and version skew; with checkSA the service
// account checks of its objects. Unreachable clusters get the local
// checks only.
func clusterAccess(ctx context.Context, f *fleet.Fleet, c *fleet.Cluster, p fleet.ProbeResult, hubVersion string, checkSA bool, now time.Time) []AccessCheck {
	var out []AccessCheck
	if !c.Hub {
		cl, err := f.Client(ctx, c, "")
		if err != nil {
			return nil // the Secret cannot be read or used: Cluster.Error says why
		}
		out = append(out, credentialChecks(c.KubeConfig.String(), cl.Config, now)...)
		if p.Err == nil && hubVersion != "" {
			if sk, ok := skewCheck(hubVersion, p.ServerVersion); ok {
				out = append(out, sk)
			}
		}
	}
	if checkSA && p.Err == nil {
		for _, o := range c.Objects {
			if o.ServiceAccountName() != "" {
				out = append(out, serviceAccountCheck(ctx, f, c, o))
			}
		}
	}
	return out
}

// fleetAccess runs clusterAccess for every cluster concurrently.
func fleetAccess(ctx context.Context, f *fleet.Fleet, clusters []*fleet.Cluster, probes map[string]fleet.ProbeResult, hubVersion string, checkSA bool, now time.Time) map[string][]AccessCheck {
	out := make(map[string][]AccessCheck, len(clusters))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			checks := clusterAccess(ctx, f, c, probes[c.Name], hubVersion, checkSA, now)
			mu.Lock()
			out[c.Name] = checks
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
