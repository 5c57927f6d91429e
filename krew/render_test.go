package krew

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testSHA = "d9336538c1469e9ced64c5ee3f9c1bf7b7ef80ccc656c73bc244de35dfbf69d4"

func TestIndent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spaces int
		in     string
		want   string
	}{
		{"four", 4, "uri: u\nsha256: s", "uri: u\n    sha256: s"},
		{"six fixes addURIAndSha's own indent", 6, "uri: u\n    sha256: s", "uri: u\n      sha256: s"},
		{"single line", 2, "bin: x", "bin: x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := indent(tc.spaces, tc.in); got != tc.want {
				t.Errorf("indent(%d, %q) = %q, want %q", tc.spaces, tc.in, got, tc.want)
			}
		})
	}
}

func TestVersionFromTag(t *testing.T) {
	for tag, want := range map[string]string{"v0.0.2": "0.0.2", "v1.2.3-rc.1": "1.2.3", "no-version": "no-version"} {
		if got := versionFromTag(tag); got != want {
			t.Errorf("versionFromTag(%q) = %q, want %q", tag, got, want)
		}
	}
}

// TestRenderTemplateFunctions renders templates in the two layouts
// krew-release-bot documents: addURIAndSha on its own (4-space platform
// fields) and piped to indent 6.
func TestRenderTemplateFunctions(t *testing.T) {
	sums := Checksums{"kubectl-c5c3_v0.0.2_darwin_amd64.tar.gz": testSHA}
	const url = `"https://github.com/c5c3/kubectl-c5c3/releases/download/{{ .TagName }}/kubectl-c5c3_{{ .TagName }}_darwin_amd64.tar.gz"`
	for _, tc := range []struct {
		name, tmpl, base, want string
	}{
		{
			name: "4-space layout",
			tmpl: "spec:\n  version: {{ .TagName }}\n  platforms:\n  - bin: x\n    {{ addURIAndSha " + url + " .TagName }}\n",
			want: "spec:\n  version: v0.0.2\n  platforms:\n  - bin: x\n" +
				"    uri: https://github.com/c5c3/kubectl-c5c3/releases/download/v0.0.2/kubectl-c5c3_v0.0.2_darwin_amd64.tar.gz\n" +
				"    sha256: " + testSHA + "\n",
		},
		{
			name: "6-space layout with indent",
			tmpl: "spec:\n    platforms:\n    - bin: x\n      {{ addURIAndSha " + url + " .TagName | indent 6 }}\n",
			want: "spec:\n    platforms:\n    - bin: x\n" +
				"      uri: https://github.com/c5c3/kubectl-c5c3/releases/download/v0.0.2/kubectl-c5c3_v0.0.2_darwin_amd64.tar.gz\n" +
				"      sha256: " + testSHA + "\n",
		},
		{
			name: "base URL and .Version in the URL",
			tmpl: `{{ addURIAndSha "https://example.com/{{ .Version }}/kubectl-c5c3_v{{ .Version }}_darwin_amd64.tar.gz" .TagName }}`,
			base: "http://127.0.0.1:8000",
			want: "uri: http://127.0.0.1:8000/kubectl-c5c3_v0.0.2_darwin_amd64.tar.gz\n    sha256: " + testSHA,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Render(RenderOptions{Template: tc.tmpl, TagName: "v0.0.2", Checksums: sums, BaseURL: tc.base})
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Manifest) != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", res.Manifest, tc.want)
			}
			if len(res.URIs) != 1 || res.URIs[0].Archive != "kubectl-c5c3_v0.0.2_darwin_amd64.tar.gz" || res.URIs[0].SHA256 != testSHA {
				t.Errorf("URIs = %+v", res.URIs)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, tmpl, tag, want string
	}{
		{"missing checksum", `{{ addURIAndSha "https://x/kubectl-c5c3_{{ .TagName }}_plan9_amd64.tar.gz" .TagName }}`, "v0.1.0", "no checksum for kubectl-c5c3_v0.1.0_plan9_amd64.tar.gz"},
		{"bad URL template", `{{ addURIAndSha "https://x/{{ .Nope }}" .TagName }}`, "v0.1.0", "addURIAndSha"},
		{"unknown function", `{{ sha .TagName }}`, "v0.1.0", "function \"sha\" not defined"},
		{"version without v", `{{ .TagName }}`, "0.1.0", "must start with \"v\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(RenderOptions{Template: tc.tmpl, TagName: tc.tag, Checksums: Checksums{}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestRenderDist renders the repository's .krew.yaml from archives built
// in a temp dir with the repository's LICENSE, NOTICE and shims, and checks
// the manifest carries each archive's real sha256.
func TestRenderDist(t *testing.T) {
	dir := t.TempDir()
	opts := writeInputs(t, dir, "v0.3.0")
	opts.RepoRoot = ".." // the real LICENSE, NOTICE and shims
	opts.OutDir = filepath.Join(dir, "dist")
	if _, err := Dist(opts); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"", "http://127.0.0.1:8000/"} {
		t.Run("base="+base, func(t *testing.T) {
			res, err := RenderDist(RenderDistOptions{
				TemplatePath: filepath.Join("..", TemplateFile), DistDir: opts.OutDir, Version: "v0.3.0", BaseURL: base,
			})
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseManifest(res.Manifest)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Spec.Platforms) != len(Platforms) {
				t.Fatalf("%d platforms, want %d", len(m.Spec.Platforms), len(Platforms))
			}
			for i, p := range m.Spec.Platforms {
				pl := Platforms[i]
				archive := pl.ArchiveName("v0.3.0")
				want, err := SHA256File(filepath.Join(opts.OutDir, archive))
				if err != nil {
					t.Fatal(err)
				}
				if p.SHA256 != want {
					t.Errorf("%s: sha256 %s, the archive has %s", pl, p.SHA256, want)
				}
				wantURI := "https://github.com/c5c3/kubectl-c5c3/releases/download/v0.3.0/" + archive
				if base != "" {
					wantURI = base + archive
				}
				if p.URI != wantURI {
					t.Errorf("%s: uri %s, want %s", pl, p.URI, wantURI)
				}
			}
			if !strings.Contains(m.Spec.Caveats, "kubectl c5c3 completion install-shim") {
				t.Error("caveats should tell how to install the completion shim")
			}
		})
	}
}

func TestRenderDistDetectsStaleArchive(t *testing.T) {
	dir := t.TempDir()
	opts := writeInputs(t, dir, "v0.3.0")
	opts.RepoRoot = ".."
	opts.OutDir = filepath.Join(dir, "dist")
	if _, err := Dist(opts); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(opts.OutDir, Platforms[0].ArchiveName("v0.3.0"))
	if err := os.WriteFile(stale, []byte("rebuilt"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := RenderDist(RenderDistOptions{TemplatePath: filepath.Join("..", TemplateFile), DistDir: opts.OutDir, Version: "v0.3.0"})
	if err == nil || !strings.Contains(err.Error(), "make dist") {
		t.Fatalf("error %v, want a stale-archive error that says to run make dist", err)
	}
}

func TestManifestCheck(t *testing.T) {
	good := func() *Manifest {
		m := &Manifest{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: PluginName}}
		m.Spec = ManifestSpec{Version: "v0.1.0", Homepage: "h", ShortDescription: "s", Description: "d", Caveats: "c"}
		for _, p := range Platforms {
			m.Spec.Platforms = append(m.Spec.Platforms, ManifestPlatform{
				Selector: Selector{MatchLabels: map[string]string{"os": p.OS, "arch": p.Arch}},
				URI:      "https://x/" + p.ArchiveName("v0.1.0"), SHA256: testSHA, Bin: p.Binary(),
				Files: []FileOperation{{From: p.Binary(), To: "."}, {From: "LICENSE", To: "."}},
			})
		}
		return m
	}
	if err := good().Check("v0.1.0", Platforms); err != nil {
		t.Fatalf("good manifest: %v", err)
	}
	for _, tc := range []struct {
		name   string
		break_ func(*Manifest)
		want   string
	}{
		{"name", func(m *Manifest) { m.Metadata.Name = "c5" }, "metadata.name"},
		{"multi-line short description", func(m *Manifest) { m.Spec.ShortDescription = "a\nb" }, "shortDescription"},
		{"missing platform", func(m *Manifest) { m.Spec.Platforms = m.Spec.Platforms[1:] }, "no entry for linux/amd64"},
		{"duplicate platform", func(m *Manifest) { m.Spec.Platforms[1] = m.Spec.Platforms[0] }, "listed twice"},
		{"windows bin", func(m *Manifest) { m.Spec.Platforms[4].Bin = "kubectl-c5c3" }, "kubectl-c5c3.exe"},
		{"no LICENSE", func(m *Manifest) { m.Spec.Platforms[0].Files = m.Spec.Platforms[0].Files[:1] }, "LICENSE"},
		{"wrong archive", func(m *Manifest) { m.Spec.Platforms[2].URI = "https://x/a.tar.gz" }, "does not end in"},
		{"bad sha", func(m *Manifest) { m.Spec.Platforms[0].SHA256 = "abc" }, "not a hex sha256"},
		{"version", func(m *Manifest) { m.Spec.Version = "v0.2.0" }, "spec.version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			tc.break_(m)
			err := m.Check("v0.1.0", Platforms)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseChecksums(t *testing.T) {
	in := testSHA + "  a.tar.gz\n\n" + strings.Repeat("0", 64) + " *b.zip\n"
	c, err := ParseChecksums(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if c["a.tar.gz"] != testSHA || c["b.zip"] != strings.Repeat("0", 64) || len(c) != 2 {
		t.Errorf("parsed %v", c)
	}
	var out strings.Builder
	if _, err := c.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if want := testSHA + "  a.tar.gz\n" + strings.Repeat("0", 64) + "  b.zip\n"; out.String() != want {
		t.Errorf("WriteTo:\n%s\nwant:\n%s", out.String(), want)
	}
	for _, bad := range []string{"xyz  a.tar.gz\n", testSHA + "\n", testSHA + "  a\n" + strings.Repeat("1", 64) + "  a\n"} {
		if _, err := ParseChecksums(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseChecksums(%q): want an error", bad)
		}
	}
}

func TestValidateVersion(t *testing.T) {
	for v, ok := range map[string]bool{
		"v0.1.0": true, "v1.2.3-rc.1": true, "v0.1.0-3-gabc1234-dirty": true, "v0.0.0-g1e4d634cc0c0": true,
		"0.1.0": false, "v1.2": false, "vX": false, "": false, "v1.2.3+build": false,
	} {
		if err := ValidateVersion(v); (err == nil) != ok {
			t.Errorf("ValidateVersion(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	for in, want := range map[string]Platform{"linux/amd64": {"linux", "amd64"}, "windows_amd64": {"windows", "amd64"}} {
		got, err := ParsePlatform(in)
		if err != nil || got != want {
			t.Errorf("ParsePlatform(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"linux", "/amd64", "linux/", "a/b/c"} {
		if _, err := ParsePlatform(bad); err == nil {
			t.Errorf("ParsePlatform(%q): want an error", bad)
		}
	}
}
