package krew

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Paths, relative to the repository root, of the files shipped next to the
// binary in every archive.
const (
	LicensePath = "LICENSE"
	NoticePath  = "NOTICE"
	// ShimDir holds the completion shims: kubectl_complete-c5c3 (POSIX sh)
	// and kubectl_complete-c5c3.cmd (Windows).
	ShimDir = "cmd/kubectl_complete-c5c3"
)

// DistOptions are the inputs of Dist.
type DistOptions struct {
	// Version is the release version (a krew semver such as v0.1.0).
	Version string
	// RepoRoot is where LICENSE, NOTICE and the shims are read from.
	RepoRoot string
	// Binaries gives the built kubectl-c5c3 for each platform to pack.
	Binaries map[Platform]string
	// Platforms orders the archives; nil means Platforms.
	Platforms []Platform
	// OutDir receives the archives and checksums.txt.
	OutDir string
	// ModTime is stored for every archive entry (the commit time, so that
	// archives of one commit are byte-identical).
	ModTime time.Time
}

// DistResult is what Dist wrote.
type DistResult struct {
	Artifacts []Artifact
	// ChecksumsPath is the checksums.txt written next to the archives.
	ChecksumsPath string
}

// ReleaseFiles are the entries of p's archive: the binary, LICENSE, NOTICE
// and the completion shim, all at the archive's top level.
func ReleaseFiles(repoRoot string, p Platform, binary string) []File {
	return []File{
		{Name: p.Binary(), Mode: 0o755, Path: binary},
		{Name: "LICENSE", Mode: 0o644, Path: filepath.Join(repoRoot, LicensePath)},
		{Name: "NOTICE", Mode: 0o644, Path: filepath.Join(repoRoot, NoticePath)},
		{Name: p.Shim(), Mode: 0o755, Path: filepath.Join(repoRoot, ShimDir, p.Shim())},
	}
}

// Dist packs one archive per platform and writes checksums.txt.
func Dist(opts DistOptions) (*DistResult, error) {
	platforms := opts.Platforms
	if platforms == nil {
		platforms = Platforms
	}
	specs := make([]ArchiveSpec, 0, len(platforms))
	for _, p := range platforms {
		bin, ok := opts.Binaries[p]
		if !ok {
			return nil, fmt.Errorf("no %s binary for %s", BinaryName, p)
		}
		specs = append(specs, ArchiveSpec{Platform: p, Files: ReleaseFiles(opts.RepoRoot, p, bin)})
	}
	arts, err := BuildArchives(opts.OutDir, opts.Version, specs, opts.ModTime)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := ChecksumsOf(arts).WriteTo(&buf); err != nil {
		return nil, err
	}
	cp := filepath.Join(opts.OutDir, ChecksumsFile)
	if err := os.WriteFile(cp, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return &DistResult{Artifacts: arts, ChecksumsPath: cp}, nil
}

// RenderDistOptions are the inputs of RenderDist.
type RenderDistOptions struct {
	// TemplatePath is the .krew.yaml template.
	TemplatePath string
	// DistDir holds the archives and checksums.txt.
	DistDir string
	// Version is the release tag (.TagName).
	Version string
	// BaseURL, when set, replaces the base of every archive URI.
	BaseURL string
}

// RenderDist renders the template for the archives in DistDir: it reads
// checksums.txt, checks that every archive the manifest names exists with
// that checksum, and checks the manifest (Manifest.Check).
func RenderDist(opts RenderDistOptions) (*Result, error) {
	tmpl, err := os.ReadFile(opts.TemplatePath)
	if err != nil {
		return nil, err
	}
	sums, err := ReadChecksumsFile(filepath.Join(opts.DistDir, ChecksumsFile))
	if err != nil {
		return nil, fmt.Errorf("%w (run `make dist` first)", err)
	}
	res, err := Render(RenderOptions{Template: string(tmpl), TagName: opts.Version, Checksums: sums, BaseURL: opts.BaseURL})
	if err != nil {
		return nil, err
	}
	for _, u := range res.URIs {
		got, err := SHA256File(filepath.Join(opts.DistDir, u.Archive))
		if err != nil {
			return nil, fmt.Errorf("archive of %s: %w", u.URI, err)
		}
		if got != u.SHA256 {
			return nil, fmt.Errorf("%s has sha256 %s but %s says %s: run `make dist` again", u.Archive, got, ChecksumsFile, u.SHA256)
		}
	}
	m, err := ParseManifest(res.Manifest)
	if err != nil {
		return nil, err
	}
	if err := m.Check(opts.Version, Platforms); err != nil {
		return nil, fmt.Errorf("rendered manifest is not valid:\n%w", err)
	}
	return res, nil
}
