package helmrender

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"

	"github.com/c5c3/kubectl-c5c3/internal/sourceview"
)

// loadArtifactChart loads the chart directory dir of the source tree root
// as helm-controller gets it: source-controller archives root filtered by
// its ignore rules (internal/sourceview, ignore is the source's
// spec.ignore, nil when unset), and its HelmChart reconciler loads the
// chart directory of the extracted artifact with Helm's loader.LoadDir —
// so the files are those of the view, filtered by the chart's .helmignore
// and Helm's default rules as LoadDir does.
func loadArtifactChart(root, dir string, ignoreSpec *string) (*chart.Chart, error) {
	v, err := sourceview.New(root, ignoreSpec)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, err
	}
	rel, ok := v.Rel(abs)
	if !ok || !v.HasDir(rel) {
		return nil, fmt.Errorf("no chart directory %s in the source artifact (excluded by .sourceignore, spec.ignore or the default exclusions)", rel)
	}
	prefix := ""
	if rel != "." {
		prefix = rel + "/"
	}
	rules := ignore.Empty()
	if v.HasFile(prefix + ignore.HelmIgnore) {
		if rules, err = ignore.ParseFile(filepath.Join(abs, ignore.HelmIgnore)); err != nil {
			return nil, err
		}
	}
	rules.AddDefaults()
	var names []string
	for _, f := range v.Files() {
		if n, ok := strings.CutPrefix(f, prefix); ok {
			names = append(names, n)
		}
	}
	// LoadDir walks directory by directory, entries in lexical order.
	slices.SortFunc(names, func(a, b string) int {
		return slices.Compare(strings.Split(a, "/"), strings.Split(b, "/"))
	})
	var files []*archive.BufferedFile
	skipped := map[string]bool{}
	for _, n := range names {
		if helmIgnored(abs, n, rules, skipped) {
			continue
		}
		p := filepath.Join(abs, filepath.FromSlash(n))
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if fi.Size() > archive.MaxDecompressedFileSize {
			return nil, fmt.Errorf("chart file %q is larger than the maximum file size %d", fi.Name(), archive.MaxDecompressedFileSize)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("error reading %s: %w", n, err)
		}
		data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
		files = append(files, &archive.BufferedFile{Name: n, ModTime: fi.ModTime(), Data: data})
	}
	return loader.LoadFiles(files)
}

// helmIgnored reports whether the .helmignore rules skip the chart file n:
// the file itself, or a directory on its path (LoadDir skips the whole
// directory). skipped caches the directories' answers.
func helmIgnored(top, n string, rules *ignore.Rules, skipped map[string]bool) bool {
	var dirs []string
	for d := path.Dir(n); d != "."; d = path.Dir(d) {
		dirs = append(dirs, d)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		s, seen := skipped[d]
		if !seen {
			fi, err := os.Stat(filepath.Join(top, filepath.FromSlash(d)))
			s = err == nil && rules.Ignore(d, fi)
			skipped[d] = s
		}
		if s {
			return true
		}
	}
	fi, err := os.Stat(filepath.Join(top, filepath.FromSlash(n)))
	return err == nil && rules.Ignore(n, fi)
}
