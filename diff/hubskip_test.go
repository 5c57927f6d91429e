package diff

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/kustomize"
)

// TestHubOutputOf: which unchanged hub Kustomizations a --base run may
// leave unbuilt (no Flux objects possible) and which may apply ConfigMaps
// or Secrets. Where the decision says "no Flux objects" (or "no values"),
// the real build (kustomize, as the controller runs it) must agree.
func TestHubOutputOf(t *testing.T) {
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\ndata:\n  a: b\n"
	const deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: ghcr.io/c5c3/web:v1\n"
	const nested = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: child\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/child\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
	kfile := func(resources ...string) string {
		return "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + strings.Join(resources, "\n  - ") + "\n"
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		spec  func(*kustomizev1.KustomizationSpec)
		want  hubOutput
	}{
		{"plain objects without values", map[string]string{"hub/kustomization.yaml": kfile("deploy.yaml"), "hub/deploy.yaml": deploy}, nil, hubOutput{}},
		{"a ConfigMap", map[string]string{"hub/kustomization.yaml": kfile("deploy.yaml", "cm.yaml"), "hub/deploy.yaml": deploy, "hub/cm.yaml": cm}, nil, hubOutput{values: true}},
		{"a secretGenerator", map[string]string{"hub/kustomization.yaml": "secretGenerator:\n  - name: creds\n    literals: [user=admin]\n"}, nil, hubOutput{values: true}},
		{"no kustomization file: the controller generates one", map[string]string{"hub/deploy.yaml": deploy}, nil, hubOutput{}},
		{"a nested Kustomization", map[string]string{"hub/kustomization.yaml": kfile("child.yaml"), "hub/child.yaml": nested}, nil, hubOutput{build: true, values: true}},
		{"a HelmRelease in a base outside spec.path", map[string]string{
			"hub/kustomization.yaml":  kfile("../base"),
			"base/kustomization.yaml": kfile("hr.yaml"),
			"base/hr.yaml":            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: web\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n",
		}, nil, hubOutput{build: true, values: true}},
		{"a ResourceSet", map[string]string{"hub/rs.yaml": "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: tenants\n  namespace: flux-system\n"}, nil, hubOutput{build: true, values: true}},
		{"a Flux annotation counts too", map[string]string{"hub/cm.yaml": strings.Replace(cm, "  namespace: apps\n", "  namespace: apps\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n", 1)}, nil, hubOutput{build: true, values: true}},
		{"a component of spec.components", map[string]string{"hub/deploy.yaml": deploy, "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - child.yaml\n", "comp/child.yaml": nested},
			func(s *kustomizev1.KustomizationSpec) { s.Components = []string{"../comp"} }, hubOutput{build: true, values: true}},
		{"a Flux group in spec.patches", map[string]string{"hub/deploy.yaml": deploy},
			func(s *kustomizev1.KustomizationSpec) {
				s.Patches = []kustomize.Patch{{Patch: "- op: add\n  path: /metadata/labels/x\n  value: kustomize.toolkit.fluxcd.io", Target: &kustomize.Selector{Kind: "Deployment"}}}
			}, hubOutput{build: true, values: true}},
		{"postBuild substitution and a variable", map[string]string{"hub/deploy.yaml": strings.Replace(deploy, "apps/v1", "${GROUP}", 1)},
			func(s *kustomizev1.KustomizationSpec) {
				s.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"GROUP": "apps/v1"}}
			}, hubOutput{build: true, values: true}},
		{"postBuild substitution without variables", map[string]string{"hub/cm.yaml": cm},
			func(s *kustomizev1.KustomizationSpec) {
				s.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"GROUP": "apps/v1"}}
			}, hubOutput{values: true}},
		{"a variable without postBuild is left as it is", map[string]string{"hub/cm.yaml": strings.Replace(cm, "a: b", "a: ${B}", 1)}, nil, hubOutput{values: true}},
		{"decryption", map[string]string{"hub/deploy.yaml": deploy},
			func(s *kustomizev1.KustomizationSpec) { s.Decryption = &kustomizev1.Decryption{Provider: "sops"} }, hubOutput{build: true, values: true}},
		{"a remote resource", map[string]string{"hub/kustomization.yaml": kfile("deploy.yaml", "https://example.com/manifests.yaml"), "hub/deploy.yaml": deploy}, nil, hubOutput{build: true, values: true}},
		{"a remote base without a scheme", map[string]string{"hub/kustomization.yaml": kfile("deploy.yaml", "github.com/c5c3/bits//hub?ref=v1"), "hub/deploy.yaml": deploy}, nil, hubOutput{build: true, values: true}},
		{"replacements", map[string]string{"hub/kustomization.yaml": kfile("deploy.yaml") + "replacements:\n  - path: r.yaml\n", "hub/deploy.yaml": deploy, "hub/r.yaml": "source:\n  kind: Deployment\n  fieldPath: metadata.name\ntargets: []\n"}, nil, hubOutput{build: true, values: true}},
		{"an escaped group", map[string]string{"hub/deploy.yaml": strings.Replace(deploy, "apps/v1", `"kustomize.toolkit.\u0066luxcd.io/v1"`, 1)}, nil, hubOutput{build: true, values: true}},
		{"a generator plugin: not bounded", map[string]string{"hub/kustomization.yaml": kfile("deploy.yaml") + "generators:\n  - gen.yaml\n", "hub/deploy.yaml": deploy, "hub/gen.yaml": "kind: X\n"}, nil, hubOutput{build: true, values: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := t.TempDir()
			for rel, content := range tc.files {
				p := filepath.Join(repo, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ks := testKs("flux-system", "hub", "./hub")
			if tc.spec != nil {
				tc.spec(&ks.Spec)
			}
			b, err := NewBuilder(repo, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			inputs, ok := possibleInputs(b.repo, ks)
			got := hubOutputOf(b.repo, b.readFile, ks, inputs, ok)
			if got != tc.want {
				t.Fatalf("hubOutputOf = %+v, want %+v (inputs %v, bounded %v)", got, tc.want, inputs, ok)
			}
			if got.build {
				return
			}
			objects, err := b.Build(context.Background(), ks)
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			for _, o := range objects {
				if g := o.GroupVersionKind().Group; strings.Contains(g, "fluxcd") {
					t.Errorf("decided without Flux objects, the build holds %s %s", o.GetAPIVersion(), o.GetKind())
				}
				if k := o.GetKind(); !got.values && (k == "ConfigMap" || k == "Secret") {
					t.Errorf("decided without values, the build holds %s %s", k, o.GetName())
				}
			}
		})
	}
}
