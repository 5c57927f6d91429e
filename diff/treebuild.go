package diff

import (
	"fmt"
	"path/filepath"
	"testing/fstest"

	"sigs.k8s.io/controller-runtime/pkg/client"
	kfilesys "sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/internal/sourceview"
)

// NewTreeBuilder returns a Builder for a commit's tree (files, read from
// git objects) standing at the checkout repoDir: builds see the paths of
// the checkout, but every read is answered from the tree in memory and the
// checkout on disk is neither read nor written. The artifact view
// (sourceview.NewFS) is made of the same tree, so both sides of a --base
// run go by the same .sourceignore, spec.ignore and default exclusions.
func NewTreeBuilder(repoDir string, files []gitrepo.File, hub client.Client, strictSubstitute bool) (*Builder, error) {
	abs, err := filepath.Abs(repoDir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("opening checkout %s: %w", repoDir, err)
	}
	mem := kfilesys.MakeFsInMemory()
	tree := fstest.MapFS{}
	for _, f := range files {
		if err := mem.WriteFile(filepath.Join(abs, filepath.FromSlash(f.Path)), f.Data); err != nil {
			return nil, fmt.Errorf("reading %s of the base tree: %w", f.Path, err)
		}
		tree[f.Path] = &fstest.MapFile{Data: f.Data, Mode: 0o644}
	}
	b := &Builder{repo: abs, disk: mem, hub: hub, strict: strictSubstitute, tree: tree, views: map[string]*sourceview.View{}}
	b.ignore = b.hubSourceIgnore
	return b, nil
}
