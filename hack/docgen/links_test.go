package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestREADMEShowsEveryCommand checks that the README shows each command and
// links its reference page.
func TestREADMEShowsEveryCommand(t *testing.T) {
	readme := read(t, filepath.Join(root, "README.md"))
	for _, c := range rootCmd().Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		if !strings.Contains(readme, c.CommandPath()) {
			t.Errorf("README.md does not show `%s`", c.CommandPath())
		}
		page := "docs/commands/" + strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
		if !strings.Contains(readme, "("+page+")") {
			t.Errorf("README.md does not link %s", page)
		}
	}
}

// TestDocsLinks checks every relative link of the README and the docs: the
// file exists, and a #fragment names a heading of it (GitHub's anchors).
func TestDocsLinks(t *testing.T) {
	files := []string{filepath.Join(root, "README.md")}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatal("no Markdown files under docs/")
	}
	anchorCache := map[string][]string{}
	for _, f := range files {
		for _, target := range links(read(t, f)) {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.Join(filepath.Dir(f), path)
			}
			rel, _ := filepath.Rel(root, f)
			if _, err := os.Stat(dest); err != nil {
				t.Errorf("%s: link %q: %s does not exist", rel, target, path)
				continue
			}
			if frag == "" {
				continue
			}
			if !strings.HasSuffix(dest, ".md") {
				t.Errorf("%s: link %q: a fragment on a file that is not Markdown", rel, target)
				continue
			}
			a, ok := anchorCache[dest]
			if !ok {
				a = anchors(read(t, dest))
				anchorCache[dest] = a
			}
			if !slices.Contains(a, frag) {
				t.Errorf("%s: link %q: no heading with anchor #%s in %s", rel, target, frag, filepath.Base(dest))
			}
		}
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeRE = regexp.MustCompile("`[^`]*`")
)

// links returns the targets of the Markdown links outside code blocks and
// inline code.
func links(md string) []string {
	var out []string
	for _, line := range prose(md) {
		line = codeRE.ReplaceAllString(line, "")
		for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// prose returns the lines of md outside fenced code blocks.
func prose(md string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out = append(out, line)
		}
	}
	return out
}

// anchors returns the anchors GitHub gives the headings of md: lower case,
// punctuation other than - and _ dropped, spaces as -, repeats numbered.
func anchors(md string) []string {
	var out []string
	seen := map[string]int{}
	for _, line := range prose(md) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out = append(out, fmt.Sprintf("%s-%d", a, n))
		} else {
			out = append(out, a)
		}
		seen[a]++
	}
	return out
}
