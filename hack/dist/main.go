// Command dist packs the release archives of kubectl-c5c3, renders the krew
// manifest and the flux CLI plugin manifest and catalog, and tests them with
// krew and flux. The Makefile (hack/make/dist.mk) runs it:
//
//	go run ./hack/dist pack          -version v0.1.0 -bin-dir dist/bin -dist dist -mtime 1700000000
//	go run ./hack/dist manifest      -version v0.1.0 -dist dist -o dist/c5c3.yaml [-base-url URL]
//	go run ./hack/dist validate      -version v0.1.0 -dist dist -validator bin/.../validate-krew-manifest -krew bin/.../kubectl-krew
//	go run ./hack/dist krew-test     -version v0.1.0 -dist dist -manifest dist/c5c3.yaml -krew bin/.../kubectl-krew
//	go run ./hack/dist flux-manifest -version v0.1.0 -dist dist -o dist/flux-catalog [-base-url URL]
//	go run ./hack/dist flux-test     -version v0.1.0 -dist dist -catalog dist/flux-catalog -flux bin/flux/flux
//
// The work is done by packages krew and fluxplugin; this file only parses
// flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/c5c3/kubectl-c5c3/fluxplugin"
	"github.com/c5c3/kubectl-c5c3/krew"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

const usage = `usage: dist <pack|manifest|validate|krew-test|flux-manifest|flux-test|host> [flags]; dist <command> -h for the flags`

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	version := fs.String("version", "", "release version, a semver with a leading v (e.g. v0.1.0)")
	distDir := fs.String("dist", "dist", "directory with the archives and checksums.txt")
	template := fs.String("template", krew.TemplateFile, "krew-release-bot manifest template")
	switch args[0] {
	case "pack":
		binDir := fs.String("bin-dir", "dist/bin", "directory with <os>_<arch>/kubectl-c5c3[.exe]")
		mtime := fs.Int64("mtime", 0, "modification time of every archive entry, in Unix seconds (the commit time)")
		root := fs.String("root", ".", "repository root (LICENSE, NOTICE, completion shims)")
		if err := parse(fs, args[1:], version); err != nil {
			return err
		}
		return pack(*version, *binDir, *distDir, *root, time.Unix(*mtime, 0))
	case "manifest":
		out := fs.String("o", "", "write the manifest here (default: stdout)")
		baseURL := fs.String("base-url", "", "base URL of the archives (default: the GitHub release URL in the template)")
		if err := parse(fs, args[1:], version); err != nil {
			return err
		}
		return manifest(*version, *distDir, *template, *baseURL, *out)
	case "validate":
		validator := fs.String("validator", "", "validate-krew-manifest binary")
		krewBin := fs.String("krew", "", "kubectl-krew binary (validate-krew-manifest runs `kubectl krew install`)")
		skipInstall := fs.Bool("skip-install", false, "only validate the manifest's structure")
		if err := parse(fs, args[1:], version); err != nil {
			return err
		}
		return validate(ctx, validateOptions{
			Version: *version, DistDir: *distDir, Template: *template,
			Validator: *validator, Krew: *krewBin, SkipInstall: *skipInstall,
		})
	case "krew-test":
		manifestPath := fs.String("manifest", "", "rendered manifest (default: <dist>/c5c3.yaml)")
		krewBin := fs.String("krew", "", "kubectl-krew binary")
		if err := parse(fs, args[1:], version); err != nil {
			return err
		}
		if *manifestPath == "" {
			*manifestPath = filepath.Join(*distDir, krew.PluginName+".yaml")
		}
		return krewTest(ctx, krewTestOptions{
			Version: *version, DistDir: *distDir, Manifest: *manifestPath, Krew: *krewBin,
		})
	case "flux-manifest":
		out := fs.String("o", "", "directory to write c5c3.yaml and catalog.yaml to (default: <dist>/flux-catalog)")
		baseURL := fs.String("base-url", "", "base URL of the archives (default: the GitHub release URL of -version)")
		if err := parse(fs, args[1:], version); err != nil {
			return err
		}
		if *out == "" {
			*out = filepath.Join(*distDir, fluxplugin.Dir)
		}
		return fluxManifest(*version, *distDir, *baseURL, *out)
	case "flux-test":
		catalog := fs.String("catalog", "", "directory with the rendered c5c3.yaml and catalog.yaml (default: <dist>/flux-catalog)")
		fluxBin := fs.String("flux", "", "flux CLI binary")
		if err := parse(fs, args[1:], version); err != nil {
			return err
		}
		if *catalog == "" {
			*catalog = filepath.Join(*distDir, fluxplugin.Dir)
		}
		return fluxTest(ctx, fluxTestOptions{Version: *version, DistDir: *distDir, Catalog: *catalog, Flux: *fluxBin})
	case "host":
		// Prints this machine's archive name, for scripts.
		if err := parse(fs, args[1:], version); err != nil {
			return err
		}
		fmt.Println(hostPlatform().ArchiveName(*version))
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

func parse(fs *flag.FlagSet, args []string, version *string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	if *version == "" {
		return fmt.Errorf("%s: -version is required", fs.Name())
	}
	return krew.ValidateVersion(*version)
}

func hostPlatform() krew.Platform { return krew.Platform{OS: runtime.GOOS, Arch: runtime.GOARCH} }

func pack(version, binDir, outDir, root string, mtime time.Time) error {
	bins := map[krew.Platform]string{}
	for _, p := range krew.Platforms {
		b := filepath.Join(binDir, p.OS+"_"+p.Arch, p.Binary())
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("binary for %s: %w (build it first: make dist)", p, err)
		}
		bins[p] = b
	}
	res, err := krew.Dist(krew.DistOptions{
		Version: version, RepoRoot: root, Binaries: bins, OutDir: outDir, ModTime: mtime,
	})
	if err != nil {
		return err
	}
	for _, a := range res.Artifacts {
		fmt.Printf("  %s  %s (%s)\n", a.SHA256, a.Path, humanSize(a.Size))
	}
	fmt.Printf("  wrote %s (entries dated %s)\n", res.ChecksumsPath, mtime.UTC().Format(time.RFC3339))
	return nil
}

func manifest(version, distDir, template, baseURL, out string) error {
	res, err := krew.RenderDist(krew.RenderDistOptions{
		TemplatePath: template, DistDir: distDir, Version: version, BaseURL: baseURL,
	})
	if err != nil {
		return err
	}
	if out == "" {
		_, err = os.Stdout.Write(res.Manifest)
		return err
	}
	if err := os.WriteFile(out, res.Manifest, 0o644); err != nil {
		return err
	}
	fmt.Printf("  wrote %s (%d platforms, version %s)\n", out, len(res.URIs), version)
	return nil
}

func fluxManifest(version, distDir, baseURL, out string) error {
	res, err := fluxplugin.RenderDist(fluxplugin.RenderDistOptions{DistDir: distDir, Version: version, BaseURL: baseURL})
	if err != nil {
		return err
	}
	if err := res.Write(out); err != nil {
		return err
	}
	fmt.Printf("  wrote %s and %s (%d platforms, version %s)\n", filepath.Join(out, fluxplugin.ManifestFile), fluxplugin.CatalogFile,
		len(res.Manifest.Versions[0].Platforms), res.Manifest.Versions[0].Version)
	return nil
}

func humanSize(n int64) string {
	const mib = 1 << 20
	if n >= mib {
		return strconv.FormatFloat(float64(n)/mib, 'f', 1, 64) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}
