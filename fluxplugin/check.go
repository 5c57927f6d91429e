package fluxplugin

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/krew"
)

// Patterns of the fluxcd/plugins JSON schemas.
var (
	namePattern     = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	versionPattern  = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-.+)?$`)
	checksumPattern = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// builtins are the flux CLI's own commands, which a plugin name must not
// take (flux skips such a plugin): the list of the fluxcd/plugins catalog
// check, which includes the names flux reserves (plugin, help).
var builtins = []string{
	"bootstrap", "build", "catalog", "check", "completion", "create", "debug", "delete", "diff",
	"envsubst", "events", "export", "get", "help", "install", "list", "logs", "migrate", "plugin",
	"pull", "push", "reconcile", "resume", "stats", "suspend", "tag", "trace", "tree", "uninstall", "version",
}

// ParseManifest decodes a plugin manifest as the flux CLI does, refusing
// unknown fields as the catalog's schema does.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := yaml.UnmarshalStrict(b, &m); err != nil {
		return nil, fmt.Errorf("decoding the flux plugin manifest: %w", err)
	}
	return &m, nil
}

// ParseCatalog decodes a plugin catalog, refusing unknown fields.
func ParseCatalog(b []byte) (*Catalog, error) {
	var c Catalog
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("decoding the flux plugin catalog: %w", err)
	}
	return &c, nil
}

// Check verifies what the flux CLI verifies when it fetches the manifest
// (apiVersion, kind, a plain bin prefixed with flux-), what the
// fluxcd/plugins schema requires, and this project's conventions: one
// version, tag without its "v", with one entry per release platform (and no
// other), each pointing at that platform's archive with a sha256 and
// extracting the kubectl-c5c3 binary. The bin must be flux-<name>: the flux
// CLI names the command after the installed file.
func (m *Manifest) Check(tag string, platforms []krew.Platform) error {
	var errs []error
	if m.APIVersion != APIVersion {
		errs = append(errs, fmt.Errorf("apiVersion is %q, want %q", m.APIVersion, APIVersion))
	}
	if m.Kind != PluginKind {
		errs = append(errs, fmt.Errorf("kind is %q, want %q", m.Kind, PluginKind))
	}
	errs = append(errs, checkName("name", m.Name)...)
	if m.Bin == "" || m.Bin != filepath.Base(m.Bin) || !filepath.IsLocal(m.Bin) || !namePattern.MatchString(m.Bin) {
		errs = append(errs, fmt.Errorf("bin %q must be a plain file name matching %s", m.Bin, namePattern))
	}
	if want := "flux-" + m.Name; m.Bin != want {
		errs = append(errs, fmt.Errorf("bin is %q, want %q: flux runs `flux %s` from a file of that name", m.Bin, want, m.Name))
	}
	errs = append(errs, checkText("description", m.Description)...)
	errs = append(errs, checkHTTPS("homepage", m.Homepage)...)
	errs = append(errs, checkHTTPS("source", m.Source)...)
	if len(m.Versions) != 1 {
		errs = append(errs, fmt.Errorf("versions has %d entries, want the one of release %s", len(m.Versions), tag))
		return errors.Join(errs...)
	}
	v := m.Versions[0]
	if want := SemVer(tag); v.Version != want {
		errs = append(errs, fmt.Errorf("versions[0].version is %q, want %q", v.Version, want))
	}
	if !versionPattern.MatchString(v.Version) {
		errs = append(errs, fmt.Errorf("versions[0].version %q is not a semantic version without a \"v\"", v.Version))
	}
	seen := map[krew.Platform]bool{}
	for i, p := range v.Platforms {
		where := fmt.Sprintf("versions[0].platforms[%d]", i)
		pl := krew.Platform{OS: p.OS, Arch: p.Arch}
		if !slices.Contains(platforms, pl) {
			errs = append(errs, fmt.Errorf("%s: %s is not a release platform", where, pl))
		}
		if seen[pl] {
			errs = append(errs, fmt.Errorf("%s: %s is listed twice", where, pl))
		}
		seen[pl] = true
		if want := pl.ArchiveName(tag); !strings.HasSuffix(p.URL, "/"+want) {
			errs = append(errs, fmt.Errorf("%s: url %q does not end in /%s", where, p.URL, want))
		}
		errs = append(errs, checkDownloadURL(where+".url", p.URL)...)
		if !checksumPattern.MatchString(p.Checksum) {
			errs = append(errs, fmt.Errorf("%s: checksum %q is not sha256:<hex>", where, p.Checksum))
		}
		if p.ExtractPath != pl.Binary() {
			errs = append(errs, fmt.Errorf("%s: extractPath is %q, want %q (the binary in the archive)", where, p.ExtractPath, pl.Binary()))
		}
	}
	for _, pl := range platforms {
		if !seen[pl] {
			errs = append(errs, fmt.Errorf("versions[0].platforms has no entry for %s", pl))
		}
	}
	return errors.Join(errs...)
}

// Check verifies the catalog as the flux CLI (apiVersion, kind) and the
// fluxcd/plugins schema do, and that it lists this plugin once.
func (c *Catalog) Check() error {
	var errs []error
	if c.APIVersion != APIVersion {
		errs = append(errs, fmt.Errorf("apiVersion is %q, want %q", c.APIVersion, APIVersion))
	}
	if c.Kind != CatalogKind {
		errs = append(errs, fmt.Errorf("kind is %q, want %q", c.Kind, CatalogKind))
	}
	names := map[string]int{}
	for i, e := range c.Plugins {
		where := fmt.Sprintf("plugins[%d]", i)
		names[e.Name]++
		errs = append(errs, checkName(where+".name", e.Name)...)
		errs = append(errs, checkText(where+".description", e.Description)...)
		errs = append(errs, checkHTTPS(where+".homepage", e.Homepage)...)
		errs = append(errs, checkHTTPS(where+".source", e.Source)...)
		if strings.TrimSpace(e.License) == "" {
			errs = append(errs, fmt.Errorf("%s.license is empty", where))
		}
	}
	if names[Name] != 1 {
		errs = append(errs, fmt.Errorf("plugins lists %s %d times, want once", Name, names[Name]))
	}
	return errors.Join(errs...)
}

func checkName(field, name string) []error {
	if !namePattern.MatchString(name) {
		return []error{fmt.Errorf("%s %q does not match %s", field, name, namePattern)}
	}
	if slices.Contains(builtins, name) {
		return []error{fmt.Errorf("%s %q is a flux command", field, name)}
	}
	return nil
}

func checkText(field, s string) []error {
	if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "\r\n") {
		return []error{fmt.Errorf("%s must be one non-empty line", field)}
	}
	return nil
}

func checkHTTPS(field, s string) []error {
	if u, err := url.Parse(s); err != nil || u.Scheme != "https" || u.Host == "" {
		return []error{fmt.Errorf("%s %q is not an https URL", field, s)}
	}
	return nil
}

// checkDownloadURL accepts https URLs, and http to a loopback address: a
// catalog served from dist/ on this machine (make flux-plugin-test).
func checkDownloadURL(field, s string) []error {
	u, err := url.Parse(s)
	if err == nil && u.Scheme == "http" {
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() || u.Hostname() == "localhost" {
			return nil
		}
	}
	return checkHTTPS(field, s)
}
