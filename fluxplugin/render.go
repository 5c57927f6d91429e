package fluxplugin

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/c5c3/kubectl-c5c3/krew"
)

// What the manifest and the catalog say about kubectl-c5c3.
const (
	// Name is the plugin name: `flux plugin install c5c3`, `flux c5c3`.
	Name = krew.PluginName
	// Bin is the installed file name: the flux CLI runs flux-<name>.
	Bin = "flux-" + Name
	// Description is the one line `flux plugin search` shows (krew's
	// shortDescription).
	Description = "Operate CobaltCore fleets deployed with FluxCD"
	// Homepage and Source are the project's repository.
	Homepage = "https://github.com/c5c3/kubectl-c5c3"
	Source   = Homepage
	// License is the SPDX identifier of LICENSE.
	License = "Apache-2.0"
	// ReleaseURL + <tag> + "/" + archive name is where a release archive is
	// downloaded from, as in .krew.yaml.
	ReleaseURL = "https://github.com/c5c3/kubectl-c5c3/releases/download/"

	// ManifestFile and CatalogFile are what the flux CLI fetches under a
	// catalog base URL ($FLUXCD_PLUGIN_CATALOG).
	ManifestFile = Name + ".yaml"
	CatalogFile  = "catalog.yaml"
	// Dir is the subdirectory of dist/ holding both: a catalog base.
	Dir = "flux-catalog"
)

// RenderOptions are the inputs of Render.
type RenderOptions struct {
	// Version is the release tag, e.g. v0.1.0; the manifest's version is
	// it without the "v".
	Version string
	// Checksums gives the sha256 of each archive by file name (checksums.txt).
	Checksums krew.Checksums
	// BaseURL, when set, replaces ReleaseURL + Version + "/" before each
	// archive name, e.g. http://127.0.0.1:8000/ to serve dist/ locally.
	BaseURL string
	// Platforms are the platforms listed; nil means krew.Platforms.
	Platforms []krew.Platform
}

// Result is a rendered manifest and catalog.
type Result struct {
	Manifest *Manifest
	Catalog  *Catalog
	// ManifestYAML and CatalogYAML are the files' contents.
	ManifestYAML []byte
	CatalogYAML  []byte
}

// SemVer is the manifest version of release tag: v0.1.0 → 0.1.0 (the
// fluxcd/plugins catalog lists versions without the "v", and `flux plugin
// install c5c3@0.1.0` matches the string exactly).
func SemVer(tag string) string { return strings.TrimPrefix(tag, "v") }

// Render builds the manifest of one version, with one entry per platform
// whose archive installs kubectl-c5c3 as Bin, and the catalog listing the
// plugin. It checks both (Manifest.Check, Catalog.Check).
func Render(opts RenderOptions) (*Result, error) {
	if err := krew.ValidateVersion(opts.Version); err != nil {
		return nil, err
	}
	platforms := opts.Platforms
	if platforms == nil {
		platforms = krew.Platforms
	}
	base := ReleaseURL + opts.Version + "/"
	if opts.BaseURL != "" {
		base = strings.TrimSuffix(opts.BaseURL, "/") + "/"
	}
	v := Version{Version: SemVer(opts.Version)}
	for _, p := range platforms {
		archive := p.ArchiveName(opts.Version)
		sum, ok := opts.Checksums[archive]
		if !ok {
			return nil, fmt.Errorf("no checksum for %s in %s: run `make dist` for version %s first", archive, krew.ChecksumsFile, opts.Version)
		}
		v.Platforms = append(v.Platforms, Platform{
			OS: p.OS, Arch: p.Arch, URL: base + archive, Checksum: "sha256:" + sum,
			// The archive holds the binary under its kubectl name.
			ExtractPath: p.Binary(),
		})
	}
	m := &Manifest{
		APIVersion: APIVersion, Kind: PluginKind,
		Name: Name, Description: Description, Homepage: Homepage, Source: Source,
		Bin: Bin, Versions: []Version{v},
	}
	c := &Catalog{APIVersion: APIVersion, Kind: CatalogKind, Plugins: []CatalogEntry{{
		Name: Name, Description: Description, Homepage: Homepage, Source: Source, License: License,
	}}}
	if err := m.Check(opts.Version, platforms); err != nil {
		return nil, fmt.Errorf("rendered flux plugin manifest is not valid:\n%w", err)
	}
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("rendered flux plugin catalog is not valid:\n%w", err)
	}
	res := &Result{Manifest: m, Catalog: c}
	var err error
	if res.ManifestYAML, err = marshal(m); err != nil {
		return nil, err
	}
	if res.CatalogYAML, err = marshal(c); err != nil {
		return nil, err
	}
	return res, nil
}

// marshal writes v as YAML in its fields' order, indented like the
// fluxcd/plugins catalog.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
