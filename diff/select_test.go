package diff

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

func testKs(ns, name, path string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: kustomizev1.KustomizationSpec{Path: path}}
}

// checkout makes a repository tree with the given directories.
func checkout(t *testing.T, dirs ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestNewSelector(t *testing.T) {
	repo := checkout(t, "clusters/management", "apps/keystone/base", "..hidden")
	outside := t.TempDir()
	f := &fleet.Fleet{Clusters: []*fleet.Cluster{{Name: "management", Hub: true}, {Name: "control-plane"}}}
	roots := []*kustomizev1.Kustomization{testKs("flux-system", "management-apps", "./clusters/management")}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		targets []string
		want    selector
		bad     bool
	}{
		{"no arguments selects all", nil, selector{all: true}, false},
		{"cluster", []string{"control-plane"}, selector{clusters: map[string]bool{"control-plane": true}}, false},
		{"kustomization", []string{"flux-system/management-apps"}, selector{ks: map[string]bool{"flux-system/management-apps": true}}, false},
		{"relative path in the checkout", []string{"apps/keystone/base/"}, selector{paths: []string{"apps/keystone/base"}}, false},
		{"absolute path in the checkout", []string{filepath.Join(repo, "clusters")}, selector{paths: []string{"clusters"}}, false},
		{"the checkout itself", []string{repo}, selector{paths: []string{"."}}, false},
		{"a directory named ..hidden is inside", []string{"..hidden"}, selector{paths: []string{"..hidden"}}, false},
		{"mixed", []string{"management", "apps/keystone/base"}, selector{clusters: map[string]bool{"management": true}, paths: []string{"apps/keystone/base"}}, false},
		{"unknown name", []string{"nova"}, selector{}, true},
		{"unknown kustomization", []string{"flux-system/nope"}, selector{}, true},
		{"path outside the checkout", []string{outside}, selector{}, true},
		{"parent of the checkout", []string{filepath.Dir(repo)}, selector{}, true},
		{"missing path", []string{"apps/glance"}, selector{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := newSelector(f, Options{Targets: tc.targets, RepoDir: repo}, roots, nil)
			if tc.bad {
				if !errors.Is(err, ErrBadTarget) {
					t.Fatalf("got %v, want ErrBadTarget", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.clusters == nil {
				tc.want.clusters = map[string]bool{}
			}
			if tc.want.ks == nil {
				tc.want.ks = map[string]bool{}
			}
			if got.all != tc.want.all || !maps.Equal(got.clusters, tc.want.clusters) || !maps.Equal(got.ks, tc.want.ks) || !slices.Equal(got.paths, tc.want.paths) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
	if wd, _ := os.Getwd(); wd != cwd {
		t.Errorf("newSelector changed the working directory to %s", wd)
	}
}

func TestSelectorWants(t *testing.T) {
	keystone := testKs("flux-system", "control-plane-keystone", "./clusters/control-plane/keystone")
	mgmt := testKs("flux-system", "management", "clusters/management")
	for _, tc := range []struct {
		name    string
		s       selector
		cluster string
		ks      *kustomizev1.Kustomization
		inputs  []string
		want    bool
	}{
		{"all", selector{all: true}, "x", keystone, nil, true},
		{"its cluster", selector{clusters: map[string]bool{"control-plane": true}}, "control-plane", keystone, nil, true},
		{"another cluster", selector{clusters: map[string]bool{"storage": true}}, "control-plane", keystone, nil, false},
		{"by id", selector{ks: map[string]bool{"flux-system/control-plane-keystone": true}}, "control-plane", keystone, nil, true},
		{"other id", selector{ks: map[string]bool{"flux-system/management": true}}, "control-plane", keystone, nil, false},
		{"path equal", selector{paths: []string{"clusters/control-plane/keystone"}}, "", keystone, nil, true},
		{"path above", selector{paths: []string{"clusters/control-plane"}}, "", keystone, nil, true},
		{"path below", selector{paths: []string{"clusters/control-plane/keystone/overlay"}}, "", keystone, nil, true},
		{"sibling with common prefix", selector{paths: []string{"clusters/control-plane/key"}}, "", keystone, nil, false},
		{"path without ./", selector{paths: []string{"clusters/management"}}, "", mgmt, nil, true},
		{"root path", selector{paths: []string{"."}}, "", mgmt, nil, true},
		{"build input under path", selector{paths: []string{"apps/keystone"}}, "", keystone, []string{"apps/keystone/base/deployment.yaml"}, true},
		{"build input is the path", selector{paths: []string{"apps/keystone/base/deployment.yaml"}}, "", keystone, []string{"apps/keystone/base/deployment.yaml"}, true},
		{"build input with common prefix", selector{paths: []string{"apps/key"}}, "", keystone, []string{"apps/keystone/base/deployment.yaml"}, false},
		{"unrelated path", selector{paths: []string{"apps/nova"}}, "", keystone, []string{"apps/keystone/base/deployment.yaml"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.wants(tc.cluster, tc.ks, tc.inputs); got != tc.want {
				t.Errorf("wants = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPossibleInputsCoverBuild checks that possibleInputs, which decides
// without building whether a path argument may select a Kustomization,
// names every file the build reads (BuildWithInputs, which records the
// reads of the real kustomize build): on every Kustomization of the sample
// repo and on a tree whose kustomization files reach outside their
// directory through resources, components, patches, generator files
// ("key=file" and envs) and spec.components.
func TestPossibleInputsCoverBuild(t *testing.T) {
	sample, err := filepath.Abs("../testdata/gitops")
	if err != nil {
		t.Fatal(err)
	}
	kss := []*kustomizev1.Kustomization{testKs("flux-system", "flux-system", "./clusters/management")}
	_ = filepath.WalkDir(sample, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".yaml" {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		objs, err := ssautil.ReadObjects(f)
		if err != nil {
			return nil // not Kubernetes objects (c5c3.yaml)
		}
		for _, o := range objs {
			if o.GetKind() != kustomizev1.KustomizationKind || o.GroupVersionKind().Group != kustomizev1.GroupVersion.Group {
				continue
			}
			ks := &kustomizev1.Kustomization{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, ks); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			kss = append(kss, ks)
		}
		return nil
	})
	if len(kss) < 10 {
		t.Fatalf("found %d Kustomizations in the sample repo", len(kss))
	}
	check := func(repo string, ks *kustomizev1.Kustomization) {
		t.Helper()
		b, err := NewBuilder(repo, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		// Substitution reads the hub, not the checkout: left out (there is
		// no hub here).
		ks = ks.DeepCopy()
		ks.Spec.PostBuild = nil
		_, read, err := b.BuildWithInputs(context.Background(), ks)
		if err != nil || len(read) == 0 {
			t.Fatalf("%s: the build read %v: %v", ks.Name, read, err)
		}
		got, ok := possibleInputs(b.repo, ks)
		if !ok {
			t.Fatalf("%s: possibleInputs gave up", ks.Name)
		}
		for _, in := range read {
			// kustomize also tries kustomization file names that do not
			// exist; no path argument names those, so their directory is
			// what must be there.
			want := in
			if _, err := os.Stat(filepath.Join(repo, in)); err != nil {
				want = filepath.Dir(in)
			}
			if !slices.Contains(got, want) {
				t.Errorf("%s (%s): the build reads %s, possibleInputs gives %v", ks.Name, ks.Spec.Path, in, got)
			}
		}
	}
	for _, ks := range kss {
		check(sample, ks)
	}

	tree := t.TempDir()
	for rel, content := range map[string]string{
		"base/kustomization.yaml":      "resources: [cm.yaml]\n",
		"base/cm.yaml":                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n",
		"shared/patch.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\ndata:\n  patched: \"yes\"\n",
		"shared/files/app.conf":        "a = 1\n",
		"shared/app.env":               "KEY=value\n",
		"comp/kustomization.yaml":      "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [../extra/cm.yaml]\n",
		"extra/cm.yaml":                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
		"speccomp/kustomization.yaml":  "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cm.yaml]\n",
		"speccomp/cm.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: speccomp\n",
		"overlay/kustomization.yaml":   "resources: [../base]\ncomponents: [../comp]\npatches:\n- path: ../shared/patch.yaml\n- patch: |\n    - op: add\n      path: /data/inline\n      value: x\n  target: {kind: ConfigMap, name: base}\nconfigMapGenerator:\n- name: gen\n  files: [conf=../shared/files/app.conf]\n  envs: [../shared/app.env]\n",
		"plain/cm.yaml":                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n",
		"plain/nested/cm.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nested\n",
		"unrelated/kustomization.yaml": "resources: [cm.yaml]\n",
		"unrelated/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unrelated\n",
	} {
		p := filepath.Join(tree, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	overlay := testKs("flux-system", "overlay", "./overlay")
	overlay.Spec.Components = []string{"../speccomp"}
	check(tree, overlay)
	check(tree, testKs("flux-system", "plain", "./plain"))
	got, _ := possibleInputs(tree, overlay)
	for _, p := range []string{"unrelated", "unrelated/cm.yaml"} {
		if slices.Contains(got, p) {
			t.Errorf("possibleInputs of the overlay names %s, which nothing refers to", p)
		}
	}
	// A generator's configuration names further files: not bounded.
	gen := filepath.Join(tree, "withgen")
	if err := os.MkdirAll(gen, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gen, "kustomization.yaml"), []byte("generators: [gen.yaml]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := possibleInputs(tree, testKs("flux-system", "withgen", "./withgen")); ok {
		t.Error("possibleInputs bounded a kustomization with generators")
	}
}

// TestPossibleInputsNameDeletedFiles: a file a kustomization names but the
// checkout no longer has (a change deleted it) is still a possible input,
// so --base builds that Kustomization and reports its build error instead
// of listing it unchanged.
func TestPossibleInputsNameDeletedFiles(t *testing.T) {
	tree := t.TempDir()
	for rel, content := range map[string]string{
		"app/kustomization.yaml": "resources: [cm.yaml, ../shared/gone.yaml]\n",
		"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
	} {
		p := filepath.Join(tree, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ks := testKs("flux-system", "app", "./app")
	got, ok := possibleInputs(tree, ks)
	if !ok {
		t.Fatal("possibleInputs gave up")
	}
	if !slices.Contains(got, "shared/gone.yaml") {
		t.Errorf("possibleInputs %v lacks the deleted shared/gone.yaml", got)
	}
	if inputsUnchanged(ks, got, ok, []string{"shared/gone.yaml"}) {
		t.Error("deleting shared/gone.yaml, which app/kustomization.yaml names, leaves app's inputs unchanged")
	}
	if !inputsUnchanged(ks, got, ok, []string{"other/file.yaml"}) {
		t.Error("a change to an unrelated file changes app's inputs")
	}
}
