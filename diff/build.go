package diff

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/kustomize"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Builder builds Kustomization paths from a scratch copy of the checkout,
// so that the checkout itself is never written to (the generator may add a
// kustomization.yaml to a directory that has none).
type Builder struct {
	repo    string
	work    string
	hub     client.Client
	strict  bool
	mu      sync.Mutex // kustomize builds and the generator share the copy
	cleanup func()
}

// NewBuilder copies repoDir (without .git) to a temporary directory. hub is
// where postBuild.substituteFrom ConfigMaps and Secrets are read.
func NewBuilder(repoDir string, hub client.Client, strictSubstitute bool) (*Builder, error) {
	work, err := os.MkdirTemp("", "c5c3-diff-")
	if err != nil {
		return nil, err
	}
	if err := copyCheckout(repoDir, work); err != nil {
		os.RemoveAll(work)
		return nil, fmt.Errorf("copying checkout %s: %w", repoDir, err)
	}
	return &Builder{repo: repoDir, work: work, hub: hub, strict: strictSubstitute, cleanup: func() { os.RemoveAll(work) }}, nil
}

// Close removes the scratch copy.
func (b *Builder) Close() { b.cleanup() }

// Build returns the objects kustomize-controller would apply for ks:
// generator (spec.patches, images, components, targetNamespace,
// namePrefix/Suffix), kustomize build, postBuild substitution, common
// metadata and owner labels, normalised like the controller does.
func (b *Builder) Build(ctx context.Context, ks *kustomizev1.Kustomization) ([]*unstructured.Unstructured, error) {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ks)
	if err != nil {
		return nil, err
	}
	u := unstructured.Unstructured{Object: raw}
	rel := filepath.Clean(strings.TrimPrefix(ks.Spec.Path, "./"))
	if rel == "" || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
		return nil, fmt.Errorf("spec.path %q must be a path inside the repository", ks.Spec.Path)
	}
	if _, err := os.Stat(filepath.Join(b.repo, rel)); err != nil {
		return nil, fmt.Errorf("spec.path %q not found in the checkout %s", ks.Spec.Path, b.repo)
	}
	dir := filepath.Join(b.work, rel)

	b.mu.Lock()
	action, err := kustomize.NewGenerator(b.work, u).WriteFile(dir, kustomize.WithSaveOriginalKustomization())
	if err != nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("generating kustomization for %s: %s", ks.Spec.Path, b.local(err))
	}
	resMap, err := kustomize.SecureBuild(b.work, dir, false)
	if cerr := kustomize.CleanDirectory(dir, action); cerr != nil && err == nil {
		err = cerr
	}
	b.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("kustomize build of %s failed: %s", ks.Spec.Path, b.local(err))
	}

	var opts []kustomize.SubstituteOption
	opts = append(opts, kustomize.SubstituteWithStrict(b.strict))
	if ks.GetSubstituteStrategy() == kustomizev1.SubstituteStrategyAlways {
		opts = append(opts, kustomize.SubstituteWithAlways(true))
	}
	for _, res := range resMap.Resources() {
		if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
			return nil, fmt.Errorf("%s: an object without apiVersion, kind or name", ks.Spec.Path)
		}
		if ks.Spec.PostBuild == nil {
			continue
		}
		out, err := kustomize.SubstituteVariables(ctx, b.hub, u, res, opts...)
		if err != nil {
			return nil, fmt.Errorf("post build of %s failed for %s/%s: %w", ks.Spec.Path, res.GetKind(), res.GetName(), err)
		}
		if out != nil {
			if _, err := resMap.Replace(out); err != nil {
				return nil, err
			}
		}
	}
	yml, err := resMap.AsYaml()
	if err != nil {
		return nil, err
	}
	objects, err := ssautil.ReadObjects(strings.NewReader(string(yml)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ks.Spec.Path, err)
	}
	if err := normalize.UnstructuredList(objects); err != nil {
		return nil, err
	}
	if cm := ks.Spec.CommonMetadata; cm != nil {
		ssautil.SetCommonMetadata(objects, cm.Labels, cm.Annotations)
	}
	owner := map[string]string{
		kustomizev1.GroupVersion.Group + "/name":      ks.Name,
		kustomizev1.GroupVersion.Group + "/namespace": ks.Namespace,
	}
	for _, o := range objects {
		labels := o.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		for k, v := range owner {
			labels[k] = v
		}
		o.SetLabels(labels)
	}
	return objects, nil
}

// local rewrites scratch-copy paths in kustomize errors back to the
// checkout's, so that errors name the user's files.
func (b *Builder) local(err error) string {
	return strings.ReplaceAll(err.Error(), b.work, b.repo)
}

func copyCheckout(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil // symlinks are not followed (kustomize-controller's secure FS refuses them too)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}
