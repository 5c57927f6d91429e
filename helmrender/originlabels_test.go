package helmrender

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestOriginObjectsAsKustomize renders every test chart and the operator
// charts of issue 20 without a post-renderer and labels the objects as
// originObjects does, and renders them again with helm-controller's
// origin-label post-renderer (the kustomize round trip): the objects must
// be the same, in the same order. The yamledge chart holds the YAML that
// kustomize reads as YAML 1.2 and normalises (yes/on strings, dates,
// octal, exponents...); with fallback=true it holds an anchor and a List,
// which originObjects hands back to kustomize. TestE2EHelmYAMLEdges proves
// the same against the real helm-controller.
func TestOriginObjectsAsKustomize(t *testing.T) {
	root, err := testfleet.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name     string
		path     string
		values   common.Values
		fallback bool
	}
	var cases []tc
	dirs, _ := filepath.Glob(filepath.Join(root, "testdata", "charts", "*", "Chart.yaml"))
	for _, d := range dirs {
		cases = append(cases, tc{name: filepath.Base(filepath.Dir(d)), path: filepath.Dir(d)})
	}
	archives, _ := filepath.Glob(filepath.Join(root, "testdata", "operator-charts", "*.tgz"))
	for _, a := range archives {
		cases = append(cases, tc{name: filepath.Base(a), path: a})
	}
	cases = append(cases, tc{name: "yamledge fallback", path: filepath.Join(root, "testdata", "charts", "yamledge-0.1.0"),
		values: common.Values{"fallback": true}, fallback: true})
	if len(cases) < 10 {
		t.Fatalf("only %d charts found under %s/testdata", len(cases), root)
	}
	h := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: "flux-system"}, Spec: helmv2.HelmReleaseSpec{TargetNamespace: "apps"}}
	caps := Capabilities{KubeVersion: "v1.33.0", APIVersions: common.DefaultVersionSet}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, err := loader.Load(c.path)
			if err != nil {
				t.Fatal(err)
			}
			req := Request{HelmRelease: h, Chart: &Loaded{Chart: ch}, Values: c.values, Capabilities: caps}
			kv, err := common.ParseKubeVersion(caps.KubeVersion)
			if err != nil {
				t.Fatal(err)
			}
			plainRel, err := renderInstall(context.Background(), req, &Rendered{ReleaseName: "edge", ReleaseNamespace: "apps"}, kv, nil)
			if err != nil {
				t.Fatalf("rendering with the chart's defaults: %v", err)
			}
			fast, err := originObjects(plainRel, originLabels(h))
			if c.fallback {
				if !errors.Is(err, errNotPlain) {
					t.Fatalf("originObjects: %v, want errNotPlain for an anchor and a List", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("originObjects: %v, want the fast path", err)
			}
			rel, err := renderInstall(context.Background(), req, &Rendered{ReleaseName: "edge", ReleaseNamespace: "apps"}, kv, postRenderers(h))
			if err != nil {
				t.Fatal(err)
			}
			slow, err := ssautil.ReadObjects(strings.NewReader(rel.Manifest))
			if err != nil {
				t.Fatal(err)
			}
			if len(slow) == 0 {
				t.Fatal("no object rendered")
			}
			if len(fast) != len(slow) || len(rel.Hooks) != len(plainRel.Hooks) {
				t.Fatalf("%d objects and %d hooks, kustomize %d and %d", len(fast), len(plainRel.Hooks), len(slow), len(rel.Hooks))
			}
			for i := range slow {
				if !reflect.DeepEqual(fast[i].Object, slow[i].Object) {
					f, _ := json.Marshal(fast[i].Object)
					s, _ := json.Marshal(slow[i].Object)
					t.Errorf("object %d:\n fast      %s\n kustomize %s", i, f, s)
				}
			}
		})
	}
}
