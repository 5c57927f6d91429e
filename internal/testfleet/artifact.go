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
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
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
// commit of the git repository at repoDir on branch main: the committed
// tree as a tar.gz, without .git. Uncommitted changes in the work tree are
// not part of it.
func ArchiveCommit(repoDir, commit string) (*Artifact, error) {
	repo, err := git.PlainOpen(repoDir)
	if err != nil {
		return nil, err
	}
	c, err := repo.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	mtime := c.Committer.When.UTC()
	files, err := c.Files()
	if err != nil {
		return nil, err
	}
	err = files.ForEach(func(f *object.File) error {
		if f.Mode != filemode.Regular && f.Mode != filemode.Executable {
			return nil // symlinks and submodules: source-controller skips them too
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		mode := int64(0o644)
		if f.Mode == filemode.Executable {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.Name, Size: f.Size, Mode: mode, ModTime: mtime}); err != nil {
			return err
		}
		_, err = io.Copy(tw, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("archiving commit %s: %w", commit, err)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return &Artifact{
		Revision: "main@sha1:" + commit,
		Data:     buf.Bytes(),
		Digest:   fmt.Sprintf("sha256:%x", sha256.Sum256(buf.Bytes())),
	}, nil
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
