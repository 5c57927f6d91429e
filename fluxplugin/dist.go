package fluxplugin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/c5c3/kubectl-c5c3/krew"
)

// RenderDistOptions are the inputs of RenderDist.
type RenderDistOptions struct {
	// DistDir holds the archives and checksums.txt.
	DistDir string
	// Version is the release tag.
	Version string
	// BaseURL, when set, replaces the release URL before each archive name.
	BaseURL string
}

// RenderDist renders the manifest and catalog for the archives in DistDir:
// it reads checksums.txt, checks that every archive exists with that
// checksum and holds the binary the manifest extracts, as an executable
// top-level file, and decodes the written YAML back (strictly) to check it.
func RenderDist(opts RenderDistOptions) (*Result, error) {
	sums, err := krew.ReadChecksumsFile(filepath.Join(opts.DistDir, krew.ChecksumsFile))
	if err != nil {
		return nil, fmt.Errorf("%w (run `make dist` first)", err)
	}
	res, err := Render(RenderOptions{Version: opts.Version, Checksums: sums, BaseURL: opts.BaseURL})
	if err != nil {
		return nil, err
	}
	for _, p := range res.Manifest.Versions[0].Platforms {
		if err := checkArchive(opts.DistDir, opts.Version, p); err != nil {
			return nil, err
		}
	}
	m, err := ParseManifest(res.ManifestYAML)
	if err != nil {
		return nil, err
	}
	if err := m.Check(opts.Version, krew.Platforms); err != nil {
		return nil, fmt.Errorf("written flux plugin manifest is not valid:\n%w", err)
	}
	c, err := ParseCatalog(res.CatalogYAML)
	if err != nil {
		return nil, err
	}
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("written flux plugin catalog is not valid:\n%w", err)
	}
	return res, nil
}

// checkArchive checks p's archive in distDir against p's checksum and
// looks for its extractPath entry, as `flux plugin install` would.
func checkArchive(distDir, version string, p Platform) error {
	pl := krew.Platform{OS: p.OS, Arch: p.Arch}
	path := filepath.Join(distDir, pl.ArchiveName(version))
	got, err := krew.SHA256File(path)
	if err != nil {
		return fmt.Errorf("archive for %s: %w", pl, err)
	}
	if "sha256:"+got != p.Checksum {
		return fmt.Errorf("%s has sha256 %s but %s says %s: run `make dist` again", filepath.Base(path), got, krew.ChecksumsFile, strings.TrimPrefix(p.Checksum, "sha256:"))
	}
	files, err := krew.ReadArchive(path)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.Name == p.ExtractPath {
			if f.Mode&0o111 == 0 {
				return fmt.Errorf("%s: %s is not executable (mode %v)", filepath.Base(path), f.Name, f.Mode)
			}
			return nil
		}
	}
	return fmt.Errorf("%s has no %s for `flux plugin install` to extract", filepath.Base(path), p.ExtractPath)
}

// Write writes the manifest and the catalog into dir (created if needed):
// dir is then a catalog base URL's content, for $FLUXCD_PLUGIN_CATALOG.
func (r *Result) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), r.ManifestYAML, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, CatalogFile), r.CatalogYAML, 0o644)
}
