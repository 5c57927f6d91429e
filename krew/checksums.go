package krew

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
)

// Checksums maps archive file names to their hex sha256.
type Checksums map[string]string

var sha256Hex = regexp.MustCompile(`^[a-f0-9]{64}$`)

// ChecksumsOf returns the checksums of the given artifacts.
func ChecksumsOf(arts []Artifact) Checksums {
	c := make(Checksums, len(arts))
	for _, a := range arts {
		c[a.Name] = a.SHA256
	}
	return c
}

// WriteTo writes the checksums as `sha256sum` prints them ("<sha256>  <name>"),
// sorted by name, so `sha256sum -c checksums.txt` verifies the archives.
func (c Checksums) WriteTo(w io.Writer) (int64, error) {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	var total int64
	for _, n := range names {
		k, err := fmt.Fprintf(w, "%s  %s\n", c[n], n)
		total += int64(k)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// ParseChecksums reads a sha256sum-style file ("<sha256>  <name>" or
// "<sha256> *<name>" per line; blank lines are ignored).
func ParseChecksums(r io.Reader) (Checksums, error) {
	c := Checksums{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		sum, name, ok := strings.Cut(text, " ")
		name = strings.TrimPrefix(strings.TrimSpace(name), "*")
		if !ok || !sha256Hex.MatchString(sum) || name == "" {
			return nil, fmt.Errorf("line %d: want \"<sha256>  <file name>\", got %q", line, text)
		}
		if prev, dup := c[name]; dup && prev != sum {
			return nil, fmt.Errorf("line %d: %s listed twice with different checksums", line, name)
		}
		c[name] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// ReadChecksumsFile parses the checksums file at p.
func ReadChecksumsFile(p string) (Checksums, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	c, err := ParseChecksums(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return c, nil
}

// SHA256File returns the hex sha256 of the file at p.
func SHA256File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ValidateVersion checks that v is a version krew accepts in spec.version:
// a semantic version with a leading "v", e.g. v0.1.0 or v0.1.0-rc.1.
func ValidateVersion(v string) error {
	if !strings.HasPrefix(v, "v") {
		return fmt.Errorf("version %q must start with \"v\" (krew wants a semantic version such as v0.1.0)", v)
	}
	if _, err := version.ParseSemantic(v); err != nil {
		return fmt.Errorf("version %q is not a semantic version such as v0.1.0: %w", v, err)
	}
	if strings.ContainsAny(v, "+/") {
		return fmt.Errorf("version %q must not contain \"+\" or \"/\": it is part of the archive names and URLs", v)
	}
	return nil
}
