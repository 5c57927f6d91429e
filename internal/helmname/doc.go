// Package helmname names Helm releases as helm-controller does
// (ReleaseName, ShortenName). It is a leaf: it imports only the
// HelmRelease API, so that packages that only need a release's name
// (status) do not link the Helm SDK that helmrender brings.
package helmname
