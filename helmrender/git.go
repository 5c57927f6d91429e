package helmrender

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// SourceGitRepository is a chart path of a GitRepository that is not the
// checkout: the repository is cloned (internal/gitrepo) at its spec.ref.
const SourceGitRepository SourceKind = "GitRepository"

// loadGit resolves src.GitRef to a commit (no request for a pinned
// commit; offline, the commit the ref last resolved to), exports that
// commit's tree into the cache once (git/<url key>/<commit>/), and loads
// the chart directory src.Chart from the artifact source-controller makes
// of that tree (.sourceignore files, src.Ignore, default exclusions).
func (f *Fetcher) loadGit(ctx context.Context, src ChartSource) (*Loaded, error) {
	ref := gitrepo.Ref{}
	if src.GitRef != nil {
		ref = *src.GitRef
	}
	auth := gitrepo.Auth{Username: src.Username, Password: src.Password, BearerToken: src.BearerToken}
	base := filepath.Join(f.cacheDir(), "git", keyOf(src.URL))
	refFile := filepath.Join(base, "ref-"+keyOf(ref.String()))
	var commit, refName string
	if f.Offline && ref.Commit == "" {
		b, err := os.ReadFile(refFile)
		if err != nil {
			return nil, fmt.Errorf("offline and %s of the repository was never resolved", ref)
		}
		commit = string(b)
	} else {
		var err error
		if commit, refName, err = gitrepo.ResolveRemote(ctx, src.URL, ref, auth); err != nil {
			return nil, err
		}
	}
	tree := filepath.Join(base, commit)
	if _, err := os.Stat(tree); err != nil {
		if f.Offline {
			return nil, fmt.Errorf("offline and commit %s is not cached", commit)
		}
		if err := exportTree(ctx, src.URL, ref, refName, commit, auth, base, tree); err != nil {
			return nil, err
		}
	}
	if ref.Commit == "" && !f.Offline {
		if err := writeAtomic(refFile, []byte(commit)); err != nil {
			return nil, err
		}
	}
	dir, err := chartDirIn(tree, src.Chart)
	if err != nil {
		return nil, err
	}
	ch, err := loadArtifactChart(tree, dir, src.Ignore)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	return withRevisionVersion(&Loaded{Chart: ch, Version: ch.Metadata.Version, Revision: commit}, src.RevisionVersion)
}

func (s ChartSource) object() string {
	if s.Object != "" {
		return s.Object + " "
	}
	return ""
}

func (s ChartSource) strategy() string {
	if s.RevisionVersion {
		return " (reconcileStrategy Revision)"
	}
	return ""
}

// withRevisionVersion sets, with on, the first 12 hex digits of the source
// revision (a commit, or a Bucket's "sha256:<hex>") as the chart version's
// metadata ("0.1.0+0123456789ab"), as source-controller builds a chart of
// a GitRepository or Bucket with reconcileStrategy Revision.
func withRevisionVersion(l *Loaded, on bool) (*Loaded, error) {
	if !on {
		return l, nil
	}
	hex := l.Revision
	if _, h, ok := strings.Cut(hex, ":"); ok {
		hex = h
	}
	if len(hex) < 12 {
		return nil, fmt.Errorf("invalid source revision %q", l.Revision)
	}
	return withVersionMetadata(l, hex[:12])
}

// exportTree writes commit's tree to a temporary directory of base and
// renames it to tree, so a cached tree is always complete.
func exportTree(ctx context.Context, url string, ref gitrepo.Ref, refName, commit string, auth gitrepo.Auth, base, tree string) error {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(base, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := gitrepo.ExportCommit(ctx, url, ref, refName, commit, auth, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, tree); err != nil {
		if _, serr := os.Stat(tree); serr == nil {
			return nil // another run exported it meanwhile
		}
		return err
	}
	return nil
}

// chartDirIn is the chart path p (spec.chart, "./charts/x") inside root;
// a path leaving root is an error.
func chartDirIn(root, p string) (string, error) {
	dir := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(p, "./")))
	if rel, err := filepath.Rel(root, dir); err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("chart path %q leaves the source", p)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", errors.New("no chart directory " + p + " in the source")
	}
	return dir, nil
}
