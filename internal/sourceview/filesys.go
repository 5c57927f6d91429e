package sourceview

import (
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// FileSystem returns disk (a kustomize file system reading the directory
// the view was made of, fluxfs.MakeFsOnDiskSecure) restricted to the view:
// files and directories not in the artifact do not exist for it. Paths
// outside the root are passed on to disk, which refuses them. Writes go to
// disk unchanged: put an in-memory overlay on top.
func (v *View) FileSystem(disk filesys.FileSystem) filesys.FileSystem {
	return viewFS{FileSystem: disk, v: v}
}

type viewFS struct {
	filesys.FileSystem
	v *View
}

// hidden reports whether p is inside the root but not in the view.
func (f viewFS) hidden(p string) bool {
	abs, err := filepath.Abs(p)
	if err != nil {
		return false
	}
	rel, ok := f.v.Rel(abs)
	return ok && !f.v.Has(rel)
}

func (f viewFS) hiddenFile(p string) bool {
	abs, err := filepath.Abs(p)
	if err != nil {
		return false
	}
	rel, ok := f.v.Rel(abs)
	return ok && !f.v.HasFile(rel)
}

// Open implements filesys.FileSystem.
func (f viewFS) Open(p string) (filesys.File, error) {
	if f.hidden(p) {
		return nil, notExist("open", p)
	}
	return f.FileSystem.Open(p)
}

// ReadFile implements filesys.FileSystem.
func (f viewFS) ReadFile(p string) ([]byte, error) {
	if f.hiddenFile(p) {
		return nil, notExist("read", p)
	}
	return f.FileSystem.ReadFile(p)
}

// Exists implements filesys.FileSystem.
func (f viewFS) Exists(p string) bool { return !f.hidden(p) && f.FileSystem.Exists(p) }

// IsDir implements filesys.FileSystem.
func (f viewFS) IsDir(p string) bool { return !f.hidden(p) && f.FileSystem.IsDir(p) }

// CleanedAbs implements filesys.FileSystem.
func (f viewFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	if f.hidden(p) {
		return "", "", notExist("stat", p)
	}
	return f.FileSystem.CleanedAbs(p)
}

// ReadDir implements filesys.FileSystem.
func (f viewFS) ReadDir(p string) ([]string, error) {
	if f.hidden(p) {
		return nil, notExist("readdir", p)
	}
	names, err := f.FileSystem.ReadDir(p)
	if err != nil {
		return nil, err
	}
	out := names[:0:0]
	for _, n := range names {
		if !f.hidden(filepath.Join(p, n)) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Glob implements filesys.FileSystem.
func (f viewFS) Glob(pattern string) ([]string, error) {
	matches, err := f.FileSystem.Glob(pattern)
	if err != nil {
		return nil, err
	}
	out := matches[:0:0]
	for _, m := range matches {
		if !f.hidden(m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// Walk implements filesys.FileSystem.
func (f viewFS) Walk(p string, walkFn filepath.WalkFunc) error {
	if f.hidden(p) {
		return walkFn(p, nil, notExist("lstat", p))
	}
	return f.FileSystem.Walk(p, func(q string, info os.FileInfo, err error) error {
		if err == nil && f.hidden(q) {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return walkFn(q, info, err)
	})
}
