package promote

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/kbuild"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// readEnvFiles reads the YAML files of env from a checkout on disk.
func readEnvFiles(root string, env *pipeline.Environment) ([]pipeline.File, error) {
	var files []pipeline.File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !pipeline.IsYAML(rel) || !env.Under(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, pipeline.File{Path: rel, Data: data})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, err
}

// edit splices the new values into To's files in the worktree.
func (r *run) edit() error {
	r.newFiles = map[string][]byte{}
	byFile := editsByFile(r.plan.Changes)
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		out, err := pipeline.ApplyEdits(r.toFiles[f], byFile[f])
		if err != nil {
			return err
		}
		r.newFiles[f] = out
		r.plan.Files = append(r.plan.Files, FileDiff{Path: f, Diff: diff.Unified(string(r.toFiles[f]), string(out), "a/"+f, "b/"+f)})
		if err := os.WriteFile(filepath.Join(r.wt.Dir, filepath.FromSlash(f)), out, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// verify re-scans To after the edit: every pin must read as planned, and
// every kustomization directory holding an edited file must still build.
func (r *run) verify() error {
	files, err := readEnvFiles(r.wt.Dir, r.toEnv)
	if err != nil {
		return err
	}
	after, err := pipeline.Scan(files)
	if err != nil {
		return fmt.Errorf("after the edit: %w", err)
	}
	want := map[string]string{}
	for _, c := range r.plan.Changes {
		want[c.File+"|"+c.Key+"|"+fmt.Sprint(c.Line)] = c.New
	}
	for _, c := range r.plan.Unchanged {
		want[c.File+"|"+c.Key+"|"+fmt.Sprint(c.Line)] = c.New
	}
	seen := 0
	for _, p := range after {
		id := p.File + "|" + p.Key + "|" + fmt.Sprint(p.Line)
		v, ok := want[id]
		if !ok {
			continue
		}
		seen++
		if p.Value != v {
			return fmt.Errorf("after the edit %s:%d %s reads %q, want %q; nothing was committed", p.File, p.Line, p.Key, p.Value, v)
		}
	}
	if seen != len(want) {
		return fmt.Errorf("after the edit %d of %d pins of %s are no longer found; nothing was committed", len(want)-seen, len(want), r.toEnv.Name)
	}

	dirs := map[string]bool{}
	for f := range r.newFiles {
		for d := path.Dir(f); d != "." && d != "/"; d = path.Dir(d) {
			if !r.toEnv.Under(d) && d != path.Dir(f) {
				break
			}
			if hasKustomization(filepath.Join(r.wt.Dir, filepath.FromSlash(d))) {
				dirs[d] = true
			}
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	for _, d := range sorted {
		if _, err := kbuild.SecureBuild(r.wt.Dir, filepath.Join(r.wt.Dir, filepath.FromSlash(d))); err != nil {
			return fmt.Errorf("after the edit, kustomize build %s fails: %w; nothing was committed", d, err)
		}
	}
	return nil
}

func hasKustomization(dir string) bool {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}
