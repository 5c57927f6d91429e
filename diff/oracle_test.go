package diff_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestBuilderMatchesController: for every Kustomization of the sample, the
// diff command's Builder (in-memory overlay over the checkout) builds
// exactly what the test fleet's kustomize-controller-style build (a copy of
// the artifact, the generator writing kustomization.yaml to disk, fluxcd/pkg
// directly) makes — the oracle the fleet tests start from. The real
// kustomize-controller e2e test checks that oracle against the controller.
func TestBuilderMatchesController(t *testing.T) {
	f := testfleet.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(t), NoFluxReport: true})
	if err != nil {
		t.Fatal(err)
	}
	var list kustomizev1.KustomizationList
	if err := f.Hub.Client.List(ctx, &list, client.InNamespace(s.Namespace)); err != nil {
		t.Fatal(err)
	}
	b, err := diff.NewBuilder(s.RepoDir, f.Hub.Client, false)
	if err != nil {
		t.Fatal(err)
	}
	kss := append(list.Items, variants(t, list.Items)...)
	seen := map[string]bool{}
	for i := range kss {
		ks := &kss[i]
		got, err := b.Build(ctx, ks)
		if err != nil {
			t.Errorf("Builder, %s: %v", ks.Name, err)
			continue
		}
		want, err := s.Build(ctx, ks)
		if err != nil {
			t.Errorf("controller build, %s: %v", ks.Name, err)
			continue
		}
		if g, w := render(t, got), render(t, want); g != w {
			t.Errorf("%s: the Builder's output differs from the controller's\n--- Builder\n%s\n--- controller\n%s", ks.Name, g, w)
		}
		if ks.Name == "label-clash" {
			for _, o := range got {
				if v := o.GetLabels()["kustomize.toolkit.fluxcd.io/name"]; v != "from-common-metadata" {
					t.Errorf("label-clash: %s/%s has owner label %q, want the commonMetadata value", o.GetKind(), o.GetName(), v)
				}
			}
		}
		for _, k := range []string{"commonMetadata", "targetNamespace", "namePrefix", "images", "patches", "components", "ignore", "force", "postBuild"} {
			if strings.Contains(toYAML(t, ks.Spec), k+":") {
				seen[k] = true
			}
		}
	}
	for _, k := range []string{"commonMetadata", "targetNamespace", "namePrefix", "images", "patches", "components", "ignore", "force", "postBuild"} {
		if !seen[k] {
			t.Errorf("no sample Kustomization uses spec.%s: the comparison does not cover it", k)
		}
	}
}

// variants are Kustomizations derived from the sample's, not applied to
// the hub, for the rules the sample does not exercise: every spec.path form
// kustomize-controller resolves inside the artifact root ("/x", ".//x//",
// "../x", "", "/"), and commonMetadata labels named like the owner labels,
// which the controller sets after them.
func variants(t *testing.T, items []kustomizev1.Kustomization) []kustomizev1.Kustomization {
	t.Helper()
	var base *kustomizev1.Kustomization
	for i := range items {
		if items[i].Name == "management-tenants" {
			base = &items[i]
		}
	}
	if base == nil {
		t.Fatal("no management-tenants in the sample")
	}
	var out []kustomizev1.Kustomization
	for i, p := range []string{"/apps/tenants/base", ".//apps//tenants/base//", "../apps/tenants/base", "../../apps/./tenants/../tenants/base/"} {
		v := base.DeepCopy()
		v.Name = fmt.Sprintf("path-form-%d", i)
		v.Spec.Path = p
		out = append(out, *v)
	}
	clash := base.DeepCopy()
	clash.Name = "label-clash"
	clash.Spec.CommonMetadata.Labels = map[string]string{
		"kustomize.toolkit.fluxcd.io/name": "from-common-metadata",
		"app.kubernetes.io/part-of":        "c5c3",
	}
	out = append(out, *clash)
	return out
}

func render(t *testing.T, objs []*unstructured.Unstructured) string {
	var b strings.Builder
	for _, o := range objs {
		b.WriteString("---\n" + toYAML(t, o.Object))
	}
	return b.String()
}

func toYAML(t *testing.T, v any) string {
	y, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(y)
}
