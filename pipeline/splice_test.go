package pipeline

import (
	"bytes"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/c5c3/kubectl-c5c3/internal/golden"
)

// editAll sets the pins of a fixture named in values (key → value, tag).
func editAll(t *testing.T, f File, values map[string][2]string) []byte {
	t.Helper()
	pins, err := Scan([]File{f})
	if err != nil {
		t.Fatal(err)
	}
	var edits []Edit
	for _, p := range pins {
		if v, ok := values[p.Key]; ok {
			edits = append(edits, Edit{Pin: p, Value: v[0], Tag: v[1]})
		}
	}
	if len(edits) != len(values) {
		t.Fatalf("%d of %d keys found in %s", len(edits), len(values), f.Path)
	}
	out, err := ApplyEdits(f.Data, edits)
	if err != nil {
		t.Fatal(err)
	}
	// Re-scan: every pin reads as set, the others as before.
	after, err := Scan([]File{{Path: f.Path, Data: out}})
	if err != nil {
		t.Fatalf("edited file does not parse: %v\n%s", err, out)
	}
	if len(after) != len(pins) {
		t.Fatalf("%d pins after the edit, %d before", len(after), len(pins))
	}
	for i, p := range after {
		want := pins[i].Value
		if v, ok := values[p.Key]; ok {
			want = v[0]
		}
		if p.Value != want || p.Key != pins[i].Key || p.Line != pins[i].Line {
			t.Errorf("after the edit %s:%d %s = %q, want %q", p.File, p.Line, p.Key, p.Value, want)
		}
	}
	assertOnlyValuesChanged(t, f.Data, out, pins, values)
	return out
}

// assertOnlyValuesChanged checks the edit byte for byte: the same lines,
// and on each edited line only the value token differs.
func assertOnlyValuesChanged(t *testing.T, before, after []byte, pins []Pin, values map[string][2]string) {
	t.Helper()
	bl, al := bytes.SplitAfter(before, []byte("\n")), bytes.SplitAfter(after, []byte("\n"))
	if len(bl) != len(al) {
		t.Fatalf("line count changed: %d → %d", len(bl), len(al))
	}
	edited := map[int]Pin{}
	for _, p := range pins {
		if _, ok := values[p.Key]; ok {
			edited[p.Line] = p
		}
	}
	for i := range bl {
		p, ok := edited[i+1]
		if !ok {
			if !bytes.Equal(bl[i], al[i]) {
				t.Errorf("line %d changed but holds no edited pin:\n- %q\n+ %q", i+1, bl[i], al[i])
			}
			continue
		}
		start, end, _, err := locate(before, p)
		if err != nil {
			t.Fatal(err)
		}
		lineStart := bytes.LastIndexByte(before[:start], '\n') + 1
		prefix, suffix := before[lineStart:start], bl[i][end-lineStart:]
		if !bytes.HasPrefix(al[i], prefix) || !bytes.HasSuffix(al[i], suffix) {
			t.Errorf("line %d: more than the value changed:\n- %q\n+ %q", i+1, bl[i], al[i])
		}
	}
}

func TestApplyEditsGolden(t *testing.T) {
	for _, tc := range []struct {
		file   string
		values map[string][2]string
	}{
		{"release.yaml", map[string][2]string{
			"HelmRelease/keystone/keystone":    {"1.3.0", "!!str"},
			"setter/keystone-replicas":         {"3", "!!int"},
			"setter/region-code":               {"fr", "!!str"},
			"OCIRepository/c5c3-manifests/tag": {"v0.5.0", "!!str"},
			"FluxInstance/flux":                {"2.7.x", "!!str"},
		}},
		{"kustomization.yaml", map[string][2]string{
			"image/ghcr.io/c5c3/keystone/newTag": {"2025.10", "!!str"}, // plain would read as a float: quoted
			"image/ghcr.io/c5c3/glance/digest":   {"sha256:2222222222222222222222222222222222222222222222222222222222222222", "!!str"},
			"image/ghcr.io/c5c3/glance/newName":  {"registry.example.com/c5c3/glance-next", "!!str"},
			"image/ghcr.io/c5c3/horizon/newTag":  {"7.1", "!!str"},
		}},
		{"crlf.yaml", map[string][2]string{
			"GitRepository/keystone-config/tag": {"v1.3.0", "!!str"},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out := editAll(t, readFixture(t, tc.file), tc.values)
			golden.Assert(t, "edit-"+tc.file, string(out))
		})
	}
}

func TestApplyEditsRefused(t *testing.T) {
	f := readFixture(t, "refused.yaml")
	pins, err := Scan([]File{f})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"setter/motd": "block scalar", "setter/long": "spanning several lines"}
	if len(pins) != len(want) {
		t.Fatalf("pins %+v", pins)
	}
	for _, p := range pins {
		_, err := ApplyEdits(f.Data, []Edit{{Pin: p, Value: "x", Tag: "!!str"}})
		if err == nil || !strings.Contains(err.Error(), want[p.Key]) || !strings.Contains(err.Error(), f.Path) {
			t.Errorf("%s: error %v, want %q naming the file", p.Key, err, want[p.Key])
		}
	}
}

func TestRenderScalar(t *testing.T) {
	for _, tc := range []struct {
		name, value, tag string
		style            yaml.Style
		flow             bool
		want             string
	}{
		{"plain stays plain", "1.3.0", "!!str", 0, false, "1.3.0"},
		{"plain int", "3", "!!int", 0, false, "3"},
		{"string that reads as a float", "1.10", "!!str", 0, false, `"1.10"`},
		{"string that reads as a bool", "true", "!!str", 0, false, `"true"`},
		{"string that reads as null", "null", "!!str", 0, false, `"null"`},
		{"comment marker", "a #b", "!!str", 0, false, `"a #b"`},
		{"mapping indicator", "a: b", "!!str", 0, false, `"a: b"`},
		{"leading indicator", "*star", "!!str", 0, false, `"*star"`},
		{"flow indicator in flow", "a,b", "!!str", 0, true, `"a,b"`},
		{"comma outside flow is fine", "a,b", "!!str", 0, false, "a,b"},
		{"empty", "", "!!str", 0, false, `""`},
		{"double quoted stays", "v1", "!!str", yaml.DoubleQuotedStyle, false, `"v1"`},
		{"double quoted escapes", `a"b\c`, "!!str", yaml.DoubleQuotedStyle, false, `"a\"b\\c"`},
		{"single quoted stays", "it's", "!!str", yaml.SingleQuotedStyle, false, `'it''s'`},
		{"single quoted with newline goes double", "a\nb", "!!str", yaml.SingleQuotedStyle, false, `"a\nb"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderScalar(tc.value, tc.tag, "", tc.style, tc.flow)
			if err != nil || got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
		})
	}
}

func TestApplyEditsAnchorAndTag(t *testing.T) {
	src := []byte("a: &v !!str 1.0 # {\"$c5c3\": \"v\"}\nb: *v\n")
	pins, err := Scan([]File{{Path: "x.yaml", Data: src}})
	if err != nil || len(pins) != 1 {
		t.Fatalf("%v %+v", err, pins)
	}
	out, err := ApplyEdits(src, []Edit{{Pin: pins[0], Value: "2.0", Tag: "!!str"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "a: &v !!str 2.0 # {\"$c5c3\": \"v\"}\nb: *v\n"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}
