package testfleet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	generator "github.com/fluxcd/pkg/kustomize"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/internal/kbuild"
)

// Build makes the objects kustomize-controller applies for ks, the way
// kustomize-controller v1.9 does it (internal/controller/
// kustomization_controller.go: generate, build, apply) — written against
// fluxcd/pkg directly, not with the plugin's diff.Builder, so that the
// sample's live state is an oracle independent of the code under test: the
// artifact is the checkout packed like source-controller packs it
// (ArchiveDir, with the source's spec.ignore) and extracted into a
// temporary directory, the generator writes its
// kustomization.yaml into it, kustomize builds it from disk, postBuild
// substitutes from the hub (each resource decrypted first, then
// substituted, as the controller does), then owner labels, normalisation and
// commonMetadata in the controller's order. With spec.decryption (SOPS)
// it decrypts as the controller does (oracleDecryptor): generator inputs
// and patch files before the build, each resource before its
// substitution.
//
// The one piece it shares with the plugin is the kustomize run itself,
// internal/kbuild: fluxcd/pkg/kustomize.SecureBuild's krusty build without
// its per-build parse of kyaml's built-in OpenAPI schema (30–40 % of a
// fleet test package's CPU when every build paid it). kbuild's
// TestBuildMatchesFlux holds it byte-equal to fluxcd/pkg/kustomize.Build on
// every kustomization of the sample repo and on custom schemas.
func (s *Sample) Build(ctx context.Context, ks *kustomizev1.Kustomization) ([]*unstructured.Unstructured, error) {
	// The artifact source-controller makes of the checkout for the
	// Kustomization's GitRepository, extracted as the controller does.
	ref := ks.Spec.SourceRef
	if ref.Namespace == "" {
		ref.Namespace = ks.Namespace
	}
	key := client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
	work := s.shared[key]
	if work == "" || ks.Spec.Decryption != nil {
		var err error
		if work, err = s.extractArtifact(ctx, key); err != nil {
			return nil, err
		}
		defer func() { _ = os.RemoveAll(work) }()
	}
	dir, err := securePath(work, ks.Spec.Path)
	if err != nil {
		return nil, err
	}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ks)
	if err != nil {
		return nil, err
	}
	u := unstructured.Unstructured{Object: raw}
	restore, err := keepKustomizationFile(dir)
	if err != nil {
		return nil, err
	}
	defer restore()
	if _, err := generator.NewGenerator(work, u).WriteFile(dir); err != nil {
		return nil, fmt.Errorf("generating kustomization.yaml: %w", err)
	}
	var dec *oracleDecryptor
	if dd := ks.Spec.Decryption; dd != nil && dd.Provider == "sops" {
		if dec, err = newOracleDecryptor(ctx, s.Fleet.Hub.Client, ks); err != nil {
			return nil, fmt.Errorf("decryption keys: %w", err)
		}
		defer dec.close()
		if err := dec.decryptSources(work, dir, map[string]bool{}); err != nil {
			return nil, fmt.Errorf("decrypting sources: %w", err)
		}
	}
	m, err := kbuild.SecureBuild(work, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build failed: %w", err)
	}
	for _, res := range m.Resources() {
		if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
			return nil, fmt.Errorf("failed to decode Kubernetes apiVersion, kind and name from: %v", res.String())
		}
		// The controller decrypts each resource before it substitutes
		// postBuild variables in it: a SOPS value holding ${var} is
		// substituted in its plaintext.
		if dec != nil {
			y, err := res.AsYAML()
			if err != nil {
				return nil, err
			}
			plain, err := dec.decryptResource(y)
			if err != nil {
				return nil, fmt.Errorf("decrypting %w", err)
			}
			if !bytes.Equal(plain, y) {
				j, err := yaml.YAMLToJSON(plain)
				if err != nil {
					return nil, err
				}
				if err := res.UnmarshalJSON(j); err != nil {
					return nil, err
				}
				if _, err := m.Replace(res); err != nil {
					return nil, err
				}
			}
		}
		if ks.Spec.PostBuild != nil {
			always := ks.GetSubstituteStrategy() == kustomizev1.SubstituteStrategyAlways
			out, err := generator.SubstituteVariables(ctx, s.Fleet.Hub.Client, u, res,
				generator.SubstituteWithStrict(false), generator.SubstituteWithAlways(always))
			if err != nil {
				return nil, fmt.Errorf("post build failed for '%s/%s': %w", res.GetGvk(), res.GetName(), err)
			}
			if out != nil {
				if _, err := m.Replace(res); err != nil {
					return nil, err
				}
			}
		}
	}
	resources, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build failed: %w", err)
	}
	objects, err := ssautil.ReadObjects(bytes.NewReader(resources))
	if err != nil {
		return nil, err
	}
	ssa.NewResourceManager(nil, nil, kustomizeOwner).SetOwnerLabels(objects, ks.Name, ks.Namespace)
	if err := normalize.UnstructuredList(objects); err != nil {
		return nil, err
	}
	if cm := ks.Spec.CommonMetadata; cm != nil {
		ssautil.SetCommonMetadata(objects, cm.Labels, cm.Annotations)
	}
	return objects, nil
}

// extractArtifact packs the checkout as source-controller packs it for
// the GitRepository key (ArchiveDir, with its spec.ignore) and extracts it
// into a new temporary directory, which the caller removes.
func (s *Sample) extractArtifact(ctx context.Context, key client.ObjectKey) (string, error) {
	ignore, err := s.Fleet.sourceIgnore(ctx, key)
	if client.IgnoreNotFound(err) != nil {
		return "", err
	}
	art, err := ArchiveDir(s.RepoDir, ignore)
	if err != nil {
		return "", fmt.Errorf("archiving the checkout: %w", err)
	}
	work, err := os.MkdirTemp("", "c5c3-artifact-")
	if err != nil {
		return "", err
	}
	if err := extractArchive(art, work); err != nil {
		_ = os.RemoveAll(work)
		return "", fmt.Errorf("extracting the artifact: %w", err)
	}
	return work, nil
}

// keepKustomizationFile notes the kustomization file of dir as it is (the
// generator rewrites or creates it) and returns a function that puts it
// back, so that an artifact extracted once serves several Kustomizations.
func keepKustomizationFile(dir string) (func(), error) {
	type file struct {
		path    string
		content []byte
	}
	var kept []file
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		kept = append(kept, file{p, b})
	}
	return func() {
		for _, f := range kept {
			if f.content == nil {
				_ = os.Remove(f.path)
			} else {
				_ = os.WriteFile(f.path, f.content, 0o644)
			}
		}
	}, nil
}

// securePath is spec.path inside the artifact root, as
// kustomize-controller finds it: securejoin.SecureJoin, then a stat.
func securePath(root, path string) (string, error) {
	dir, err := securejoin.SecureJoin(root, path)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("kustomization path not found: %w", err)
	}
	return dir, nil
}
