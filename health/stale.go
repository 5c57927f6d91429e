package health

import (
	"strings"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// isStale reports whether the applied revision lags the source artifact.
// Kustomizations and HelmReleases from a HelmChart compare revisions
// directly; a HelmRelease whose chartRef is an OCIRepository compares the
// digest of the artifact ("<tag>@sha256:<hex>") with the installed
// release's OCI digest, since its chart version carries no digest.
func isStale(o fleet.Object, applied, source string) bool {
	if applied == "" || source == "" {
		return false
	}
	if hr := o.HelmRelease; hr != nil && hr.Spec.ChartRef != nil && hr.Spec.ChartRef.Kind == "OCIRepository" {
		h := hr.Status.History.Latest()
		_, digest, ok := strings.Cut(source, "@")
		if h == nil || h.OCIDigest == "" || !ok {
			return false
		}
		return h.OCIDigest != digest
	}
	return applied != source
}
