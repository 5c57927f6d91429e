package plugin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// blackHoleSource is a chart source of kind whose server is the black hole
// at addr (plain TCP: it takes the connection and never answers), named
// "hole", and the chart reference a HelmRelease gives it.
func blackHoleSource(kind, addr string) (source string, hr *fixture.HelmRelease) {
	hr = fixture.NewHelmRelease("from-hole").ReleaseName("from-hole").Target("hole-target").Spoke("control-plane")
	switch kind {
	case "HelmRepository":
		source = fmt.Sprintf("kind: HelmRepository\nmetadata:\n  name: hole\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: http://%s/charts\n", addr)
		return source, hr.Chart("webapp", "0.1.0", "HelmRepository", "hole")
	case "HelmRepository oci":
		source = fmt.Sprintf("kind: HelmRepository\nmetadata:\n  name: hole\n  namespace: flux-system\nspec:\n  interval: 1h\n  type: oci\n  insecure: true\n  url: oci://%s/charts\n", addr)
		return source, hr.Chart("webapp", "0.1.x", "HelmRepository", "hole")
	case "OCIRepository":
		source = fmt.Sprintf("kind: OCIRepository\nmetadata:\n  name: hole\n  namespace: flux-system\nspec:\n  interval: 1h\n  insecure: true\n  url: oci://%s/charts/webapp\n  ref:\n    tag: 0.1.0\n", addr)
		return source, hr.ChartRef("OCIRepository", "hole")
	case "GitRepository":
		source = fmt.Sprintf("kind: GitRepository\nmetadata:\n  name: hole\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: http://%s/charts.git\n  ref:\n    branch: main\n", addr)
		return source, hr.Chart("./charts/webapp", "", "GitRepository", "hole")
	case "Bucket":
		source = fmt.Sprintf("kind: Bucket\nmetadata:\n  name: hole\n  namespace: flux-system\nspec:\n  interval: 1h\n  provider: generic\n  insecure: true\n  endpoint: %s\n  bucketName: charts\n", addr)
		return source, hr.Chart("charts/webapp", "", "Bucket", "hole")
	}
	panic("unknown source kind " + kind)
}

// TestInterruptBlackHoledChartSource interrupts `diff` while it downloads
// a HelmRelease's chart from a server that takes the connection and never
// answers: an HTTP HelmRepository (index.yaml), an OCI HelmRepository and
// an OCIRepository (Helm's registry client), a GitRepository (the git
// fetch, go-git over HTTP) and a Bucket (minio-go). The hub and the
// spokes answer; --request-timeout is ten minutes and the error must name
// no timeout, so only the interrupt can end the command: exit 130.
func TestInterruptBlackHoledChartSource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	chartSourceGitops(t, dir, "flux-system", "HelmRepository", "127.0.0.1:1")
	s, flags := loadSample(t, testfleet.SampleOptions{NoFluxReport: true, Source: dir})
	useChartCache(t, t.TempDir())
	for _, kind := range []string{"HelmRepository", "HelmRepository oci", "OCIRepository", "GitRepository", "Bucket"} {
		t.Run(kind, func(t *testing.T) {
			h := newBlackHole(t, false)
			chartSourceGitops(t, s.RepoDir, s.Namespace, kind, h.addr)
			interrupted(t, h, diffArgs(s, flags[:len(flags)-2])...)
		})
	}
}

// chartSourceGitops writes into dir a management sync of the chart
// source of kind at addr and a HelmRelease using it, both in namespace ns.
func chartSourceGitops(t *testing.T, dir, ns, kind, addr string) {
	t.Helper()
	source, hr := blackHoleSource(kind, addr)
	source = strings.Replace(source, "namespace: flux-system", "namespace: "+ns, 1)
	writeFile(t, dir, "clusters/management/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - sources.yaml\n  - releases.yaml\n")
	writeFile(t, dir, "clusters/management/sources.yaml", "apiVersion: source.toolkit.fluxcd.io/v1\n"+source)
	writeFile(t, dir, "clusters/management/releases.yaml", hr.Namespace(ns).YAML())
}
