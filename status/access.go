package status

import (
	"context"
	"time"

	"github.com/c5c3/kubectl-c5c3/fleet"
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
		if cl.Token != nil {
			out = append(out, workloadTokenCheck(c.KubeConfig.String(), cl.Token))
		}
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
	return fleet.PerCluster(clusters, func(c *fleet.Cluster) []AccessCheck {
		return clusterAccess(ctx, f, c, probes[c.Name], hubVersion, checkSA, now)
	})
}
