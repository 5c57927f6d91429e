package testfleet

import (
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// InstallHelmCRDs installs the CRDs of helm-controller and
// source-controller on cluster c — a spoke running its own Flux, whose
// Kustomizations from the hub apply HelmReleases and their sources — and
// removes them when the test ends.
func InstallHelmCRDs(t *testing.T, c *Cluster) {
	t.Helper()
	dirs, err := CRDDirs()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, d := range dirs {
		if strings.Contains(d, "/helm-controller") || strings.Contains(d, "/source-controller") {
			paths = append(paths, d)
		}
	}
	if len(paths) != 2 {
		t.Fatalf("CRD directories of helm-controller and source-controller not found in %v", dirs)
	}
	opts := envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true}
	if _, err := envtest.InstallCRDs(c.Config, opts); err != nil {
		t.Fatalf("installing the helm-controller and source-controller CRDs on %s: %v", c.Name, err)
	}
	t.Cleanup(func() {
		if err := envtest.UninstallCRDs(c.Config, opts); err != nil {
			t.Errorf("removing the CRDs from %s: %v", c.Name, err)
		}
	})
}
