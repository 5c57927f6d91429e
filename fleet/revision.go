package fleet

import (
	"fmt"
	"regexp"
	"strings"
)

var hexRE = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// CommitOf extracts the git commit from a Flux revision:
// "main@sha1:<hash>", "sha1:<hash>", "refs/tags/v1@sha256:<hash>" or the
// legacy "main/<hash>".
func CommitOf(revision string) (string, error) {
	r := revision
	if i := strings.LastIndex(r, "@"); i >= 0 {
		r = r[i+1:]
	}
	if algo, h, ok := strings.Cut(r, ":"); ok && (algo == "sha1" || algo == "sha256") && hexRE.MatchString(h) {
		return h, nil
	}
	if i := strings.LastIndex(r, "/"); i >= 0 && hexRE.MatchString(r[i+1:]) {
		return r[i+1:], nil
	}
	if hexRE.MatchString(r) {
		return r, nil
	}
	return "", fmt.Errorf("applied revision %q names no git commit", revision)
}
