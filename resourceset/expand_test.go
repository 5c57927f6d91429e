package resourceset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8syaml "sigs.k8s.io/yaml"
)

// readObjects reads a multi-document YAML file of testdata.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	objs, err := parseObjects(string(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return objs
}

func yamlOf(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	var docs []string
	for _, o := range objs {
		b, err := k8syaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	return strings.Join(docs, "---\n")
}

// TestExpand expands each testdata/<case>/resourceset.yaml with the
// providers of providers.yaml and compares the objects with
// expected.yaml, written by hand from the operator's documentation (the
// doc-* cases are its documented examples).
func TestExpand(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/resourceset.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, rsPath := range dirs {
		dir := filepath.Dir(rsPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			rs := readObjects(t, rsPath)[0]
			providers := readObjects(t, filepath.Join(dir, "providers.yaml"))
			want := readObjects(t, filepath.Join(dir, "expected.yaml"))
			if len(want) == 0 {
				t.Fatalf("%s has no expected.yaml", dir)
			}
			got, err := Expand(rs, providers, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if g, w := yamlOf(t, got.Objects), yamlOf(t, want); g != w {
				t.Errorf("generated objects:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}
