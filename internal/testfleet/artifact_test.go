package testfleet

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestArchiveCommit: the artifact is the committed tree only (no .git, no
// uncommitted edits), gzipped, with the digest kustomize-controller checks,
// and the server returns it byte for byte (404 for anything else).
func TestArchiveCommit(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "clusters", "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clusters", "a", "cm.yaml"), []byte("kind: ConfigMap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	commit, err := commitAll(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "uncommitted.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	art, err := ArchiveCommit(dir, commit, nil)
	if err != nil {
		t.Fatal(err)
	}
	if art.Revision != "main@sha1:"+commit || art.Digest != fmt.Sprintf("sha256:%x", sha256.Sum256(art.Data)) {
		t.Fatalf("revision %s digest %s", art.Revision, art.Digest)
	}
	gz, err := gzip.NewReader(bytes.NewReader(art.Data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
	}
	if len(files) != 1 || files["clusters/a/cm.yaml"] != "kind: ConfigMap\n" {
		t.Fatalf("archive holds %v", files)
	}

	srv := NewArtifactServer()
	defer srv.Close()
	url := srv.Put("gitrepository/ns/name/"+commit+".tar.gz", art.Data)
	for u, want := range map[string]int{url: http.StatusOK, url + ".missing": http.StatusNotFound} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || (want == http.StatusOK && !bytes.Equal(b, art.Data)) {
			t.Errorf("GET %s: %d (%d bytes), want %d", u, resp.StatusCode, len(b), want)
		}
	}
}
