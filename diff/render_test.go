package diff

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/internal/printers"
)

func sampleResult(n int) *Result {
	r := &Result{APIVersion: APIVersion, Kind: Kind, Source: "flux-system/flux-system"}
	r.Kustomizations = []KustomizationResult{{Cluster: "control-plane", Namespace: "flux-system", Name: "apps", Path: "./apps"}}
	for i := range n {
		o := ObjectResult{Cluster: "control-plane", Kustomization: "flux-system/apps", APIVersion: "v1", Kind: "ConfigMap",
			Namespace: "apps", Name: strings.Repeat("x", 3) + string(rune('a'+i%26)), Action: ActionDrifted,
			Diff: "--- live\n+++ merged\n@@ -1,1 +1,1 @@\n-a: 1\n+a: 2\n"}
		r.Objects = append(r.Objects, o)
		r.Kustomizations[0].Counts.add(ActionDrifted)
		r.Summary.add(ActionDrifted)
	}
	return r
}

func TestWriteMarkdownTruncates(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sampleResult(200), 3000); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if len(out) > 3000 {
		t.Fatalf("markdown is %d characters, cap 3000", len(out))
	}
	if !strings.Contains(out, "Report truncated:") || !strings.Contains(out, "more objects not shown") {
		t.Fatalf("truncation not said:\n%s", out)
	}
	if !strings.Contains(out, "| control-plane | flux-system/apps | ./apps | 0 | 200 |") {
		t.Fatalf("summary table incomplete:\n%s", out)
	}
	b.Reset()
	if err := WriteMarkdown(&b, sampleResult(2), 0); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "truncated") || strings.Count(b.String(), "```diff") != 2 {
		t.Fatalf("small report must be whole:\n%s", b.String())
	}
}

func TestWriteTextColour(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, sampleResult(1), printers.Palette{On: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\x1b[32m+a: 2\x1b[0m") || !strings.Contains(b.String(), "\x1b[31m-a: 1\x1b[0m") {
		t.Fatalf("+/- lines not coloured:\n%q", b.String())
	}
	b.Reset()
	_ = WriteText(&b, sampleResult(1), printers.Palette{})
	if strings.Contains(b.String(), "\x1b[") {
		t.Fatal("colour with the palette off")
	}
}

func TestMaskAndSOPS(t *testing.T) {
	s := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"},
		"data":       map[string]any{"a": "c2VjcmV0", "b": "*** (after)"},
		"stringData": map[string]any{"c": "plain"},
	}}
	m := mask(s)
	if y := toYAML(m); strings.Contains(y, "c2VjcmV0") || strings.Contains(y, "plain") || !strings.Contains(y, "*** (after)") {
		t.Fatalf("mask:\n%s", y)
	}
	if got, _, _ := unstructured.NestedString(s.Object, "data", "a"); got != "c2VjcmV0" {
		t.Fatal("mask must not modify its input")
	}
	cm := s.DeepCopy()
	cm.SetKind("ConfigMap")
	if mask(cm) != cm {
		t.Fatal("ConfigMaps are not masked")
	}
}
