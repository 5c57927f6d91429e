package krew

import (
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// APIVersion and Kind of a krew plugin manifest.
const (
	APIVersion = "krew.googlecontainertools.github.com/v1alpha2"
	Kind       = "Plugin"
)

// Manifest is the part of a krew plugin manifest this project writes (see
// sigs.k8s.io/krew/pkg/index.Plugin).
type Manifest struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   Metadata     `json:"metadata"`
	Spec       ManifestSpec `json:"spec"`
}

// Metadata is the manifest's metadata.
type Metadata struct {
	Name string `json:"name"`
}

// ManifestSpec is the manifest's spec.
type ManifestSpec struct {
	Version          string             `json:"version"`
	Homepage         string             `json:"homepage,omitempty"`
	ShortDescription string             `json:"shortDescription"`
	Description      string             `json:"description,omitempty"`
	Caveats          string             `json:"caveats,omitempty"`
	Platforms        []ManifestPlatform `json:"platforms"`
}

// ManifestPlatform is one entry of spec.platforms.
type ManifestPlatform struct {
	Selector Selector        `json:"selector"`
	URI      string          `json:"uri"`
	SHA256   string          `json:"sha256"`
	Files    []FileOperation `json:"files,omitempty"`
	Bin      string          `json:"bin"`
}

// Selector is a platform's label selector; this project uses matchLabels
// with os and arch only.
type Selector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

// FileOperation copies files from the extracted archive into the plugin's
// install directory.
type FileOperation struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ParseManifest decodes a rendered manifest, refusing unknown fields.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := yaml.UnmarshalStrict(b, &m); err != nil {
		return nil, fmt.Errorf("decoding the krew manifest: %w", err)
	}
	return &m, nil
}

// Check verifies what krew's validate-krew-manifest verifies structurally,
// plus this project's conventions: one platform entry per release platform
// (and no other), each pointing at that platform's archive for version with
// a sha256, the right bin, and LICENSE among the copied files.
func (m *Manifest) Check(version string, platforms []Platform) error {
	var errs []error
	if m.APIVersion != APIVersion {
		errs = append(errs, fmt.Errorf("apiVersion is %q, want %q", m.APIVersion, APIVersion))
	}
	if m.Kind != Kind {
		errs = append(errs, fmt.Errorf("kind is %q, want %q", m.Kind, Kind))
	}
	if m.Metadata.Name != PluginName {
		errs = append(errs, fmt.Errorf("metadata.name is %q, want %q", m.Metadata.Name, PluginName))
	}
	if m.Spec.Version != version {
		errs = append(errs, fmt.Errorf("spec.version is %q, want %q", m.Spec.Version, version))
	}
	if err := ValidateVersion(m.Spec.Version); err != nil {
		errs = append(errs, fmt.Errorf("spec.version: %w", err))
	}
	if m.Spec.ShortDescription == "" || strings.ContainsAny(m.Spec.ShortDescription, "\r\n") {
		errs = append(errs, errors.New("spec.shortDescription must be one non-empty line"))
	}
	for _, field := range []struct{ name, value string }{
		{"homepage", m.Spec.Homepage}, {"description", m.Spec.Description}, {"caveats", m.Spec.Caveats},
	} {
		if strings.TrimSpace(field.value) == "" {
			errs = append(errs, fmt.Errorf("spec.%s is empty", field.name))
		}
	}
	seen := map[Platform]bool{}
	for i, p := range m.Spec.Platforms {
		where := fmt.Sprintf("spec.platforms[%d]", i)
		pl := Platform{OS: p.Selector.MatchLabels["os"], Arch: p.Selector.MatchLabels["arch"]}
		if len(p.Selector.MatchLabels) != 2 || pl.OS == "" || pl.Arch == "" {
			errs = append(errs, fmt.Errorf("%s: selector.matchLabels must be exactly os and arch, got %v", where, p.Selector.MatchLabels))
			continue
		}
		if !containsPlatform(platforms, pl) {
			errs = append(errs, fmt.Errorf("%s: %s is not a release platform", where, pl))
		}
		if seen[pl] {
			errs = append(errs, fmt.Errorf("%s: %s is listed twice", where, pl))
		}
		seen[pl] = true
		if want := pl.ArchiveName(version); !strings.HasSuffix(p.URI, "/"+want) {
			errs = append(errs, fmt.Errorf("%s: uri %q does not end in /%s", where, p.URI, want))
		}
		if !sha256Hex.MatchString(p.SHA256) {
			errs = append(errs, fmt.Errorf("%s: sha256 %q is not a hex sha256", where, p.SHA256))
		}
		if p.Bin != pl.Binary() {
			errs = append(errs, fmt.Errorf("%s: bin is %q, want %q", where, p.Bin, pl.Binary()))
		}
		if len(p.Files) > 0 && (!copies(p.Files, pl.Binary()) || !copies(p.Files, "LICENSE")) {
			errs = append(errs, fmt.Errorf("%s: files must copy %s and LICENSE", where, pl.Binary()))
		}
	}
	for _, pl := range platforms {
		if !seen[pl] {
			errs = append(errs, fmt.Errorf("spec.platforms has no entry for %s", pl))
		}
	}
	return errors.Join(errs...)
}

func containsPlatform(ps []Platform, p Platform) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func copies(ops []FileOperation, name string) bool {
	for _, op := range ops {
		if op.From == name || op.From == "*" {
			return true
		}
	}
	return false
}
