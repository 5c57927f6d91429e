package fleet

import (
	"testing"
)

func TestCommitOf(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	for rev, want := range map[string]string{
		"main@sha1:" + sha:                sha,
		"sha1:" + sha:                     sha,
		"refs/tags/v1@sha1:" + sha:        sha,
		"main/" + sha:                     sha,
		"v1.0.0@sha256:" + sha + sha[:24]: sha + sha[:24],
	} {
		got, err := CommitOf(rev)
		if err != nil || got != want {
			t.Errorf("CommitOf(%q) = %q, %v", rev, got, err)
		}
	}
	for _, bad := range []string{"", "main", "6.5.0", "sha256:xyz"} {
		if _, err := CommitOf(bad); err == nil {
			t.Errorf("CommitOf(%q) did not fail", bad)
		}
	}
}
