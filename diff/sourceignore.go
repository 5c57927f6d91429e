package diff

import (
	"bytes"
	"context"
	"path"
	"strings"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// checkoutSourceIgnore returns where the Builder takes a source's
// spec.ignore from: the GitRepository's definition in the checkout when it
// has one (the spec source-controller packs the next artifact with, once
// the checkout is applied), else the hub's GitRepository (f.Sources). The
// definition is looked for in the checkout as the hub's spec.ignore shows
// it: a YAML document of kind GitRepository (source.toolkit.fluxcd.io) with
// the source's name and namespace.
func checkoutSourceIgnore(ignores *sourceIgnores) SourceIgnoreFunc {
	return func(_ context.Context, ks *kustomizev1.Kustomization) (*string, error) {
		return ignores.of(fleet.KustomizationSource(ks))
	}
}

func newSourceIgnores(b *Builder, f *fleet.Fleet) *sourceIgnores {
	return &sourceIgnores{b: b, f: f, cache: map[string]*string{}}
}

// sourceIgnores finds and caches each source's spec.ignore for
// checkoutSourceIgnore.
type sourceIgnores struct {
	b     *Builder
	f     *fleet.Fleet
	mu    sync.Mutex
	cache map[string]*string
}

func (s *sourceIgnores) of(ref fleet.SourceRef) (*string, error) {
	if ref.Kind != sourcev1.GitRepositoryKind {
		return nil, nil
	}
	key := ref.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cache[key]; ok {
		return v, nil
	}
	var hub *string
	if src := s.f.Sources[key]; src != nil {
		if v, found, _ := unstructured.NestedString(src.Object, "spec", "ignore"); found {
			hub = &v
		}
	}
	view, err := s.b.View(hub)
	if err != nil {
		return nil, err
	}
	ignore := hub
	if def, found, err := findGitRepository(s.b, view.Files(), ref.Namespace, ref.Name); err != nil {
		return nil, err
	} else if found {
		ignore = def
	}
	s.cache[key] = ignore
	return ignore, nil
}

// inArtifact reports whether rel (relative to the checkout) is in the
// artifact of one of the sources ("GitRepository/ns/name").
func (s *sourceIgnores) inArtifact(sources map[string]bool, rel string) (bool, error) {
	for key := range sources {
		parts := strings.SplitN(key, "/", 3)
		if len(parts) != 3 {
			continue
		}
		ignore, err := s.of(fleet.SourceRef{Kind: parts[0], Namespace: parts[1], Name: parts[2]})
		if err != nil {
			return false, err
		}
		view, err := s.b.View(ignore)
		if err != nil {
			return false, err
		}
		if view.Has(rel) {
			return true, nil
		}
	}
	return false, nil
}

// findGitRepository looks through the YAML files of b's tree (files,
// relative to it) for the GitRepository namespace/name and returns its
// spec.ignore. Files that are not Kubernetes YAML are passed over.
func findGitRepository(b *Builder, files []string, namespace, name string) (*string, bool, error) {
	for _, f := range files {
		if ext := path.Ext(f); ext != ".yaml" && ext != ".yml" {
			continue
		}
		data, err := b.readFile(f)
		if err != nil {
			return nil, false, err
		}
		if !bytes.Contains(data, []byte("GitRepository")) || !bytes.Contains(data, []byte(name)) {
			continue
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				break // the end, or not Kubernetes YAML: no definition here
			}
			u := unstructured.Unstructured{Object: doc}
			if u.GetKind() != sourcev1.GitRepositoryKind || !strings.HasPrefix(u.GetAPIVersion(), sourcev1.GroupVersion.Group+"/") ||
				u.GetName() != name || u.GetNamespace() != namespace {
				continue
			}
			if s, found, _ := unstructured.NestedString(doc, "spec", "ignore"); found {
				return &s, true, nil
			}
			return nil, true, nil
		}
	}
	return nil, false, nil
}
