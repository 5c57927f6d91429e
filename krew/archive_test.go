package krew

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var testMTime = time.Date(2026, 11, 29, 7, 34, 45, 0, time.UTC)

// writeInputs writes fake release inputs (binaries per platform, LICENSE,
// NOTICE, shims) under dir and returns the Dist options for them.
func writeInputs(t *testing.T, dir, version string) DistOptions {
	t.Helper()
	write := func(p, content string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(dir, "repo")
	write(filepath.Join(root, LicensePath), "Apache License\nVersion 2.0\n", 0o644)
	write(filepath.Join(root, NoticePath), "Copyright 2026 The c5c3 Authors\n", 0o644)
	write(filepath.Join(root, ShimDir, ShimName), "#!/usr/bin/env sh\nexec kubectl c5c3 __complete \"$@\"\n", 0o755)
	write(filepath.Join(root, ShimDir, ShimName+".cmd"), "@kubectl c5c3 __complete %*\r\n", 0o644)
	bins := map[Platform]string{}
	for _, p := range Platforms {
		b := filepath.Join(dir, "bin", p.OS+"_"+p.Arch, p.Binary())
		// Something compressible and platform-specific, a little bigger than a block.
		write(b, p.String()+string(bytes.Repeat([]byte("binary "), 40000)), 0o755)
		bins[p] = b
	}
	return DistOptions{Version: version, RepoRoot: root, Binaries: bins, ModTime: testMTime}
}

// readDir returns the contents of every file in dir by name.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// TestDistReproducible builds the same release twice — the second time with
// other file times, permissions and umask-like modes on the inputs — and
// expects byte-identical archives and checksums.
func TestDistReproducible(t *testing.T) {
	dir := t.TempDir()
	opts := writeInputs(t, dir, "v1.2.3")

	opts.OutDir = filepath.Join(dir, "first")
	first, err := Dist(opts)
	if err != nil {
		t.Fatal(err)
	}

	// Disturb everything the archives must not depend on.
	later := time.Now().Add(48 * time.Hour)
	for _, p := range []string{filepath.Join(opts.RepoRoot, LicensePath), filepath.Join(opts.RepoRoot, NoticePath)} {
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range opts.Binaries {
		if err := os.Chtimes(b, later, later); err != nil {
			t.Fatal(err)
		}
	}
	opts.OutDir = filepath.Join(dir, "second")
	opts.ModTime = testMTime.Add(999 * time.Millisecond).In(time.FixedZone("CEST", 2*3600)) // same second, other zone
	second, err := Dist(opts)
	if err != nil {
		t.Fatal(err)
	}

	a, b := readDir(t, filepath.Join(dir, "first")), readDir(t, filepath.Join(dir, "second"))
	if len(a) != len(Platforms)+1 {
		t.Fatalf("first build wrote %d files, want %d archives and %s", len(a), len(Platforms), ChecksumsFile)
	}
	for name, content := range a {
		if !bytes.Equal(content, b[name]) {
			t.Errorf("%s differs between two builds of the same inputs", name)
		}
	}
	for i := range first.Artifacts {
		if first.Artifacts[i].SHA256 != second.Artifacts[i].SHA256 {
			t.Errorf("%s: sha256 %s then %s", first.Artifacts[i].Name, first.Artifacts[i].SHA256, second.Artifacts[i].SHA256)
		}
	}

	// And the time does matter: another commit time gives other archives.
	opts.OutDir = filepath.Join(dir, "third")
	opts.ModTime = testMTime.Add(time.Hour)
	third, err := Dist(opts)
	if err != nil {
		t.Fatal(err)
	}
	if third.Artifacts[0].SHA256 == first.Artifacts[0].SHA256 {
		t.Error("archives with another modification time should differ")
	}
}

func TestDistArchiveContents(t *testing.T) {
	dir := t.TempDir()
	opts := writeInputs(t, dir, "v0.1.0")
	opts.OutDir = filepath.Join(dir, "dist")
	res, err := Dist(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range res.Artifacts {
		t.Run(a.Platform.String(), func(t *testing.T) {
			if want := "kubectl-c5c3_v0.1.0_" + a.Platform.OS + "_" + a.Platform.Arch + a.Platform.ArchiveExt(); a.Name != want {
				t.Errorf("archive name %s, want %s", a.Name, want)
			}
			got, err := SHA256File(a.Path)
			if err != nil {
				t.Fatal(err)
			}
			if got != a.SHA256 {
				t.Errorf("Artifact.SHA256 %s, file has %s", a.SHA256, got)
			}
			files, err := ReadArchive(a.Path)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			modes := map[string]os.FileMode{}
			for _, f := range files {
				names = append(names, f.Name)
				modes[f.Name] = f.Mode
			}
			want := []string{"LICENSE", "NOTICE", a.Platform.Binary(), a.Platform.Shim()}
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Fatalf("entries %v, want %v (sorted)", names, want)
			}
			if modes[a.Platform.Binary()] != 0o755 || modes[a.Platform.Shim()] != 0o755 || modes["LICENSE"] != 0o644 {
				t.Errorf("modes %v: want 0755 for the binary and the shim, 0644 for LICENSE", modes)
			}
			checkHeaders(t, a)
		})
	}
	sums, err := ReadChecksumsFile(res.ChecksumsPath)
	if err != nil {
		t.Fatal(err)
	}
	if !mapsEqual(sums, ChecksumsOf(res.Artifacts)) {
		t.Errorf("checksums.txt %v, want %v", sums, ChecksumsOf(res.Artifacts))
	}
}

// checkHeaders checks owner, time and format of every entry.
func checkHeaders(t *testing.T, a Artifact) {
	t.Helper()
	b, err := os.ReadFile(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	if a.Platform.Windows() {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if !f.Modified.Equal(testMTime) {
				t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, testMTime)
			}
		}
		return
	}
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !gz.ModTime.IsZero() || gz.Name != "" {
		t.Errorf("gzip header has name %q and time %v, want neither", gz.Name, gz.ModTime)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d:%d (%q:%q), want 0:0 without names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(testMTime) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, testMTime)
		}
		if h.Typeflag != tar.TypeReg {
			t.Errorf("%s: type %c, want a regular file", h.Name, h.Typeflag)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestWriteArchiveRejectsBadEntries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []File
	}{
		{"absolute", []File{{Name: "/etc/passwd", Data: []byte("x")}}},
		{"parent", []File{{Name: "../x", Data: []byte("x")}}},
		{"unclean", []File{{Name: "a//b", Data: []byte("x")}}},
		{"duplicate", []File{{Name: "a", Data: []byte("x")}, {Name: "a", Data: []byte("y")}}},
		{"no content", []File{{Name: "a"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := WriteTarGz(io.Discard, tc.files, testMTime); err == nil {
				t.Error("WriteTarGz: want an error")
			}
			if err := WriteZip(io.Discard, tc.files, testMTime); err == nil {
				t.Error("WriteZip: want an error")
			}
		})
	}
}

func TestDistNeedsEveryBinary(t *testing.T) {
	dir := t.TempDir()
	opts := writeInputs(t, dir, "v0.1.0")
	delete(opts.Binaries, Platform{OS: "darwin", Arch: "arm64"})
	opts.OutDir = filepath.Join(dir, "dist")
	if _, err := Dist(opts); err == nil {
		t.Fatal("want an error for a missing darwin/arm64 binary")
	}
}
