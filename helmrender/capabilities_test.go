package helmrender_test

import (
	"context"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/helmrender"
)

// TestRenderCapabilitiesAreTheTargets: install and upgrade renders see
// only the target's API versions in .Capabilities.APIVersions — not
// Helm's built-in ones (policy/v1beta1 is among those, served by no
// current Kubernetes) — and a target that serves an API version sees it.
func TestRenderCapabilitiesAreTheTargets(t *testing.T) {
	if !common.DefaultVersionSet.Has("policy/v1beta1") {
		t.Fatal("policy/v1beta1 is no longer in Helm's built-in API versions: pick another for the capabilities chart")
	}
	ch := loadDir(t, "capabilities-0.1.0")
	deployed := install(t, storage.Init(driver.NewMemory()), "apps-caps", ch, nil)
	render := func(c helmrender.Capabilities, from *helmrender.Current) map[string]string {
		t.Helper()
		r, err := helmrender.Render(context.Background(), helmrender.Request{HelmRelease: hr("caps", nil), Chart: ch, Capabilities: c, From: from})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Objects) != 1 {
			t.Fatalf("rendered %v, want the ConfigMap", ids(r.Objects))
		}
		data, _, _ := unstructured.NestedStringMap(r.Objects[0].Object, "data")
		return data
	}
	for _, from := range []*helmrender.Current{nil, deployed} {
		what := "install"
		if from != nil {
			what = "upgrade"
		}
		if d := render(caps, from); d["policy"] != "v1" || d["apps"] != "true" {
			t.Errorf("%s on a target without policy/v1beta1: %v", what, d)
		}
		served := helmrender.Capabilities{KubeVersion: caps.KubeVersion, APIVersions: append([]string{"policy/v1beta1"}, caps.APIVersions...)}
		if d := render(served, from); d["policy"] != "v1beta1" {
			t.Errorf("%s on a target serving policy/v1beta1: %v", what, d)
		}
		if d := render(helmrender.Capabilities{KubeVersion: caps.KubeVersion, APIVersions: []string{"v1"}}, from); d["apps"] != "false" {
			t.Errorf("%s on a target without apps/v1: %v", what, d)
		}
	}
}
