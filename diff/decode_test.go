package diff

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	fluxfs "github.com/fluxcd/pkg/kustomize/filesys"
	ssautil "github.com/fluxcd/pkg/ssa/utils"

	"github.com/c5c3/kubectl-c5c3/internal/kbuild"
)

// TestDecodeResMapMatchesYAML checks that decoding kustomize's JSON gives
// the objects kustomize-controller reads from ResMap.AsYaml with
// ssautil.ReadObjects, on the sample repo and on values whose YAML
// spelling is ambiguous.
func TestDecodeResMapMatchesYAML(t *testing.T) {
	sample, err := filepath.Abs("../testdata/gitops")
	if err != nil {
		t.Fatal(err)
	}
	odd := t.TempDir()
	files := map[string]string{
		"kustomization.yaml": "resources: [cm.yaml, list.yaml, kust.yaml, anchors.yaml]\n",
		"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: odd
  annotations: {a: "yes", b: "on", c: "0x10", d: "1e3", e: "2024-01-01", f: "", g: "null"}
data:
  yes: yes
  float: "1.0"
  multi: |
    line one
      indented: true
    ünïcödé ✓
  tab: "a\tb"
binaryData: {}
spec:
  int: 1
  float: 1.0
  exp: 1e3
  hex: 0x10
  octal: 0o17
  big: 18446744073709551615
  neg: -9223372036854775808
  date: 2024-01-01
  stamp: 2001-12-14t21:59:43.10-05:00
  nothing: null
  tilde: ~
  empty: {}
  emptyList: []
  bool: true
  yes11: yes
`,
		"list.yaml":    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n  stringData: {k: v}\n",
		"anchors.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: anchors}\ndata:\n  a: &x shared\n  b: *x\n",
		"kust.yaml":    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata: {name: dropped}\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(odd, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var dirs [][2]string
	_ = filepath.WalkDir(sample, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "kustomization.yaml" {
			dirs = append(dirs, [2]string{sample, filepath.Dir(p)})
		}
		return nil
	})
	dirs = append(dirs, [2]string{odd, odd})
	for _, rd := range dirs {
		fs, err := fluxfs.MakeFsOnDiskSecure(rd[0])
		if err != nil {
			t.Fatal(err)
		}
		m, err := kbuild.Build(fs, rd[1])
		if err != nil {
			t.Fatalf("%s: %v", rd[1], err)
		}
		y, err := m.AsYaml()
		if err != nil {
			t.Fatal(err)
		}
		want, err := ssautil.ReadObjects(bytes.NewReader(y))
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeResMap(m)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decodeResMap differs from ReadObjects(AsYaml):\n got %#v\nwant %#v", rd[1], got, want)
		}
		if len(want) == 0 {
			t.Errorf("%s: no objects", rd[1])
		}
	}
}
