package testfleet

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// FluxOperatorVersion is the Flux Operator whose CRDs the hub gets. Its Go
// code is AGPL and never imported, so go.mod cannot pin it: this is the one
// place its version is written.
const FluxOperatorVersion = "v0.59.0"

// ControllerVersion is the version of a Flux controller
// ("kustomize-controller", "helm-controller", "source-controller") the
// test fleet uses: that of its api module in go.mod, which the plugin is
// built against, as the go command resolves it. `make flux-bins` derives
// the same from go.mod, so the version is written in one place.
func ControllerVersion(name string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	path := "github.com/fluxcd/" + name + "/api"
	cmd := exec.Command("go", "list", "-m", "-f", "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", path)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("the %s version: go list -m %s: %w: %s", name, path, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
