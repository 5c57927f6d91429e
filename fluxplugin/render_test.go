package fluxplugin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/krew"
)

const testVersion = "v1.2.3"

// testSum is a distinct sha256 per i, with letters (an all-digit one would
// read back from the krew manifest, which writes it unquoted, as a number).
func testSum(i int) string { return strings.Repeat("ab", 31) + fmt.Sprintf("%02x", i+1) }

// testChecksums gives every release archive of testVersion a distinct sha256.
func testChecksums() krew.Checksums {
	sums := krew.Checksums{}
	for i, p := range krew.Platforms {
		sums[p.ArchiveName(testVersion)] = testSum(i)
	}
	return sums
}

func TestRender(t *testing.T) {
	res, err := Render(RenderOptions{Version: testVersion, Checksums: testChecksums()})
	if err != nil {
		t.Fatal(err)
	}
	// The files are written in the schema's field order.
	if want := "apiVersion: cli.fluxcd.io/v1beta1\nkind: Plugin\nname: c5c3\n"; !strings.HasPrefix(string(res.ManifestYAML), want) {
		t.Errorf("manifest starts:\n%s", res.ManifestYAML)
	}
	if want := "apiVersion: cli.fluxcd.io/v1beta1\nkind: PluginCatalog\nplugins:\n  - name: c5c3\n"; !strings.HasPrefix(string(res.CatalogYAML), want) {
		t.Errorf("catalog starts:\n%s", res.CatalogYAML)
	}
	m, err := ParseManifest(res.ManifestYAML)
	if err != nil {
		t.Fatal(err)
	}
	if m.Bin != "flux-c5c3" || len(m.Versions) != 1 || m.Versions[0].Version != "1.2.3" || len(m.Versions[0].Platforms) != len(krew.Platforms) {
		t.Fatalf("manifest: %+v", m)
	}
	for i, p := range m.Versions[0].Platforms {
		want := Platform{
			OS: krew.Platforms[i].OS, Arch: krew.Platforms[i].Arch,
			URL:         "https://github.com/c5c3/kubectl-c5c3/releases/download/v1.2.3/" + krew.Platforms[i].ArchiveName(testVersion),
			Checksum:    "sha256:" + testSum(i),
			ExtractPath: krew.Platforms[i].Binary(),
		}
		if p != want {
			t.Errorf("platform %d:\n got %+v\nwant %+v", i, p, want)
		}
	}
	if got := m.Versions[0].Platforms[4].ExtractPath; got != "kubectl-c5c3.exe" {
		t.Errorf("windows extractPath = %q", got)
	}
	c, err := ParseCatalog(res.CatalogYAML)
	if err != nil {
		t.Fatal(err)
	}
	if want := (CatalogEntry{Name: "c5c3", Description: Description, Homepage: Homepage, Source: Source, License: "Apache-2.0"}); len(c.Plugins) != 1 || c.Plugins[0] != want {
		t.Errorf("catalog: %+v", c)
	}

	local, err := Render(RenderOptions{Version: testVersion, Checksums: testChecksums(), BaseURL: "http://127.0.0.1:8000"})
	if err != nil {
		t.Fatal(err)
	}
	if got := local.Manifest.Versions[0].Platforms[0].URL; got != "http://127.0.0.1:8000/kubectl-c5c3_v1.2.3_linux_amd64.tar.gz" {
		t.Errorf("base URL: %s", got)
	}
}

// TestRenderAgreesWithKrew renders .krew.yaml for the same archives: the
// flux manifest must download the same URLs with the same checksums and
// install the binary krew links, with krew's short description.
func TestRenderAgreesWithKrew(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join("..", krew.TemplateFile))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := krew.Render(krew.RenderOptions{Template: string(tmpl), TagName: testVersion, Checksums: testChecksums()})
	if err != nil {
		t.Fatal(err)
	}
	km, err := krew.ParseManifest(kr.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Render(RenderOptions{Version: testVersion, Checksums: testChecksums()})
	if err != nil {
		t.Fatal(err)
	}
	if km.Spec.ShortDescription != Description || km.Spec.Homepage != Homepage {
		t.Errorf("krew says %q at %s, flux %q at %s", km.Spec.ShortDescription, km.Spec.Homepage, Description, Homepage)
	}
	flux := map[krew.Platform]Platform{}
	for _, p := range res.Manifest.Versions[0].Platforms {
		flux[krew.Platform{OS: p.OS, Arch: p.Arch}] = p
	}
	for _, kp := range km.Spec.Platforms {
		pl := krew.Platform{OS: kp.Selector.MatchLabels["os"], Arch: kp.Selector.MatchLabels["arch"]}
		fp, ok := flux[pl]
		if !ok {
			t.Errorf("%s: in the krew manifest, not in the flux one", pl)
			continue
		}
		if fp.URL != kp.URI || fp.Checksum != "sha256:"+kp.SHA256 || fp.ExtractPath != kp.Bin {
			t.Errorf("%s: flux %+v, krew uri %s sha256 %s bin %s", pl, fp, kp.URI, kp.SHA256, kp.Bin)
		}
		delete(flux, pl)
	}
	for pl := range flux {
		t.Errorf("%s: in the flux manifest, not in the krew one", pl)
	}
}

func TestRenderNeedsEveryChecksum(t *testing.T) {
	sums := testChecksums()
	delete(sums, "kubectl-c5c3_v1.2.3_darwin_arm64.tar.gz")
	_, err := Render(RenderOptions{Version: testVersion, Checksums: sums})
	if err == nil || !strings.Contains(err.Error(), "no checksum for kubectl-c5c3_v1.2.3_darwin_arm64.tar.gz") {
		t.Errorf("err = %v", err)
	}
	if _, err := Render(RenderOptions{Version: "1.2.3", Checksums: sums}); err == nil || !strings.Contains(err.Error(), `must start with "v"`) {
		t.Errorf("version without v: %v", err)
	}
}

func TestManifestCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(m *Manifest)
		want   string
	}{
		{"apiVersion", func(m *Manifest) { m.APIVersion = "cli.fluxcd.io/v1" }, `apiVersion is "cli.fluxcd.io/v1"`},
		{"kind", func(m *Manifest) { m.Kind = "PluginCatalog" }, `kind is "PluginCatalog"`},
		{"bin names another command", func(m *Manifest) { m.Bin = "flux-fleet" }, `bin is "flux-fleet", want "flux-c5c3"`},
		{"bin without flux-", func(m *Manifest) { m.Bin = "kubectl-c5c3" }, `want "flux-c5c3"`},
		{"bin with a path", func(m *Manifest) { m.Bin = "../flux-c5c3" }, "must be a plain file name"},
		{"builtin name", func(m *Manifest) { m.Name, m.Bin = "diff", "flux-diff" }, `name "diff" is a flux command`},
		{"upper-case name", func(m *Manifest) { m.Name, m.Bin = "C5c3", "flux-C5c3" }, `name "C5c3" does not match`},
		{"description", func(m *Manifest) { m.Description = "two\nlines" }, "description must be one non-empty line"},
		{"http homepage", func(m *Manifest) { m.Homepage = "http://example.com" }, "homepage \"http://example.com\" is not an https URL"},
		{"version with v", func(m *Manifest) { m.Versions[0].Version = "v1.2.3" }, `version is "v1.2.3", want "1.2.3"`},
		{"two versions", func(m *Manifest) { m.Versions = append(m.Versions, m.Versions[0]) }, "versions has 2 entries"},
		{"missing platform", func(m *Manifest) { m.Versions[0].Platforms = m.Versions[0].Platforms[1:] }, "no entry for linux/amd64"},
		{"unknown platform", func(m *Manifest) { m.Versions[0].Platforms[0].Arch = "riscv64" }, "linux/riscv64 is not a release platform"},
		{"twice", func(m *Manifest) { m.Versions[0].Platforms[1] = m.Versions[0].Platforms[0] }, "linux/amd64 is listed twice"},
		{"other archive", func(m *Manifest) { m.Versions[0].Platforms[0].URL += ".old" }, "does not end in /kubectl-c5c3_v1.2.3_linux_amd64.tar.gz"},
		{"http download", func(m *Manifest) {
			m.Versions[0].Platforms[0].URL = "http://example.com/kubectl-c5c3_v1.2.3_linux_amd64.tar.gz"
		}, "url \"http://example.com/kubectl-c5c3_v1.2.3_linux_amd64.tar.gz\" is not an https URL"},
		{"bare checksum", func(m *Manifest) { m.Versions[0].Platforms[0].Checksum = fmt.Sprintf("%064x", 1) }, "is not sha256:<hex>"},
		{"extractPath", func(m *Manifest) { m.Versions[0].Platforms[4].ExtractPath = "kubectl-c5c3" }, `extractPath is "kubectl-c5c3", want "kubectl-c5c3.exe"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Render(RenderOptions{Version: testVersion, Checksums: testChecksums()})
			if err != nil {
				t.Fatal(err)
			}
			tc.change(res.Manifest)
			err = res.Manifest.Check(testVersion, krew.Platforms)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check() = %v, want %q", err, tc.want)
			}
		})
	}
	// A catalog served from this machine may use http.
	res, err := Render(RenderOptions{Version: testVersion, Checksums: testChecksums(), BaseURL: "http://localhost:8000/x/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Manifest.Check(testVersion, krew.Platforms); err != nil {
		t.Errorf("http on localhost: %v", err)
	}
}

func TestCatalogCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *Catalog)
		want   string
	}{
		{"kind", func(c *Catalog) { c.Kind = "Plugin" }, `kind is "Plugin"`},
		{"license", func(c *Catalog) { c.Plugins[0].License = "" }, "plugins[0].license is empty"},
		{"source", func(c *Catalog) { c.Plugins[0].Source = "git@github.com:c5c3/kubectl-c5c3" }, "plugins[0].source"},
		{"listed twice", func(c *Catalog) { c.Plugins = append(c.Plugins, c.Plugins[0]) }, "lists c5c3 2 times"},
		{"not listed", func(c *Catalog) { c.Plugins[0].Name = "fleet" }, "lists c5c3 0 times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Render(RenderOptions{Version: testVersion, Checksums: testChecksums()})
			if err != nil {
				t.Fatal(err)
			}
			tc.change(res.Catalog)
			if err := res.Catalog.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseRefusesUnknownFields(t *testing.T) {
	res, err := Render(RenderOptions{Version: testVersion, Checksums: testChecksums()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifest(append(res.ManifestYAML, "caveats: x\n"...)); err == nil || !strings.Contains(err.Error(), "caveats") {
		t.Errorf("manifest: %v", err)
	}
	if _, err := ParseCatalog(append(res.CatalogYAML, "license: x\n"...)); err == nil || !strings.Contains(err.Error(), "license") {
		t.Errorf("catalog: %v", err)
	}
}
