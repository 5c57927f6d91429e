package helmname

import (
	"crypto/sha256"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
)

// maxReleaseName is Helm's limit on release names.
const maxReleaseName = 53

// ShortenName returns name unchanged up to 53 characters, else its first
// 40 characters, "-" and the first 12 hex digits of its SHA-256, as
// helm-controller's release.ShortenName does.
func ShortenName(name string) string {
	if len(name) <= maxReleaseName {
		return name
	}
	const hashLen = 12
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	return name[:maxReleaseName-(hashLen+1)] + "-" + sum[:hashLen]
}

// ReleaseName is the Helm release helm-controller manages for hr:
// spec.releaseName, else [targetNamespace-]name, shortened past 53
// characters.
func ReleaseName(hr *helmv2.HelmRelease) string { return ShortenName(hr.GetReleaseName()) }
