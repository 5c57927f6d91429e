package versions

import (
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Matches reports whether the applied value satisfies the pinned one: the
// same string, the same version with or without a leading "v" (1.2 =
// v1.2.0), or — when the pin is a semver range such as 2.7.x or >=1.0 — a
// version inside it. An empty applied value matches nothing.
func Matches(pin, applied string) bool {
	if applied == "" {
		return false
	}
	if pin == applied {
		return true
	}
	v, err := semver.NewVersion(applied)
	if err != nil {
		return strings.TrimPrefix(pin, "v") == strings.TrimPrefix(applied, "v")
	}
	if isRange(pin) {
		c, err := semver.NewConstraint(pin)
		return err == nil && c.Check(v)
	}
	p, err := semver.NewVersion(pin)
	if err != nil {
		return strings.TrimPrefix(pin, "v") == strings.TrimPrefix(applied, "v")
	}
	return p.Equal(v) && p.Metadata() == v.Metadata()
}

// isRange reports whether a pin is a semver range rather than one version.
func isRange(pin string) bool {
	if strings.ContainsAny(pin, "*^~<>=|, ") {
		return true
	}
	for _, part := range strings.Split(strings.TrimPrefix(pin, "v"), ".") {
		if part == "x" || part == "X" {
			return true
		}
	}
	return false
}

// revisionParts splits a Flux artifact revision — "v0.5.0@sha256:abc",
// "refs/tags/v1.2.0@sha1:abc", "main@sha1:abc", "sha256:abc", "7.5.0" —
// into its name (tag, branch or chart version) and its digest.
func revisionParts(rev string) (name, digest string) {
	if i := strings.LastIndex(rev, "@"); i >= 0 {
		name, digest = rev[:i], rev[i+1:]
	} else if algo, _, ok := strings.Cut(rev, ":"); ok && (algo == "sha1" || algo == "sha256") {
		digest = rev
	} else {
		name = rev
	}
	return strings.TrimPrefix(name, "refs/tags/"), digest
}

// refField is the part of an artifact revision that a spec.ref field pins:
// the tag for tag and semver, the digest for digest, the bare hash for
// commit.
func refField(field, rev string) string {
	name, digest := revisionParts(rev)
	switch field {
	case "digest":
		return digest
	case "commit":
		_, h, _ := strings.Cut(digest, ":")
		return h
	}
	return name
}

// imageRef is a container image reference split into repository, tag and
// digest.
type imageRef struct {
	Repository, Tag, Digest string
}

// parseImage splits "registry:5000/org/app:tag@sha256:abc".
func parseImage(s string) imageRef {
	var r imageRef
	if i := strings.Index(s, "@"); i >= 0 {
		s, r.Digest = s[:i], s[i+1:]
	}
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i+1:], "/") {
		s, r.Tag = s[:i], s[i+1:]
	}
	r.Repository = s
	return r
}

// sameRepository compares image names the way kustomize's images
// transformer matches them: with or without the default registry prefix.
func sameRepository(a, b string) bool {
	norm := func(s string) string {
		s = strings.TrimPrefix(s, "docker.io/")
		return strings.TrimPrefix(s, "library/")
	}
	return norm(a) == norm(b)
}

// uniq returns the distinct non-empty values, sorted.
func uniq(values []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// addSkew adds kind to list once, keeping the documented order.
func addSkew(list []string, kind string) []string {
	for _, k := range list {
		if k == kind {
			return list
		}
	}
	list = append(list, kind)
	order := map[string]int{SkewGitApplied: 0, SkewAppliedRunning: 1, SkewPipeline: 2}
	sort.SliceStable(list, func(i, j int) bool { return order[list[i]] < order[list[j]] })
	return list
}
