package sourceview

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tree writes files (path → content) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func ptr(s string) *string { return &s }

// TestView pins source-controller's archive rules: the default exclusions
// apply only while no .sourceignore and no spec.ignore gives a pattern;
// .sourceignore patterns are relative to their directory; the VCS patterns
// always apply; a file is kept or dropped by its own path.
func TestView(t *testing.T) {
	base := map[string]string{
		"apps/web/deploy.yaml":              "a",
		"apps/web/.github/workflows/ci.yml": "ci",
		".github/workflows/ci.yml":          "ci",
		".gitlab-ci.yml":                    "ci",
		".circleci/config.yml":              "ci",
		".gitignore":                        "x",
		"apps/web/.sops.yaml":               "creation_rules: []",
		"apps/.flux.yaml":                   "x",
		"docs/logo.png":                     "png",
		"apps/web/bundle.tar.gz":            "gz",
		".git/HEAD":                         "ref",
		"README.md":                         "readme",
	}
	all := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		files  map[string]string
		ignore *string
		want   []string
	}{{
		name:  "defaults",
		files: base,
		want:  []string{"README.md", "apps/web/deploy.yaml"},
	}, {
		name:   "spec.ignore turns the defaults off, VCS stays",
		files:  base,
		ignore: ptr("# only docs\n/docs/\n"),
		want: []string{".circleci/config.yml", ".github/workflows/ci.yml", ".gitlab-ci.yml", "README.md", "apps/.flux.yaml",
			"apps/web/.github/workflows/ci.yml", "apps/web/.sops.yaml", "apps/web/bundle.tar.gz", "apps/web/deploy.yaml"},
	}, {
		name:   "a spec.ignore without patterns leaves the defaults on",
		files:  base,
		ignore: ptr("# nothing\n\n"),
		want:   []string{"README.md", "apps/web/deploy.yaml"},
	}, {
		name: "nested .sourceignore, relative to its directory, defaults off",
		files: all(map[string]string{
			"apps/.sourceignore":   "web/*.gz\n/*.yaml\n",
			"apps/web/extra.yaml":  "b",
			"apps/web/keep.tar.gz": "kept? no: web/*.gz",
		}),
		want: []string{".circleci/config.yml", ".github/workflows/ci.yml", ".gitlab-ci.yml", "README.md", "apps/.sourceignore",
			"apps/web/.github/workflows/ci.yml", "apps/web/.sops.yaml", "apps/web/deploy.yaml", "apps/web/extra.yaml", "docs/logo.png"},
	}, {
		name: "root and nested .sourceignore with spec.ignore, negation",
		files: all(map[string]string{
			".sourceignore":          "/*\n!/apps/\n",
			"apps/web/.sourceignore": "*.yml\n",
		}),
		ignore: ptr("**/.sops.yaml\n"),
		want:   []string{"apps/.flux.yaml", "apps/web/.sourceignore", "apps/web/bundle.tar.gz", "apps/web/deploy.yaml"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := New(tree(t, tc.files), tc.ignore)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Files(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("files\n got %s\nwant %s", strings.Join(got, " "), strings.Join(tc.want, " "))
			}
		})
	}
}

// TestViewSymlinksAndDirs: symlinks are not archived, nor what is reached
// through them; a directory is in the view when it is not excluded or
// holds a kept file.
func TestViewSymlinksAndDirs(t *testing.T) {
	root := tree(t, map[string]string{
		"apps/web/deploy.yaml": "a",
		"ci/.github/x.yml":     "b",
		"only-ignored/a.png":   "png",
	})
	if err := os.Symlink(filepath.Join(root, "apps"), filepath.Join(root, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("deploy.yaml", filepath.Join(root, "apps/web/alias.yaml")); err != nil {
		t.Fatal(err)
	}
	v, err := New(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Files(), []string{"apps/web/deploy.yaml"}; !reflect.DeepEqual(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	for p, want := range map[string]bool{".": true, "apps": true, "apps/web": true, "ci": true, "ci/.github": false, "only-ignored": true, "linked": false, "linked/web": false} {
		if got := v.HasDir(p); got != want {
			t.Errorf("HasDir(%s) = %v, want %v", p, got, want)
		}
	}
}

// TestNewFSLike: a view made with another tree's decisions is the view
// NewFS makes of its tree, whether the two trees' ignore patterns are the
// same (the decisions are taken over) or not (they are not).
func TestNewFSLike(t *testing.T) {
	head := map[string]string{"apps/a.yaml": "a", "apps/b.png": "png", "docs/x.md": "x", "keep/.sourceignore": "*.tmp\n", "keep/y.tmp": "y"}
	for _, tc := range []struct {
		name   string
		base   map[string]string
		ignore *string
	}{
		{"same patterns", map[string]string{"apps/a.yaml": "a0", "apps/c.png": "png", "docs": "a file here", "keep/.sourceignore": "*.tmp\n", "keep/z.tmp": "z"}, nil},
		{"same patterns and spec.ignore", map[string]string{"apps/a.yaml": "a0", "docs/x.md": "x", "keep/.sourceignore": "*.tmp\n"}, ptr("docs/\n")},
		{"a .sourceignore changed", map[string]string{"apps/a.yaml": "a", "apps/b.png": "png", "keep/.sourceignore": "*.yaml\n", "keep/y.tmp": "y"}, nil},
		{"a .sourceignore added", map[string]string{"apps/a.yaml": "a", "apps/b.png": "png", ".sourceignore": "apps/\n", "keep/.sourceignore": "*.tmp\n"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			like, err := New(tree(t, head), tc.ignore)
			if err != nil {
				t.Fatal(err)
			}
			dir := tree(t, tc.base)
			abs, err := filepath.EvalSymlinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			want, err := NewFS(abs, os.DirFS(abs), tc.ignore)
			if err != nil {
				t.Fatal(err)
			}
			like.root = abs // the same root, as the checkout and its base commit have
			got, err := NewFSLike(abs, os.DirFS(abs), tc.ignore, like)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.files, want.files) || !reflect.DeepEqual(got.dirs, want.dirs) {
				t.Errorf("NewFSLike: files %v dirs %v, want files %v dirs %v", got.Files(), got.dirs, want.Files(), want.dirs)
			}
		})
	}
}
