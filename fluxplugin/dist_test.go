package fluxplugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/c5c3/kubectl-c5c3/krew"
)

// writeArchives packs release archives of testVersion into dir, as make
// dist does, with small fake binaries (drop leaves one platform's binary
// out of its archive).
func writeArchives(t *testing.T, dir string, drop krew.Platform) {
	t.Helper()
	var specs []krew.ArchiveSpec
	for _, p := range krew.Platforms {
		files := []krew.File{{Name: "LICENSE", Mode: 0o644, Data: []byte("Apache License\n")}}
		if p != drop {
			files = append(files, krew.File{Name: p.Binary(), Mode: 0o755, Data: []byte("binary for " + p.String())})
		}
		specs = append(specs, krew.ArchiveSpec{Platform: p, Files: files})
	}
	arts, err := krew.BuildArchives(dir, testVersion, specs, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, krew.ChecksumsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := krew.ChecksumsOf(arts).WriteTo(f); err != nil {
		t.Fatal(err)
	}
}

func TestRenderDist(t *testing.T) {
	dir := t.TempDir()
	writeArchives(t, dir, krew.Platform{})
	res, err := RenderDist(RenderDistOptions{DistDir: dir, Version: testVersion})
	if err != nil {
		t.Fatal(err)
	}
	sums, err := krew.ReadChecksumsFile(filepath.Join(dir, krew.ChecksumsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Manifest.Versions[0].Platforms {
		archive := krew.Platform{OS: p.OS, Arch: p.Arch}.ArchiveName(testVersion)
		if p.Checksum != "sha256:"+sums[archive] {
			t.Errorf("%s: checksum %s, checksums.txt %s", archive, p.Checksum, sums[archive])
		}
	}
	out := filepath.Join(dir, Dir)
	if err := res.Write(out); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{ManifestFile: res.ManifestYAML, CatalogFile: res.CatalogYAML} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: %v\n%s", name, err, got)
		}
	}
}

func TestRenderDistChecksArchives(t *testing.T) {
	t.Run("binary missing", func(t *testing.T) {
		dir := t.TempDir()
		writeArchives(t, dir, krew.Platform{OS: "windows", Arch: "amd64"})
		_, err := RenderDist(RenderDistOptions{DistDir: dir, Version: testVersion})
		if err == nil || !strings.Contains(err.Error(), "kubectl-c5c3_v1.2.3_windows_amd64.zip has no kubectl-c5c3.exe") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("archive changed after checksums.txt", func(t *testing.T) {
		dir := t.TempDir()
		writeArchives(t, dir, krew.Platform{})
		p := filepath.Join(dir, "kubectl-c5c3_v1.2.3_linux_arm64.tar.gz")
		if err := os.WriteFile(p, []byte("not the archive"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := RenderDist(RenderDistOptions{DistDir: dir, Version: testVersion})
		if err == nil || !strings.Contains(err.Error(), "kubectl-c5c3_v1.2.3_linux_arm64.tar.gz has sha256") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no dist", func(t *testing.T) {
		_, err := RenderDist(RenderDistOptions{DistDir: t.TempDir(), Version: testVersion})
		if err == nil || !strings.Contains(err.Error(), "run `make dist` first") {
			t.Errorf("err = %v", err)
		}
	})
}
