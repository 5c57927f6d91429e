package versions

import (
	"reflect"
	"testing"
)

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		pin, applied string
		want         bool
	}{
		{"7.5.0", "7.5.0", true},
		{"7.5.0", "7.4.16", false},
		{"v0.5.0", "0.5.0", true},
		{"1.10", "1.10.0", true},
		{"2.7.x", "v2.7.3", true},
		{"2.6.x", "v2.7.3", false},
		{">=1.0 <2.0", "1.4.2", true},
		{">=1.0 <2.0", "2.0.0", false},
		{"~7.5", "7.5.9", true},
		{"2025.1-p2", "2025.1-p2", true},
		{"2025.1-p2", "2025.1-p1", false},
		{"latest", "latest", true},
		{"latest", "v1", false},
		{"7.5.0", "", false},
		{"1.0.0+a", "1.0.0+b", false},
	} {
		if got := Matches(tc.pin, tc.applied); got != tc.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tc.pin, tc.applied, got, tc.want)
		}
	}
}

func TestRevisionParts(t *testing.T) {
	for _, tc := range []struct {
		rev, field, want string
	}{
		{"v0.5.0@sha256:abc", "tag", "v0.5.0"},
		{"v0.5.0@sha256:abc", "semver", "v0.5.0"},
		{"v0.5.0@sha256:abc", "digest", "sha256:abc"},
		{"refs/tags/v1.2.0@sha1:0123", "tag", "v1.2.0"},
		{"main@sha1:0123", "commit", "0123"},
		{"sha256:abc", "digest", "sha256:abc"},
		{"sha256:abc", "tag", ""},
		{"", "tag", ""},
	} {
		if got := refField(tc.field, tc.rev); got != tc.want {
			t.Errorf("refField(%q, %q) = %q, want %q", tc.field, tc.rev, got, tc.want)
		}
	}
}

func TestParseImage(t *testing.T) {
	for in, want := range map[string]imageRef{
		"ghcr.io/c5c3/keystone:2025.1-p2":         {Repository: "ghcr.io/c5c3/keystone", Tag: "2025.1-p2"},
		"registry:5000/app":                       {Repository: "registry:5000/app"},
		"registry:5000/app:1.0@sha256:ab":         {Repository: "registry:5000/app", Tag: "1.0", Digest: "sha256:ab"},
		"nginx":                                   {Repository: "nginx"},
		"quay.io/ceph/ceph@sha256:0123456789abcd": {Repository: "quay.io/ceph/ceph", Digest: "sha256:0123456789abcd"},
	} {
		if got := parseImage(in); got != want {
			t.Errorf("parseImage(%q) = %+v, want %+v", in, got, want)
		}
	}
	if !sameRepository("docker.io/library/nginx", "nginx") || sameRepository("ghcr.io/a/b", "ghcr.io/a/c") {
		t.Error("sameRepository")
	}
}

func TestAddSkewOrder(t *testing.T) {
	got := addSkew(addSkew(addSkew(nil, SkewPipeline), SkewGitApplied), SkewPipeline)
	if want := []string{SkewGitApplied, SkewPipeline}; !reflect.DeepEqual(got, want) {
		t.Errorf("addSkew = %v, want %v", got, want)
	}
}
