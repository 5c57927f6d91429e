package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/fluxplugin"
	"github.com/c5c3/kubectl-c5c3/krew"
)

type fluxTestOptions struct {
	Version string
	DistDir string
	// Catalog is the directory with the rendered c5c3.yaml and catalog.yaml.
	Catalog string
	Flux    string
}

// fluxTest installs the plugin with the real flux CLI from a catalog on a
// 127.0.0.1 server that stands in for the GitHub release: it serves the
// rendered catalog.yaml, the rendered c5c3.yaml with each archive URL
// moved to the server (names and checksums unchanged), and the archives of
// dist/. It checks that `flux plugin search` lists the plugin, that `flux
// plugin install c5c3` downloads this machine's archive and installs its
// kubectl-c5c3 as flux-c5c3, that flux lists and runs the plugin (version,
// help naming `flux c5c3`, completion through flux, exit codes), that
// `flux plugin uninstall` removes it, and that an install pinned by the
// manifest's digest works too. It needs no network.
func fluxTest(ctx context.Context, o fluxTestOptions) (err error) {
	if o.Flux == "" {
		return errors.New("flux-test: -flux is required")
	}
	fluxBin, err := filepath.Abs(o.Flux)
	if err != nil {
		return err
	}
	host := hostPlatform()
	archive, err := hostArchive(o.DistDir, o.Version)
	if err != nil {
		return err
	}
	manifestYAML, err := os.ReadFile(filepath.Join(o.Catalog, fluxplugin.ManifestFile))
	if err != nil {
		return fmt.Errorf("%w (run `make dist` first)", err)
	}
	catalogYAML, err := os.ReadFile(filepath.Join(o.Catalog, fluxplugin.CatalogFile))
	if err != nil {
		return fmt.Errorf("%w (run `make dist` first)", err)
	}
	manifest, err := fluxplugin.ParseManifest(manifestYAML)
	if err != nil {
		return err
	}
	if err := manifest.Check(o.Version, krew.Platforms); err != nil {
		return fmt.Errorf("%s:\n%w", filepath.Join(o.Catalog, fluxplugin.ManifestFile), err)
	}

	srv, err := listenLocal("catalog")
	if err != nil {
		return err
	}
	defer srv.Close()
	base := srv.URL
	// The shipped manifest with only the archives' host moved.
	for i := range manifest.Versions[0].Platforms {
		p := &manifest.Versions[0].Platforms[i]
		p.URL = base + "/download/" + path.Base(p.URL)
	}
	served, err := yaml.Marshal(manifest)
	if err != nil {
		return err
	}
	files := http.StripPrefix("/download/", http.FileServer(http.Dir(o.DistDir)))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /catalog/"+fluxplugin.ManifestFile, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(served) })
	mux.HandleFunc("GET /catalog/"+fluxplugin.CatalogFile, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(catalogYAML) })
	mux.Handle("GET /download/", files)
	srv.serve(mux)
	catalogURL := base + "/catalog/"
	fmt.Printf("  serving the catalog at %s and %s at %s/download/\n", catalogURL, o.DistDir, base)

	root, removeRoot, err := throwawayDir("c5c3-flux-plugins-", "")
	if err != nil {
		return err
	}
	defer removeRoot(&err)
	pluginDir := filepath.Join(root, "plugins")
	home := filepath.Join(root, "home")
	for _, d := range []string{pluginDir, home} {
		// flux does not create a $FLUXCD_PLUGINS directory.
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	env := setEnv(os.Environ(), "FLUXCD_PLUGINS", pluginDir)
	env = setEnv(env, "FLUXCD_PLUGIN_CATALOG", catalogURL)
	env = setEnv(env, "HOME", home)
	fmt.Printf("  FLUXCD_PLUGINS=%s FLUXCD_PLUGIN_CATALOG=%s HOME=%s\n", pluginDir, catalogURL, home)
	r := runner{ctx: ctx, env: env}

	out, err := r.run(fluxBin, "plugin", "search", fluxplugin.Name)
	if err != nil {
		return err
	}
	if !hasLine(out, fluxplugin.Name) || !strings.Contains(out, fluxplugin.Description) {
		return fmt.Errorf("`flux plugin search %s` should list %s from catalog.yaml", fluxplugin.Name, fluxplugin.Name)
	}
	fmt.Println("  ok: flux plugin search lists c5c3 from catalog.yaml")

	if _, err := r.run(fluxBin, "plugin", "install", fluxplugin.Name); err != nil {
		return err
	}
	installed := filepath.Join(pluginDir, fluxplugin.Bin)
	if host.Windows() {
		installed += ".exe"
	}
	if err := sameAsInArchive(installed, archive, host.Binary()); err != nil {
		return err
	}
	want := "/download/" + host.ArchiveName(o.Version)
	got := strings.Join(srv.requests(), " ")
	if !strings.Contains(" "+got+" ", " "+want+" ") {
		return fmt.Errorf("flux should have downloaded %s, requests: %s", want, got)
	}
	semver := fluxplugin.SemVer(o.Version)
	receipt, err := os.ReadFile(filepath.Join(pluginDir, fluxplugin.Bin+".yaml"))
	if err != nil {
		return fmt.Errorf("flux plugin install should write a receipt: %w", err)
	}
	if !strings.Contains(string(receipt), "version: "+semver) {
		return fmt.Errorf("the receipt should record version %s:\n%s", semver, receipt)
	}
	fmt.Printf("  ok: flux downloaded %s, found the manifest's sha256 and installed its %s as %s\n", want, host.Binary(), installed)

	out, err = r.run(fluxBin, "plugin", "list")
	if err != nil {
		return err
	}
	if !hasLine(out, fluxplugin.Name) || !strings.Contains(out, semver) {
		return fmt.Errorf("`flux plugin list` should list %s %s", fluxplugin.Name, semver)
	}
	fmt.Println("  ok: flux plugin list lists c5c3")

	out, err = r.run(fluxBin, fluxplugin.Name, "version")
	if err != nil {
		return err
	}
	if !strings.Contains(out, krew.BinaryName+" "+o.Version+" ") {
		return fmt.Errorf("`flux c5c3 version` should print version %s", o.Version)
	}
	fmt.Printf("  ok: flux c5c3 version prints %s\n", o.Version)

	out, err = r.run(fluxBin, fluxplugin.Name, "--help")
	if err != nil {
		return err
	}
	for _, want := range []string{"Usage:\n  flux c5c3 [command]", "  flux c5c3 status --failing", `Use "flux c5c3 [command] --help"`} {
		if !strings.Contains(out, want) {
			return fmt.Errorf("`flux c5c3 --help` should say %q", want)
		}
	}
	if strings.Contains(out, "kubectl c5c3") {
		return errors.New("`flux c5c3 --help` should not say `kubectl c5c3`")
	}
	fmt.Println("  ok: flux c5c3 --help names the command flux c5c3")

	// flux completes its plugins by running them with cobra's __complete.
	out, err = r.run(fluxBin, "__complete", fluxplugin.Name, "ver")
	if err != nil {
		return err
	}
	if !hasLine(out, "version") || !hasLine(out, "versions") {
		return errors.New("`flux __complete c5c3 ver` should offer version and versions from the plugin")
	}
	fmt.Println("  ok: flux completes `flux c5c3 ver` to version and versions through the plugin")

	// flux replaces itself with the plugin: its exit code and stderr are the plugin's.
	_, err = r.run(fluxBin, fluxplugin.Name, "version", "--no-such-flag")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		return fmt.Errorf("`flux c5c3 version --no-such-flag` should exit 2 (a usage error of the plugin), got %v", err)
	}
	fmt.Println("  ok: flux c5c3 exits with the plugin's code (2 for a bad flag)")

	if _, err := r.run(fluxBin, "plugin", "uninstall", fluxplugin.Name); err != nil {
		return err
	}
	for _, p := range []string{installed, filepath.Join(pluginDir, fluxplugin.Bin+".yaml")} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s should be gone after `flux plugin uninstall`", p)
		}
	}
	fmt.Printf("  ok: flux plugin uninstall removed %s and its receipt\n", installed)

	// Pinned by digest: flux looks the manifest's checksums up.
	var digest string
	for _, p := range manifest.Versions[0].Platforms {
		if p.OS == host.OS && p.Arch == host.Arch {
			digest = p.Checksum
		}
	}
	if _, err := r.run(fluxBin, "plugin", "install", fluxplugin.Name+"@"+digest); err != nil {
		return err
	}
	if err := sameAsInArchive(installed, archive, host.Binary()); err != nil {
		return err
	}
	if _, err := r.run(fluxBin, "plugin", "uninstall", fluxplugin.Name); err != nil {
		return err
	}
	fmt.Printf("  ok: flux plugin install %s@%s installs the same binary\n", fluxplugin.Name, digest)
	fmt.Printf("  flux-test passed for %s (%s, flux plugin version %s)\n", filepath.Base(archive), o.Version, semver)
	return nil
}

// sameAsInArchive checks that installed has the content of entry name in
// archive and is executable.
func sameAsInArchive(installed, archive, name string) error {
	got, err := os.ReadFile(installed)
	if err != nil {
		return fmt.Errorf("flux plugin install should write %s: %w", installed, err)
	}
	info, err := os.Stat(installed)
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable (mode %v)", installed, info.Mode())
	}
	files, err := krew.ReadArchive(archive)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.Name == name {
			if string(f.Data) != string(got) {
				return fmt.Errorf("%s differs from %s in %s", installed, name, filepath.Base(archive))
			}
			return nil
		}
	}
	return fmt.Errorf("%s has no %s", filepath.Base(archive), name)
}
