package helmname

import (
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReleaseName(t *testing.T) {
	long := strings.Repeat("a", 30)
	for _, tc := range []struct {
		name, releaseName, targetNS, want string
	}{
		{name: "webapp", want: "webapp"},
		{name: "webapp", targetNS: "apps", want: "apps-webapp"},
		{name: "webapp", releaseName: "web", targetNS: "apps", want: "web"},
		// 30 + 1 + 30 = 61 characters: 40 + "-" + 12 hash digits (from sha256sum).
		{name: long, targetNS: long, want: strings.Repeat("a", 30) + "-" + strings.Repeat("a", 9) + "-" + "9fc7f9602247"},
	} {
		hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: "flux-system"},
			Spec: helmv2.HelmReleaseSpec{ReleaseName: tc.releaseName, TargetNamespace: tc.targetNS}}
		got := ReleaseName(hr)
		if len(got) > 53 {
			t.Errorf("%s: %q is longer than 53", tc.name, got)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("ReleaseName(%s/%s, releaseName %q) = %q, want %q", tc.targetNS, tc.name, tc.releaseName, got, tc.want)
		}
	}
}
