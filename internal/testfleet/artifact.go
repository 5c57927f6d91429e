package testfleet

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/sourceignore"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ArtifactServer stands in for source-controller's artifact storage: it
// serves source artifacts (gzipped tarballs) over HTTP on 127.0.0.1, where
// kustomize-controller downloads them from status.artifact.url.
type ArtifactServer struct {
	srv *httptest.Server

	mu    sync.RWMutex
	files map[string][]byte
}

// NewArtifactServer starts an artifact server on a free port of 127.0.0.1.
func NewArtifactServer() *ArtifactServer {
	a := &ArtifactServer{files: map[string][]byte{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

func (a *ArtifactServer) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.RLock()
	b, ok := a.files[strings.TrimPrefix(r.URL.Path, "/")]
	a.mu.RUnlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = w.Write(b)
}

// Put stores an artifact under path (relative, like status.artifact.path)
// and returns its URL.
func (a *ArtifactServer) Put(path string, data []byte) string {
	a.mu.Lock()
	a.files[path] = data
	a.mu.Unlock()
	return a.srv.URL + "/" + path
}

// Close stops the server.
func (a *ArtifactServer) Close() { a.srv.Close() }

// Artifact is one source artifact built from a git commit.
type Artifact struct {
	// Revision is what source-controller reports: "main@sha1:<commit>".
	Revision string
	// Data is the gzipped tarball of the commit's tree (no .git).
	Data []byte
	// Digest is "sha256:<hex>" of Data, which kustomize-controller
	// verifies after the download.
	Digest string
}

// ArchiveCommit builds the artifact source-controller would store for
// commit of the git repository at repoDir on branch main, for a
// GitRepository whose spec.ignore is ignore (nil: unset): the committed
// tree checked out (as source-controller clones it, uncommitted changes
// left out) and packed by ArchiveDir.
func ArchiveCommit(repoDir, commit string, ignore *string) (*Artifact, error) {
	repo, err := git.PlainOpen(repoDir)
	if err != nil {
		return nil, err
	}
	c, err := repo.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	checkout, err := os.MkdirTemp("", "c5c3-clone-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(checkout) }()
	files, err := c.Files()
	if err != nil {
		return nil, err
	}
	err = files.ForEach(func(f *object.File) error {
		p := filepath.Join(checkout, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		content, err := f.Contents()
		if err != nil {
			return err
		}
		switch f.Mode {
		case filemode.Symlink:
			return os.Symlink(content, p)
		case filemode.Executable:
			return os.WriteFile(p, []byte(content), 0o755)
		case filemode.Regular, filemode.Deprecated:
			return os.WriteFile(p, []byte(content), 0o644)
		}
		return nil // submodules
	})
	if err != nil {
		return nil, fmt.Errorf("checking out commit %s: %w", commit, err)
	}
	data, err := ArchiveDir(checkout, ignore)
	if err != nil {
		return nil, fmt.Errorf("archiving commit %s: %w", commit, err)
	}
	return &Artifact{
		Revision: "main@sha1:" + commit,
		Data:     data,
		Digest:   fmt.Sprintf("sha256:%x", sha256.Sum256(data)),
	}, nil
}

// ArchiveDir packs dir the way source-controller packs a GitRepository's
// checkout (gitrepository_controller.go reconcileArtifact, with
// fluxcd/pkg/artifact/storage's SourceIgnoreFilter and Storage.Archive),
// written here against fluxcd/pkg/sourceignore, independently of the
// plugin: the patterns of every .sourceignore in the tree plus spec.ignore
// (ignore); with none at all, the VCS and default exclusions, otherwise the
// VCS exclusions and those patterns; a filepath.Walk that keeps regular
// files and directories not matched, symlinks never.
func ArchiveDir(dir string, ignore *string) ([]byte, error) {
	domain := strings.Split(dir, string(filepath.Separator))
	ps, err := sourceignore.LoadIgnorePatterns(dir, domain)
	if err != nil {
		return nil, err
	}
	if ignore != nil {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(*ignore), domain)...)
	}
	matcher := sourceignore.NewDefaultMatcher(ps, domain)
	if len(ps) > 0 {
		matcher = sourceignore.NewMatcher(append(sourceignore.VCSPatterns(domain), ps...))
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if m := fi.Mode(); !m.IsRegular() && !m.IsDir() {
			return nil
		}
		if matcher.Match(strings.Split(p, string(filepath.Separator)), fi.IsDir()) {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), Typeflag: tar.TypeDir, Mode: 0o750}
		if fi.Mode().IsRegular() {
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o600, fi.Size()
			if fi.Mode()&0o111 != 0 {
				h.Mode = 0o700
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// extractArchive unpacks an ArchiveDir tarball into dst, as
// kustomize-controller's fetcher does with the artifact it downloads.
func extractArchive(data []byte, dst string) error {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dst, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
}

// sourceIgnore is spec.ignore of the GitRepository key in the hub, as
// source-controller reads it when it packs the next artifact.
func (f *Fleet) sourceIgnore(ctx context.Context, key client.ObjectKey) (*string, error) {
	repo := &sourcev1.GitRepository{}
	if err := f.Hub.Client.Get(ctx, key, repo); err != nil {
		return nil, err
	}
	return repo.Spec.Ignore, nil
}

// PublishArtifact serves art and writes the status source-controller
// writes after storing it into the GitRepository key in the hub: the
// artifact (url, revision, digest, path, size, lastUpdateTime) and Ready.
// kustomize-controller watches the GitRepository and reconciles every
// Kustomization of the source at the new revision.
func (f *Fleet) PublishArtifact(ctx context.Context, srv *ArtifactServer, key client.ObjectKey, art *Artifact) error {
	hub := f.Hub.Client
	repo := &sourcev1.GitRepository{}
	if err := hub.Get(ctx, key, repo); err != nil {
		return err
	}
	sha := art.Revision[strings.LastIndex(art.Revision, ":")+1:]
	path := fmt.Sprintf("gitrepository/%s/%s/%s.tar.gz", key.Namespace, key.Name, sha)
	size := int64(len(art.Data))
	repo.Status.Artifact = &meta.Artifact{
		Path:           path,
		URL:            srv.Put(path, art.Data),
		Revision:       art.Revision,
		Digest:         art.Digest,
		LastUpdateTime: metav1.NewTime(time.Now().Truncate(time.Second)),
		Size:           &size,
	}
	repo.Status.ObservedGeneration = repo.Generation
	apimeta.SetStatusCondition(&repo.Status.Conditions, metav1.Condition{
		Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: "stored artifact for revision '" + art.Revision + "'", ObservedGeneration: repo.Generation,
	})
	apimeta.SetStatusCondition(&repo.Status.Conditions, metav1.Condition{
		Type: sourcev1.ArtifactInStorageCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: "stored artifact for revision '" + art.Revision + "'", ObservedGeneration: repo.Generation,
	})
	return hub.Status().Update(ctx, repo)
}
