// Package helmrender computes what Flux's helm-controller (v1.6.x, Helm v4)
// would apply for a HelmRelease: it resolves and caches the chart
// (HelmRepository HTTP index or OCI, OCIRepository chartRef, a chart path
// of the checkout, of another GitRepository cloned at its spec.ref or of
// an S3 Bucket), merges the values as helm-controller does
// (fluxcd/pkg/chartutil), renders the chart with the Helm v4 SDK as a
// client-side install or upgrade dry run against a target cluster's
// capabilities, and applies helm-controller's post-renderers, common
// metadata and origin labels. It also reads the deployed release from Helm
// storage on the target and predicts whether helm-controller would
// upgrade. It never prints or returns Secret data of the storage.
//
// ResolveSource finds where a HelmRelease's chart comes from (source.go:
// the HelmRepository, OCIRepository, HelmChart, GitRepository or Bucket it
// names; sourcekinds.go, sourcesecrets.go: the credentials and TLS of the
// Secrets that source names), as a ChartSource that a Fetcher loads.
//
// The rules follow helm-controller's internal/action, internal/postrender
// and internal/release packages (Apache-2.0, The Flux authors).
package helmrender
