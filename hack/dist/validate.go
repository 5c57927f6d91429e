package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/c5c3/kubectl-c5c3/krew"
)

type validateOptions struct {
	Version     string
	DistDir     string
	Template    string
	Validator   string
	Krew        string
	SkipInstall bool
}

// validate renders the manifest with archive URIs on a 127.0.0.1 server
// that serves DistDir, and runs krew's validate-krew-manifest on it. Without
// SkipInstall the validator runs `kubectl krew install` for every platform,
// downloading each archive from that server and checking it has a LICENSE.
func validate(ctx context.Context, o validateOptions) error {
	if o.Validator == "" {
		return errors.New("validate: -validator is required")
	}
	validator, err := filepath.Abs(o.Validator)
	if err != nil {
		return err
	}
	srv, err := listenLocal("archive")
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.serve(http.FileServer(http.Dir(o.DistDir)))
	baseURL := srv.URL + "/"
	fmt.Printf("  serving %s on %s\n", o.DistDir, baseURL)

	tmp, err := os.MkdirTemp("", "c5c3-krew-validate-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	// validate-krew-manifest wants the file named after the plugin.
	manifestPath := filepath.Join(tmp, krew.PluginName+".yaml")
	if err := manifest(o.Version, o.DistDir, o.Template, baseURL, manifestPath); err != nil {
		return err
	}

	args := []string{"-manifest", manifestPath}
	if o.SkipInstall {
		args = append(args, "-skip-install")
	}
	cmd := exec.CommandContext(ctx, validator, args...)
	cmd.Env = os.Environ()
	if o.Krew != "" {
		// The validator runs `kubectl krew`: put kubectl-krew on the PATH.
		krewDir, err := filepath.Abs(filepath.Dir(o.Krew))
		if err != nil {
			return err
		}
		cmd.Env = setEnv(cmd.Env, "PATH", krewDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	fmt.Printf("  $ validate-krew-manifest %s\n", strings.Join(args, " "))
	out, err := cmd.CombinedOutput()
	fmt.Print(indentOutput(string(out)))
	if err != nil {
		return fmt.Errorf("validate-krew-manifest rejected the manifest: %w", err)
	}
	if o.SkipInstall {
		fmt.Println("  manifest is valid (structure only: -skip-install)")
	} else {
		fmt.Printf("  manifest is valid and installs on all %d platforms from %s\n", len(krew.Platforms), baseURL)
	}
	return nil
}

// setEnv returns env with key set to value.
func setEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// indentOutput indents a command's output under the step that ran it.
func indentOutput(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "    | " + strings.ReplaceAll(s, "\n", "\n    | ") + "\n"
}
