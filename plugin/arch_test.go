package plugin

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEnginesDoNotImportCobra: the engine packages take typed inputs and
// never touch the command line.
func TestEnginesDoNotImportCobra(t *testing.T) {
	for _, pkg := range []string{"diff", "promote", "status", "trace", "versions", "helmrender", "fleet", "kube", "krew"} {
		files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("package %s: no files (%v)", pkg, err)
		}
		for _, f := range files {
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(path, "github.com/spf13/") {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
}
