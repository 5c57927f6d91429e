package pipeline

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addGitopsSeeds adds every YAML file of the sample gitops repo as a seed.
func addGitopsSeeds(f *testing.F, add func(path string, data []byte)) {
	root := filepath.Join("..", "testdata", "gitops")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsYAML(p) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		add(filepath.ToSlash(rel), b)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

// FuzzParseConfig: c5c3.yaml parsing returns a config or an error naming
// the file, never panics; a config it accepts validates.
func FuzzParseConfig(f *testing.F) {
	addGitopsSeeds(f, func(p string, b []byte) {
		if p == ConfigFile {
			f.Add(b)
		}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig("c5c3.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "c5c3.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := cfg.validate(); err != nil {
			t.Fatalf("accepted a config that does not validate: %v", err)
		}
	})
}

// FuzzSplice: for every pin the scanner finds, an edit changes only the
// bytes of that scalar on its line (comments, quoting, other lines stay),
// and scanning the result finds the pin with the new value.
func FuzzSplice(f *testing.F) {
	addGitopsSeeds(f, func(p string, b []byte) { f.Add(p, b, "2026.2-p3") })
	f.Add("apps/x/release.yaml", []byte("release: '2025.1-p1' # {\"$c5c3\": \"x\"}\n"), "it's \"quoted\": #1\n")
	f.Fuzz(func(t *testing.T, path string, data []byte, value string) {
		if !IsYAML(path) {
			path += ".yaml"
		}
		pins, err := scanFile(File{Path: path, Data: data})
		if err != nil {
			return
		}
		for i, p := range pins {
			if i == 4 {
				break
			}
			out, err := ApplyEdits(data, []Edit{{Pin: p, Value: value, Tag: "!!str"}})
			if err != nil {
				continue // refusing an edit is allowed; a wrong edit is not
			}
			checkOnlyScalarChanged(t, data, out, p)
			again, err := scanFile(File{Path: path, Data: out})
			if err != nil {
				t.Fatalf("edit of %s to %q made the file unreadable: %v\n%s", p.Key, value, err, out)
			}
			found := false
			for _, q := range again {
				if q.Key == p.Key && q.Line == p.Line && q.Value == value {
					found = true
				}
			}
			if !found {
				t.Fatalf("after setting %s (line %d) to %q the scan finds %+v\n%s", p.Key, p.Line, value, again, out)
			}
		}
	})
}

// checkOnlyScalarChanged: the bytes that differ between src and out lie
// inside the pin's line, and neither side of the change spans a newline.
func checkOnlyScalarChanged(t *testing.T, src, out []byte, p Pin) {
	t.Helper()
	pre := 0
	for pre < len(src) && pre < len(out) && src[pre] == out[pre] {
		pre++
	}
	suf := 0
	for suf < len(src)-pre && suf < len(out)-pre && src[len(src)-1-suf] == out[len(out)-1-suf] {
		suf++
	}
	removed, inserted := src[pre:len(src)-suf], out[pre:len(out)-suf]
	if bytes.ContainsAny(removed, "\r\n") || bytes.ContainsAny(inserted, "\r\n") {
		t.Fatalf("edit of %s spans lines: removed %q, inserted %q", p.Key, removed, inserted)
	}
	if line := bytes.Count(src[:pre], []byte("\n")) + 1; line != p.Line && len(removed)+len(inserted) > 0 {
		t.Fatalf("edit of %s (line %d) changed line %d: removed %q, inserted %q", p.Key, p.Line, line, removed, inserted)
	}
}
