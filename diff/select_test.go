package diff

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
			got, err := newSelector(f, Options{Targets: tc.targets, RepoDir: repo}, roots)
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
