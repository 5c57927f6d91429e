package krew

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// File is one entry of a release archive. The content comes from Data, or
// from the file at Path when Data is nil.
type File struct {
	// Name is the slash-separated path inside the archive.
	Name string
	// Mode is the permission bits stored for the entry (0o755, 0o644).
	Mode fs.FileMode
	// Path is the file to read the content from when Data is nil.
	Path string
	// Data is the content.
	Data []byte
}

// ArchiveSpec says what goes into one platform's archive.
type ArchiveSpec struct {
	// Platform picks the format (.zip on Windows) and the archive name.
	Platform Platform
	// Files are the entries; order does not matter (they are sorted).
	Files []File
}

// Artifact is an archive written by BuildArchives.
type Artifact struct {
	Platform Platform
	// Name is the archive's file name, e.g. kubectl-c5c3_v0.1.0_linux_amd64.tar.gz.
	Name string
	// Path is where it was written.
	Path string
	// SHA256 is the hex sha256 of the archive.
	SHA256 string
	// Size is the archive's size in bytes.
	Size int64
}

// BuildArchives writes one archive per spec into outDir, named for version,
// and returns them in spec order. Every entry gets mtime (truncated to the
// second, in UTC), owner 0:0 and its File.Mode, so the same inputs give
// byte-identical archives.
func BuildArchives(outDir, version string, specs []ArchiveSpec, mtime time.Time) ([]Artifact, error) {
	if err := ValidateVersion(version); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	arts := make([]Artifact, 0, len(specs))
	for _, s := range specs {
		name := s.Platform.ArchiveName(version)
		p := filepath.Join(outDir, name)
		a, err := writeArchiveFile(p, s, mtime)
		if err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
		a.Name = name
		arts = append(arts, a)
	}
	return arts, nil
}

func writeArchiveFile(p string, s ArchiveSpec, mtime time.Time) (Artifact, error) {
	f, err := os.Create(p)
	if err != nil {
		return Artifact{}, err
	}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(f, h)}
	if s.Platform.Windows() {
		err = WriteZip(cw, s.Files, mtime)
	} else {
		err = WriteTarGz(cw, s.Files, mtime)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(p)
		return Artifact{}, err
	}
	return Artifact{Platform: s.Platform, Path: p, SHA256: hex.EncodeToString(h.Sum(nil)), Size: cw.n}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// sortedFiles checks the entries and returns them sorted by name.
func sortedFiles(files []File) ([]File, error) {
	out := append([]File(nil), files...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for i, f := range out {
		if f.Name == "" || path.IsAbs(f.Name) || path.Clean(f.Name) != f.Name || f.Name == ".." || strings.HasPrefix(f.Name, "../") {
			return nil, fmt.Errorf("invalid archive entry name %q: want a clean relative path", f.Name)
		}
		if i > 0 && out[i-1].Name == f.Name {
			return nil, fmt.Errorf("duplicate archive entry %q", f.Name)
		}
		if f.Data == nil && f.Path == "" {
			return nil, fmt.Errorf("archive entry %q has neither data nor a path", f.Name)
		}
	}
	return out, nil
}

// content returns the entry's bytes.
func (f File) content() ([]byte, error) {
	if f.Data != nil {
		return f.Data, nil
	}
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, fmt.Errorf("archive entry %s: %w", f.Name, err)
	}
	return b, nil
}

// WriteTarGz writes files as a gzip-compressed tar to w: entries sorted by
// name, regular files only, with mtime, owner 0:0 and no user or group
// names. The gzip header carries no name and no time.
func WriteTarGz(w io.Writer, files []File, mtime time.Time) error {
	files, err := sortedFiles(files)
	if err != nil {
		return err
	}
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	mt := mtime.UTC().Truncate(time.Second)
	for _, f := range files {
		b, err := f.content()
		if err != nil {
			return err
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.Name,
			Mode:     int64(f.Mode.Perm()),
			Size:     int64(len(b)),
			ModTime:  mt,
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("archive entry %s: %w", f.Name, err)
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// WriteZip writes files as a zip to w (deflate), entries sorted by name,
// each with mtime (as UTC) and its Unix mode.
func WriteZip(w io.Writer, files []File, mtime time.Time) error {
	files, err := sortedFiles(files)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	mt := mtime.UTC().Truncate(time.Second)
	for _, f := range files {
		b, err := f.content()
		if err != nil {
			return err
		}
		hdr := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: mt}
		hdr.SetMode(f.Mode.Perm())
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("archive entry %s: %w", f.Name, err)
		}
		if _, err := fw.Write(b); err != nil {
			return err
		}
	}
	return zw.Close()
}

// ReadArchive returns the entries of a .tar.gz or .zip archive (by file
// name), for checks and tests.
func ReadArchive(p string) ([]File, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if filepath.Ext(p) == ".zip" {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		var out []File
		for _, zf := range zr.File {
			rc, err := zf.Open()
			if err != nil {
				return nil, fmt.Errorf("reading %s: %s: %w", p, zf.Name, err)
			}
			data, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil {
				return nil, fmt.Errorf("reading %s: %s: %w", p, zf.Name, err)
			}
			out = append(out, File{Name: zf.Name, Mode: zf.Mode().Perm(), Data: data})
		}
		return out, nil
	}
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	tr := tar.NewReader(gz)
	var out []File
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %s: %w", p, hdr.Name, err)
		}
		out = append(out, File{Name: hdr.Name, Mode: fs.FileMode(hdr.Mode).Perm(), Data: data})
	}
}
