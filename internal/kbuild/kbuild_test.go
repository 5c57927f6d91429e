package kbuild

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fluxcd/pkg/kustomize"
	fluxfs "github.com/fluxcd/pkg/kustomize/filesys"
)

// TestBuildMatchesFlux checks Build against
// fluxcd/pkg/kustomize.Build (what kustomize-controller runs) on every
// kustomization of the sample repo and on builds with a custom `openapi:`
// schema, also that such a schema does not leak into the next build.
func TestBuildMatchesFlux(t *testing.T) {
	sample, err := filepath.Abs("../../testdata/gitops")
	if err != nil {
		t.Fatal(err)
	}
	custom := t.TempDir()
	write := func(rel, s string) {
		p := filepath.Join(custom, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A custom kind whose list merges by name only with the custom schema.
	const resource = "apiVersion: example.com/v1\nkind: Pool\nmetadata:\n  name: p\nspec:\n  members:\n  - name: a\n    weight: 1\n  - name: b\n    weight: 2\n"
	const patch = "apiVersion: example.com/v1\nkind: Pool\nmetadata:\n  name: p\nspec:\n  members:\n  - name: b\n    weight: 3\n"
	write("schema.json", `{"definitions":{"com.example.v1.Pool":{"type":"object","x-kubernetes-group-version-kind":[{"group":"example.com","kind":"Pool","version":"v1"}],
"properties":{"spec":{"type":"object","properties":{"members":{"type":"array","x-kubernetes-patch-merge-key":"name","x-kubernetes-patch-strategy":"merge",
"items":{"type":"object","properties":{"name":{"type":"string"},"weight":{"type":"integer"}}}}}}}}}}`)
	for _, d := range []string{"with-schema", "without-schema"} {
		write(d+"/pool.yaml", resource)
		write(d+"/patch.yaml", patch)
	}
	write("with-schema/kustomization.yaml", "resources: [pool.yaml]\npatches: [{path: patch.yaml}]\nopenapi:\n  path: ../schema.json\n")
	write("without-schema/kustomization.yaml", "resources: [pool.yaml]\npatches: [{path: patch.yaml}]\n")

	var dirs [][2]string
	_ = filepath.WalkDir(sample, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "kustomization.yaml" {
			dirs = append(dirs, [2]string{sample, filepath.Dir(p)})
		}
		return nil
	})
	// Custom schema first, then the same patch without it, then again.
	for _, d := range []string{"with-schema", "without-schema", "with-schema", "without-schema"} {
		dirs = append(dirs, [2]string{custom, filepath.Join(custom, d)})
	}
	merged := map[string]string{}
	for _, rd := range dirs {
		fs, err := fluxfs.MakeFsOnDiskSecure(rd[0])
		if err != nil {
			t.Fatal(err)
		}
		want, err := kustomize.Build(fs, rd[1])
		if err != nil {
			t.Fatalf("kustomize.Build %s: %v", rd[1], err)
		}
		wantYAML, err := want.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Build(fs, rd[1])
		if err != nil {
			t.Fatalf("Build %s: %v", rd[1], err)
		}
		gotYAML, err := got.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		if string(gotYAML) != string(wantYAML) {
			t.Errorf("%s: Build gave\n%s\nkustomize.Build gave\n%s", rd[1], gotYAML, wantYAML)
		}
		merged[filepath.Base(rd[1])] = string(gotYAML)
	}
	// The fixture must tell the two apart, or it proves nothing.
	if merged["with-schema"] == merged["without-schema"] {
		t.Fatalf("the custom schema made no difference:\n%s", merged["with-schema"])
	}
}
