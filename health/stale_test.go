package health

import (
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

func TestIsStale(t *testing.T) {
	ks := fleet.Object{Kind: fleet.KindKustomization, Kustomization: &kustomizev1.Kustomization{}}
	oci := &helmv2.HelmRelease{Spec: helmv2.HelmReleaseSpec{ChartRef: &helmv2.CrossNamespaceSourceReference{Kind: "OCIRepository", Name: "podinfo"}}}
	oci.Status.History = helmv2.Snapshots{{ChartVersion: "6.5.0", OCIDigest: "sha256:aaa"}}
	hr := fleet.Object{Kind: fleet.KindHelmRelease, HelmRelease: oci}
	for _, tc := range []struct {
		name            string
		o               fleet.Object
		applied, source string
		want            bool
	}{
		{"ks current", ks, "main@sha1:1", "main@sha1:1", false},
		{"ks behind", ks, "main@sha1:1", "main@sha1:2", true},
		{"ks no source yet", ks, "main@sha1:1", "", false},
		{"oci chartRef current", hr, "6.5.0", "6.5.0@sha256:aaa", false},
		{"oci chartRef behind", hr, "6.5.0", "6.5.1@sha256:bbb", true},
		{"oci chartRef no digest", hr, "6.5.0", "6.5.0", false},
	} {
		if got := isStale(tc.o, tc.applied, tc.source); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
