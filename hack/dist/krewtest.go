package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/c5c3/kubectl-c5c3/krew"
)

type krewTestOptions struct {
	Version  string
	DistDir  string
	Manifest string
	Krew     string
}

// krewTest installs this machine's archive with krew into a throwaway
// KREW_ROOT, checks that kubectl finds and runs the plugin (and completes
// through the shim that `completion install-shim` writes), and uninstalls
// it. It needs no network: the index is an empty local git repository and
// the archive is given with --archive.
func krewTest(ctx context.Context, o krewTestOptions) (err error) {
	if o.Krew == "" {
		return errors.New("krew-test: -krew is required")
	}
	krewBin, err := filepath.Abs(o.Krew)
	if err != nil {
		return err
	}
	archive, err := hostArchive(o.DistDir, o.Version)
	if err != nil {
		return err
	}
	manifestPath, err := filepath.Abs(o.Manifest)
	if err != nil {
		return err
	}
	for _, tool := range []string{"kubectl", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("krew-test needs %s on the PATH: %w", tool, err)
		}
	}

	root, removeRoot, err := throwawayDir("c5c3-krew-root-", "KREW_ROOT")
	if err != nil {
		return err
	}
	defer removeRoot(&err)
	binDir := filepath.Join(root, "bin")
	env := setEnv(os.Environ(), "KREW_ROOT", root)
	env = setEnv(env, "KREW_NO_UPGRADE_CHECK", "1")
	env = setEnv(env, "PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	fmt.Printf("  KREW_ROOT=%s (bin on the PATH, no upgrade check)\n", root)

	r := runner{ctx: ctx, env: env}
	// An empty index lets `krew list` and `krew uninstall` work offline.
	if _, err := r.run("git", "init", "-q", filepath.Join(root, "index", "default")); err != nil {
		return err
	}
	if _, err := r.run(krewBin, "install", "--manifest="+manifestPath, "--archive="+archive); err != nil {
		return err
	}
	installed := filepath.Join(binDir, hostPlatform().Binary())

	out, _ := r.run("kubectl", "plugin", "list") // exits non-zero on unrelated PATH warnings
	if first := firstPlugin(out, krew.BinaryName); first != installed {
		return fmt.Errorf("`kubectl plugin list` should find %s first, found %q", installed, first)
	}
	fmt.Printf("  ok: kubectl finds %s\n", installed)

	out, err = r.run("kubectl", "c5c3", "version")
	if err != nil {
		return err
	}
	if !strings.Contains(out, krew.BinaryName+" "+o.Version+" ") {
		return fmt.Errorf("`kubectl c5c3 version` should print version %s", o.Version)
	}
	fmt.Printf("  ok: kubectl c5c3 version prints %s\n", o.Version)

	// The caveats tell users to run install-shim; check it puts the shim
	// where kubectl finds it and that `kubectl c5c3 <TAB>` then completes.
	if _, err := r.run("kubectl", "c5c3", "completion", "install-shim"); err != nil {
		return err
	}
	shim := filepath.Join(binDir, hostPlatform().Shim())
	if _, err := os.Stat(shim); err != nil {
		return fmt.Errorf("install-shim should write %s: %w", shim, err)
	}
	out, err = r.run("kubectl", "__complete", "c5c3", "ver")
	if err != nil {
		return err
	}
	if !hasLine(out, "version") {
		return errors.New("`kubectl __complete c5c3 ver` should offer version through the shim")
	}
	fmt.Println("  ok: kubectl completes `kubectl c5c3 ver` to version through the shim")

	out, err = r.run(krewBin, "list")
	if err != nil {
		return err
	}
	// A plugin installed from --manifest belongs to the "detached" index.
	if !hasLine(out, krew.PluginName) && !hasLine(out, "detached/"+krew.PluginName) {
		return fmt.Errorf("`krew list` should list %s", krew.PluginName)
	}
	if _, err := r.run(krewBin, "uninstall", krew.PluginName); err != nil {
		return err
	}
	if _, err := os.Lstat(installed); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s should be gone after `krew uninstall`", installed)
	}
	fmt.Printf("  ok: krew uninstall removed %s\n", installed)
	fmt.Printf("  krew-test passed for %s (%s)\n", filepath.Base(archive), o.Version)
	return nil
}

type runner struct {
	ctx context.Context
	env []string
}

// run runs a command, prints it and its output (indented), and returns
// stdout.
func (r runner) run(name string, args ...string) (string, error) {
	fmt.Printf("  $ %s %s\n", filepath.Base(name), strings.Join(args, " "))
	cmd := exec.CommandContext(r.ctx, name, args...)
	cmd.Env = r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	fmt.Print(indentOutput(stdout.String() + stderr.String()))
	if err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(args, " "), err)
	}
	return stdout.String(), nil
}

// firstPlugin returns the first line of `kubectl plugin list` output whose
// file name is name.
func firstPlugin(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if filepath.Base(l) == name {
			return l
		}
	}
	return ""
}

func hasLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == want {
			return true
		}
	}
	return false
}
