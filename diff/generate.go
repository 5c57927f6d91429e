package diff

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/provider"
	kustypes "sigs.k8s.io/kustomize/api/types"
	kfilesys "sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/internal/sourceview"
)

// generate returns the kustomization.yaml kustomize-controller's generator
// (fluxcd/pkg/kustomize.Generator) writes into dir for the Kustomization u,
// and its path, as the generator would make it in the artifact (view)
// rather than in the checkout. The generator reads the disk itself, so:
//   - spec.components with ignoreMissingComponents are kept when they are
//     in the artifact, not merely on disk;
//   - a directory whose kustomization file is in the artifact is handed to
//     the generator as it is (it reads only that file);
//   - for any other directory the generator would scan the disk for
//     manifests, ignored files included: the scan is made here on the
//     artifact, and the generator completes a kustomization.yaml listing
//     what it found, from a temporary directory holding that file alone
//     (file names, nothing of the checkout's content).
//
// onDisk is false when the view is of a tree that is not on disk (a base
// commit): a kustomization file in the view is then handed to the
// generator from a temporary directory holding that file alone.
func generate(view *sourceview.View, vfs kfilesys.FileSystem, onDisk bool, u unstructured.Unstructured, dir string) ([]byte, string, error) {
	u = *u.DeepCopy()
	if ignoreMissing, _, _ := unstructured.NestedBool(u.Object, "spec", "ignoreMissingComponents"); ignoreMissing {
		comps, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "components")
		var keep []any
		for _, c := range comps {
			if !kustomize.IsLocalRelativePath(c) || view.HasPath(filepath.Join(dir, c)) {
				keep = append(keep, c)
			}
		}
		_ = unstructured.SetNestedSlice(u.Object, keep, "spec", "components")
		unstructured.RemoveNestedField(u.Object, "spec", "ignoreMissingComponents")
	}
	if kustomizationFile(vfs, dir) != "" && onDisk && kustomizationFile(vfs, dir) == kustomizationFile(osFS, dir) {
		data, kfile, _, err := kustomize.NewGenerator(view.Root(), u).GenerateManifest(dir)
		return data, kfile, err
	}
	if name := kustomizationFile(vfs, dir); name != "" && !onDisk {
		return generateFrom(vfs, u, dir, name)
	}

	resources, err := scanManifests(vfs, dir)
	if err != nil {
		return nil, "", err
	}
	kus := kustypes.Kustomization{TypeMeta: kustypes.TypeMeta{APIVersion: kustypes.KustomizationVersion, Kind: kustypes.KustomizationKind}}
	if len(resources) == 0 {
		kus.Namespace = "_placeholder" // the generator's way around "kustomization.yaml is empty"
	} else {
		kus.Resources = resources
	}
	listed, err := yaml.Marshal(kus)
	if err != nil {
		return nil, "", err
	}
	tmp, err := os.MkdirTemp("", "c5c3-kustomization-")
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := os.WriteFile(filepath.Join(tmp, konfig.DefaultKustomizationFileName()), listed, 0o600); err != nil {
		return nil, "", err
	}
	data, _, _, err := kustomize.NewGenerator(tmp, u).GenerateManifest(tmp)
	if err != nil {
		return nil, "", err
	}
	if len(resources) == 0 {
		// The generator adds buildMetadata to an existing kustomization
		// without resources, not to one it made itself.
		if err := yaml.Unmarshal(data, &kus); err != nil {
			return nil, "", err
		}
		kus.BuildMetadata, _, _ = unstructured.NestedStringSlice(u.Object, "spec", "buildMetadata")
		if data, err = yaml.Marshal(kus); err != nil {
			return nil, "", err
		}
	}
	return data, filepath.Join(dir, konfig.DefaultKustomizationFileName()), nil
}

// generateFrom runs the generator on dir's kustomization file name, read
// from vfs, in a temporary directory holding that file alone.
func generateFrom(vfs kfilesys.FileSystem, u unstructured.Unstructured, dir, name string) ([]byte, string, error) {
	content, err := vfs.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, "", err
	}
	tmp, err := os.MkdirTemp("", "c5c3-kustomization-")
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := os.WriteFile(filepath.Join(tmp, name), content, 0o600); err != nil {
		return nil, "", err
	}
	data, _, _, err := kustomize.NewGenerator(tmp, u).GenerateManifest(tmp)
	return data, filepath.Join(dir, name), err
}

var osFS = kfilesys.MakeFsOnDisk()

// kustomizationFile is the kustomization file of dir the generator takes
// (the first of kustomize's recognised names that is a file), or "".
func kustomizationFile(fs kfilesys.FileSystem, dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if p := filepath.Join(dir, name); fs.Exists(p) && !fs.IsDir(p) {
			return name
		}
	}
	return ""
}

// scanManifests lists what the generator lists as resources of a directory
// without a kustomization file: its subdirectories holding one (not
// descended into), and every .yaml/.yml file under it, each of which must
// decode as Kubernetes YAML — "./"-relative to dir, in walk order.
func scanManifests(fs kfilesys.FileSystem, dir string) ([]string, error) {
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	var out []string
	rel := func(p string) string { r, _ := filepath.Rel(dir, p); return "./" + filepath.ToSlash(r) }
	err := fs.Walk(dir, func(p string, info os.FileInfo, err error) (walkErr error) {
		if err != nil || p == dir {
			return err
		}
		if info.IsDir() {
			if kustomizationFile(fs, p) != "" {
				out = append(out, rel(p))
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := fs.ReadFile(p)
		if err != nil {
			return err
		}
		defer func() {
			if r := recover(); r != nil {
				walkErr = fmt.Errorf("recovered from panic while parsing YAML file %s: %v", filepath.Base(p), r)
			}
		}()
		if _, err := rf.SliceFromBytes(data); err != nil {
			return fmt.Errorf("failed to decode Kubernetes YAML from %s: %w", p, err)
		}
		out = append(out, rel(p))
		return nil
	})
	return out, err
}
