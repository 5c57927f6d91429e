package diff_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
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
		got := compareBuilds(ctx, t, b, s, ks)
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

// TestBuilderMatchesControllerRules: the Builder and the controller-style
// build agree on the build-rule fixtures (testdata/buildrules): the
// artifact source-controller makes with its default exclusions (CI files,
// .sops.yaml, .flux.yaml, images and archives in a directory without
// kustomization.yaml), with .sourceignore files at two levels and
// spec.ignore (defaults off), the spec.path forms and the label clash. Each
// fixture's objects are also checked against what the rules say it holds,
// so that a fixture that stopped exercising its rule fails.
func TestBuilderMatchesControllerRules(t *testing.T) {
	f := testfleet.Get(t)
	root, err := testfleet.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ignore := "# drafts are never deployed\n**/draft-*.yaml\n"
	for _, tc := range []struct {
		tree   string
		ignore *string
		want   map[string][]string // Kustomization → its objects' names
	}{{
		tree: "defaults",
		want: map[string][]string{
			"rules-generated": {"generated-nested", "generated-plain"},
			"rules-labelled":  {"labelled"},
			"rules-slashes":   {"slashes"},
		},
	}, {
		tree:   "ignore",
		ignore: &ignore,
		want: map[string][]string{
			"rules-filtered": {"filtered-keep-dir", "filtered-kept", "filtered-under-github"},
		},
	}} {
		t.Run(tc.tree, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(t), NoFluxReport: true,
				Source: filepath.Join(root, "testdata", "buildrules", tc.tree), SourceIgnore: tc.ignore})
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
			for i := range list.Items {
				ks := &list.Items[i]
				got := compareBuilds(ctx, t, b, s, ks)
				want, ok := tc.want[ks.Name]
				if !ok {
					continue
				}
				var names []string
				for _, o := range got {
					names = append(names, o.GetName())
				}
				sort.Strings(names)
				if strings.Join(names, " ") != strings.Join(want, " ") {
					t.Errorf("%s builds %v, the fixture's rules say %v", ks.Name, names, want)
				}
				delete(tc.want, ks.Name)
			}
			for name := range tc.want {
				t.Errorf("no Kustomization %s in the fixture", name)
			}
		})
	}
}

// compareBuilds builds ks with the Builder and with the controller-style
// build and reports any difference; it returns the Builder's objects.
func compareBuilds(ctx context.Context, t *testing.T, b *diff.Builder, s *testfleet.Sample, ks *kustomizev1.Kustomization) []*unstructured.Unstructured {
	t.Helper()
	got, err := b.Build(ctx, ks)
	if err != nil {
		t.Errorf("Builder, %s: %v", ks.Name, err)
		return nil
	}
	want, err := s.Build(ctx, ks)
	if err != nil {
		t.Errorf("controller build, %s: %v", ks.Name, err)
		return got
	}
	if g, w := render(t, got), render(t, want); g != w {
		t.Errorf("%s: the Builder's output differs from the controller's\n--- Builder\n%s\n--- controller\n%s", ks.Name, g, w)
	}
	return got
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
