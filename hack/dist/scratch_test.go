package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHostArchive(t *testing.T) {
	dist := t.TempDir()
	if _, err := hostArchive(dist, "v1.2.3"); err == nil || !strings.Contains(err.Error(), "run `make dist` first") {
		t.Errorf("no archive: err = %v, want one that says to run make dist", err)
	}
	want := filepath.Join(dist, hostPlatform().ArchiveName("v1.2.3"))
	if err := os.WriteFile(want, []byte("archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := hostArchive(dist, "v1.2.3")
	if err != nil || got != want {
		t.Errorf("hostArchive = %q, %v; want %q", got, err, want)
	}
}

func TestThrowawayDir(t *testing.T) {
	dir, remove, err := throwawayDir("c5c3-dist-test-", "TEST_ROOT")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	earlier := errors.New("the test failed")
	errp := earlier
	remove(&errp)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after its removal (stat: %v)", dir, err)
	}
	if errp != earlier {
		t.Errorf("the caller's error became %v, want it kept", errp)
	}
}
