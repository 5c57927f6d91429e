package fluxplugin

// APIVersion and kinds of the Flux CLI plugin schema
// (github.com/fluxcd/flux2/v2/pkg/plugin).
const (
	APIVersion  = "cli.fluxcd.io/v1beta1"
	PluginKind  = "Plugin"
	CatalogKind = "PluginCatalog"
)

// The json tags are the schema, as the flux CLI decodes it (sigs.k8s.io/yaml);
// the yaml tags only keep the written files in the schema's field order.

// Manifest is a plugin manifest, <catalog>/<name>.yaml (pkg/plugin.Manifest).
type Manifest struct {
	APIVersion string `json:"apiVersion" yaml:"apiVersion"`
	Kind       string `json:"kind" yaml:"kind"`
	// Name is the plugin name: `flux <name>`.
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description" yaml:"description"`
	Homepage    string `json:"homepage,omitempty" yaml:"homepage,omitempty"`
	Source      string `json:"source,omitempty" yaml:"source,omitempty"`
	// Bin is the installed file name (flux-<name>, ".exe" added on Windows)
	// and, without ExtractPath, the entry looked up in the archive.
	Bin string `json:"bin" yaml:"bin"`
	// Versions are newest first; `flux plugin install <name>` takes the first.
	Versions []Version `json:"versions" yaml:"versions"`
}

// Version is one release of a plugin (pkg/plugin.Version).
type Version struct {
	// Version is the semantic version without a leading "v" (0.1.0).
	Version   string     `json:"version" yaml:"version"`
	Platforms []Platform `json:"platforms" yaml:"platforms"`
}

// Platform is one release archive (pkg/plugin.Platform).
type Platform struct {
	OS   string `json:"os" yaml:"os"`
	Arch string `json:"arch" yaml:"arch"`
	// URL is where the archive is downloaded from.
	URL string `json:"url" yaml:"url"`
	// Checksum is "sha256:<hex>" of the archive.
	Checksum string `json:"checksum" yaml:"checksum"`
	// ExtractPath is the archive entry to install; without a "/" it is
	// matched against each entry's base name.
	ExtractPath string `json:"extractPath,omitempty" yaml:"extractPath,omitempty"`
}

// Catalog is the catalog, <catalog>/catalog.yaml, that `flux plugin
// search` lists (pkg/plugin.Catalog).
type Catalog struct {
	APIVersion string         `json:"apiVersion" yaml:"apiVersion"`
	Kind       string         `json:"kind" yaml:"kind"`
	Plugins    []CatalogEntry `json:"plugins" yaml:"plugins"`
}

// CatalogEntry is one plugin of the catalog (pkg/plugin.CatalogEntry).
type CatalogEntry struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description" yaml:"description"`
	Homepage    string `json:"homepage" yaml:"homepage"`
	Source      string `json:"source" yaml:"source"`
	// License is an SPDX identifier.
	License string `json:"license" yaml:"license"`
}
