package versions

import (
	"regexp"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/printers"
)

// TestWriteTableColour: with colour on, skew and unreachable cells are red
// and the columns still line up; with colour off there are no escapes.
func TestWriteTableColour(t *testing.T) {
	m := &Matrix{Environments: []Environment{{Name: "prod", Previous: "stage"}}, Components: []Component{{
		Key: "image/app/newTag", Kind: "image", Environments: []Cell{{
			Environment: "prod", Git: "1.1", Skew: []string{SkewPipeline},
			Targets: []Target{{Cluster: "eu-1", Applier: "Kustomization/ns/app", Applied: "1.1", Error: "cluster eu-1 is unreachable"}},
		}},
	}}, Summary: Summary{Components: 1, Environments: 1, Skewed: 1, Pipeline: 1, Unreachable: 1}}
	var on, off strings.Builder
	if err := WriteTable(&on, m, RenderOptions{Palette: printers.Palette{On: true}}); err != nil {
		t.Fatal(err)
	}
	if err := WriteTable(&off, m, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(off.String(), "\x1b[") || !strings.Contains(off.String(), "1.1       unreachable   not in stage") {
		t.Fatalf("colour off:\n%s", off.String())
	}
	if !strings.Contains(on.String(), "\x1b[31mnot in stage\x1b[0m") || !strings.Contains(on.String(), "\x1b[31munreachable\x1b[0m") {
		t.Fatalf("colour on:\n%q", on.String())
	}
	stripped := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(on.String(), "")
	if first := func(s string) string { return strings.TrimRight(strings.SplitN(s, "\n", 3)[1], " ") }; first(stripped) != first(off.String()) {
		t.Fatalf("columns move with colour:\n%s\n%s", stripped, off.String())
	}
}
