package plugin

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builtPlugin is the kubectl-c5c3 binary, built once per test run by the
// first test that asks for it and removed by TestMain.
var builtPlugin struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// buildPlugin returns the path of the kubectl-c5c3 binary, building it on
// the first call of the run; later calls (and their tests) reuse it.
func buildPlugin(t testing.TB) string {
	t.Helper()
	b := &builtPlugin
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "c5c3-plugin-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "kubectl-c5c3")
		b.out, b.err = exec.Command("go", "build", "-ldflags", "-s -w", "-o", b.path, "github.com/c5c3/kubectl-c5c3/cmd/kubectl-c5c3").CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build: %v\n%s", b.err, b.out)
	}
	return b.path
}

// removePluginBinary deletes the binary buildPlugin made, if any.
func removePluginBinary() {
	if builtPlugin.dir != "" {
		_ = os.RemoveAll(builtPlugin.dir)
	}
}
