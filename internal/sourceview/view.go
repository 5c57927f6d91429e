package sourceview

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
)

// View is the set of files and directories of a directory that its source
// artifact holds. Paths are slash-separated and relative to the root; the
// root is ".".
type View struct {
	root  string
	files map[string]bool
	dirs  map[string]bool
	// patterns identifies the ignore patterns the view was made with (its
	// .sourceignore files and spec.ignore); excluded holds, for every path
	// of the tree (a directory's with a trailing "/"), whether they
	// excluded it: NewFSLike takes these decisions over.
	patterns string
	excluded map[string]bool
}

// New reads the tree at root and returns the view source-controller's
// archive of it has for a source whose spec.ignore is ignore (nil: unset).
//
// source-controller (gitrepository_controller.go, then
// artifact/storage.SourceIgnoreFilter and Storage.Archive) reads the
// patterns of every .sourceignore in the tree (sourceignore.
// LoadIgnorePatterns, each relative to its own directory) and appends
// spec.ignore's. When that list is empty it filters with the VCS patterns
// and the default exclusions; otherwise with the VCS patterns and the list
// only — so a .sourceignore anywhere, like a spec.ignore with a pattern,
// turns the default exclusions off. The archive walks the tree without
// following symlinks and keeps regular files and directories only; a file
// is kept when its own path does not match, wherever its parents are.
func New(root string, ignore *string) (*View, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, err
	}
	return NewFS(abs, os.DirFS(abs), ignore)
}

// NewFS is New for a tree that is not (or not as it is) on disk, such as
// a commit's tree read from git objects: fsys holds the tree, root is the
// absolute path it stands for (the domain of the ignore patterns, and what
// Rel and FileSystem resolve paths against). Entries that fsys reports as
// neither regular files nor directories (symlinks) are not in the view.
func NewFS(abs string, fsys fs.FS, ignore *string) (*View, error) {
	return NewFSLike(abs, fsys, ignore, nil)
}

// NewFSLike is NewFS taking over the decisions of like, a view of another
// tree for the same root (the checkout, for a commit's tree): when both
// trees have the same .sourceignore files and ignore is the same, each
// path the two trees share is matched against the same patterns, so like's
// decision for it stands; only the others are matched.
func NewFSLike(abs string, fsys fs.FS, ignore *string, like *View) (*View, error) {
	domain := strings.Split(abs, string(filepath.Separator))
	var id strings.Builder
	ps, err := loadIgnorePatterns(fsys, ".", domain, &id)
	if err != nil {
		return nil, fmt.Errorf("reading the .sourceignore files of %s: %w", abs, err)
	}
	if ignore != nil {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(*ignore), domain)...)
		id.WriteString("\x01" + *ignore)
	}
	if like != nil && (like.root != abs || like.patterns != id.String()) {
		like = nil
	}
	var matcher gitignore.Matcher
	if len(ps) == 0 {
		matcher = sourceignore.NewDefaultMatcher(nil, domain)
	} else {
		matcher = sourceignore.NewMatcher(append(sourceignore.VCSPatterns(domain), ps...))
	}
	v := &View{root: abs, files: map[string]bool{}, dirs: map[string]bool{".": true}, patterns: id.String(), excluded: map[string]bool{}}
	// The path each entry is matched as: the domain, then rel's elements.
	// The matcher only reads it, so one buffer serves every entry.
	full := append([]string(nil), domain...)
	err = fs.WalkDir(fsys, ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		t := d.Type()
		if !t.IsRegular() && !t.IsDir() {
			return nil // symlinks, devices, sockets: not archived
		}
		if d.IsDir() && d.Name() == ".git" {
			// Matched by the VCS patterns, which always apply, and so is
			// everything under it.
			return fs.SkipDir
		}
		key := rel
		if d.IsDir() {
			key += "/"
		}
		excluded, known := false, false
		if like != nil {
			excluded, known = like.excluded[key]
		}
		if !known {
			full = full[:len(domain)]
			for rest := rel; ; {
				elem, after, more := strings.Cut(rest, "/")
				full = append(full, elem)
				if !more {
					break
				}
				rest = after
			}
			excluded = matcher.Match(full, d.IsDir())
		}
		v.excluded[key] = excluded
		if excluded {
			return nil // excluded, but its children are matched on their own
		}
		if d.IsDir() {
			v.dirs[rel] = true
			return nil
		}
		v.files[rel] = true
		// Extracting the archive creates a kept file's directories.
		for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
			v.dirs[dir] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", abs, err)
	}
	return v, nil
}

// loadIgnorePatterns is sourceignore.LoadIgnorePatterns over fsys: the
// patterns of dir's .sourceignore, then those of its subdirectories (but
// .git) in name order, each relative to its own directory. Each file's
// directory and content are written to id.
func loadIgnorePatterns(fsys fs.FS, dir string, domain []string, id *strings.Builder) ([]gitignore.Pattern, error) {
	dom := append([]string(nil), domain...)
	var ps []gitignore.Pattern
	data, err := fs.ReadFile(fsys, path.Join(dir, sourceignore.IgnoreFile))
	switch {
	case err == nil:
		ps = sourceignore.ReadPatterns(bytes.NewReader(data), dom)
		id.WriteString(dir + "\x00" + string(data) + "\x00")
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != ".git" {
			sub, err := loadIgnorePatterns(fsys, path.Join(dir, e.Name()), append(dom, e.Name()), id)
			if err != nil {
				return nil, err
			}
			ps = append(ps, sub...)
		}
	}
	return ps, nil
}

// Root is the absolute path of the directory, symlinks resolved.
func (v *View) Root() string { return v.root }

// HasFile reports whether the artifact holds the file rel.
func (v *View) HasFile(rel string) bool { return v.files[clean(rel)] }

// HasDir reports whether the artifact holds the directory rel.
func (v *View) HasDir(rel string) bool { return v.dirs[clean(rel)] }

// Has reports whether the artifact holds rel, file or directory.
func (v *View) Has(rel string) bool { rel = clean(rel); return v.files[rel] || v.dirs[rel] }

// Files returns the files of the artifact, sorted.
func (v *View) Files() []string {
	out := make([]string, 0, len(v.files))
	for f := range v.files {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Rel returns the path of the absolute (or root-relative) path p relative
// to the root, slash-separated, and false when p is outside the root.
func (v *View) Rel(p string) (string, bool) {
	if !filepath.IsAbs(p) {
		return clean(p), !strings.HasPrefix(clean(p), "../") && clean(p) != ".."
	}
	if p == v.root {
		return ".", true
	}
	rel, err := filepath.Rel(v.root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// HasPath is Has for an absolute path; paths outside the root are not in
// the view.
func (v *View) HasPath(p string) bool {
	rel, ok := v.Rel(p)
	return ok && v.Has(rel)
}

func clean(rel string) string { return path.Clean(filepath.ToSlash(rel)) }

// errNotInArtifact is returned for paths the view hides.
func notExist(op, p string) error {
	return &os.PathError{Op: op, Path: p, Err: fs.ErrNotExist}
}
