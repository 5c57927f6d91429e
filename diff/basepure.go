package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"path"
	"path/filepath"
	"slices"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	fluxfs "github.com/fluxcd/pkg/kustomize/filesys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kustypes "sigs.k8s.io/kustomize/api/types"
	kfilesys "sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/kbuild"
	"github.com/c5c3/kubectl-c5c3/internal/sourceview"
)

// A --base run in live mode needs of a changed Kustomization only whether
// its build differs between the sides. For a spoke Kustomization whose
// build assembles plain resource files, each kept as it is, that follows
// from the changed files alone, without building the base (derive):
//
//   - its spec adds nothing that works across objects or rewrites them
//     (pureSpec: no targetNamespace, namePrefix/Suffix, patches, images,
//     components, buildMetadata or decryption; postBuild substitution and
//     commonMetadata act on each object alone);
//   - every kustomization file the build reads is the same on both sides
//     and lists only resources, files or directories of the artifact
//     (pureTree), so kustomize loads each file and appends its objects in
//     list order, transforming none of them;
//   - every changed path the build may read is such a listed file.
//
// The build's output is then its files' objects in order, each passed
// through Builder.finish on its own, and kustomize fails only on an id
// that two files share. So each changed file is built on both sides from
// its kustomization's directory, listed alone (entryBuild: the same load
// kustomize makes, then the same finish): when every one gives the same
// ids and the same objects on both sides, the base's build is the head's
// build; when one differs, the base's build differs too (different
// objects, or a kustomize error the head's build does not have). Anything
// else — a build error, a Flux object in a changed file, a Flux object in
// a build that differs (its HelmReleases' fingerprints need the base's
// objects) — is left to a real build of the base.

// derive decides the base's build sb of a spoke Kustomization from the
// head's build hb of the same spec without building it: sb becomes a copy
// of hb when their outputs are the same, else a build without objects
// whose hash differs from hb's (nothing reads a differing spoke build's
// base objects once it holds no Flux object). It reports false when it
// cannot decide: sb is then built.
func (s *side) derive(ctx context.Context, sb, hb *sideBuild) bool {
	if s.in == nil || !s.in.live || hb.skipped || hb.err != nil || sb.cluster.Hub || !pureSpec(sb.ks) {
		return false
	}
	same, ok := deriveSame(ctx, s.from.b, s.b, sb.ks, s.in.changed)
	switch {
	case !ok:
		return false
	case same:
		sb.objects, sb.inputs, sb.hash = hb.objects, hb.inputs, hb.hash
	case holdsFluxObjects(hb.objects):
		return false
	default:
		sb.inputs, sb.hash = hb.inputs, "differs from the checkout's build: "+hb.hash
	}
	return true
}

// pureSpec reports whether ks's spec changes nothing of its build but
// each object on its own (postBuild, commonMetadata).
func pureSpec(ks *kustomizev1.Kustomization) bool {
	sp := ks.Spec
	return sp.Decryption == nil && sp.TargetNamespace == "" && sp.NamePrefix == "" && sp.NameSuffix == "" &&
		len(sp.Patches) == 0 && len(sp.Images) == 0 && len(sp.Components) == 0 && len(sp.BuildMetadata) == 0
}

// holdsFluxObjects reports whether objects hold one of a Flux API group.
func holdsFluxObjects(objects []*unstructured.Unstructured) bool {
	for _, o := range objects {
		if strings.Contains(o.GroupVersionKind().Group, "fluxcd") {
			return true
		}
	}
	return false
}

// deriveSame decides, from the changed paths (slash-separated, relative to
// the checkout), whether the builds of ks by head and base are the same;
// ok is false when it cannot.
func deriveSame(ctx context.Context, head, base *Builder, ks *kustomizev1.Kustomization, changed []string) (same, ok bool) {
	// The two artifacts hold the same paths but changed ones only when
	// the source's spec.ignore is the same (so are the .sourceignore files:
	// no inputCheck otherwise).
	hi, err := head.ignore(ctx, ks)
	if err != nil {
		return false, false
	}
	bi, err := base.ignore(ctx, ks)
	if err != nil || (hi == nil) != (bi == nil) || (hi != nil && *hi != *bi) {
		return false, false
	}
	hv, err := head.View(hi)
	if err != nil {
		return false, false
	}
	bv, err := base.View(bi)
	if err != nil {
		return false, false
	}
	sides := [2]entrySide{{head, hv, hv.FileSystem(head.disk)}, {base, bv, bv.FileSystem(base.disk)}}
	t, ok := walkPure(head.repo, sides, fleet.ArtifactPath(ks.Spec.Path))
	if !ok {
		return false, false
	}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ks)
	if err != nil {
		return false, false
	}
	u := unstructured.Unstructured{Object: raw}
	same = true
	for _, c := range changed {
		listings, listed := t.files[c]
		if !listed {
			if t.reads(c) {
				return false, false
			}
			continue
		}
		for _, l := range listings {
			var got [2]entryResult
			for i, sd := range sides {
				if got[i], err = sd.build(ctx, ks, u, l); err != nil || holdsFluxObjects(got[i].objects) {
					return false, false
				}
			}
			switch {
			case slices.Equal(got[0].ids, got[1].ids) && got[0].json == got[1].json:
			case got[0].json != got[1].json:
				same = false
			default:
				return false, false // the same objects under other ids: left to kustomize
			}
		}
	}
	return same, true
}

// pureTree is what a build reads when every kustomization file it meets is
// pure: the directories it loads (slash-separated, relative to the
// checkout) and the resource files listed in them.
type pureTree struct {
	dirs  map[string]bool
	files map[string][]listing
	// ancestors are the proper ancestors of dirs and files.
	ancestors map[string]bool
}

// listing is a resource file as a kustomization file lists it.
type listing struct {
	// dir holds the kustomization file name; entry is the file as listed.
	dir, name, entry string
}

// walkPure walks the kustomization files from root on both sides; ok is
// false unless each is the same file on both sides and pure, and each
// resource it lists is a file or a directory (walked in turn) of the
// head's artifact.
func walkPure(repo string, sides [2]entrySide, root string) (*pureTree, bool) {
	t := &pureTree{dirs: map[string]bool{}, files: map[string][]listing{}, ancestors: map[string]bool{}}
	var walk func(dir string) bool
	walk = func(dir string) bool {
		if t.dirs[dir] {
			return true
		}
		t.dirs[dir] = true
		abs := filepath.Join(repo, filepath.FromSlash(dir))
		name := kustomizationFile(sides[0].fs, abs)
		if name == "" || kustomizationFile(sides[1].fs, abs) != name {
			return false
		}
		data, err := sides[0].fs.ReadFile(filepath.Join(abs, name))
		if err != nil {
			return false
		}
		if other, err := sides[1].fs.ReadFile(filepath.Join(abs, name)); err != nil || !bytes.Equal(data, other) {
			return false
		}
		entries, ok := pureResources(data)
		if !ok {
			return false
		}
		for _, e := range entries {
			p := path.Join(dir, e)
			switch {
			case p == ".." || strings.HasPrefix(p, "../"):
				return false
			case sides[0].view.HasDir(p):
				if !walk(p) {
					return false
				}
			case sides[0].view.HasFile(p):
				t.files[p] = append(t.files[p], listing{dir: dir, name: name, entry: e})
			default:
				return false
			}
		}
		return true
	}
	if !walk(root) {
		return nil, false
	}
	for p := range t.dirs {
		t.addAncestors(p)
	}
	for p := range t.files {
		t.addAncestors(p)
	}
	return t, true
}

func (t *pureTree) addAncestors(p string) {
	for p != "." && p != "/" && p != "" {
		p = path.Dir(p)
		t.ancestors[p] = true
	}
}

// reads reports whether a build may read the path c, which is not a listed
// file: a directory it loads or one above what it loads (a file on one
// side), a kustomization file name in a directory it loads, or a path
// under a listed file (a directory on one side).
func (t *pureTree) reads(c string) bool {
	if t.dirs[c] || t.ancestors[c] || (t.dirs[path.Dir(c)] && isKustomizationFile(c)) {
		return true
	}
	for p := path.Dir(c); p != "." && p != "/"; p = path.Dir(p) {
		if _, ok := t.files[p]; ok {
			return true
		}
	}
	return false
}

// pureResources returns the resources of a kustomization file that sets
// nothing but apiVersion, kind and resources (local paths); ok is false
// for any other.
func pureResources(data []byte) ([]string, bool) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, false
	}
	var out []string
	for k, v := range doc {
		switch k {
		case "apiVersion", "kind":
		case "resources":
			list, ok := v.([]any)
			if !ok {
				return nil, false
			}
			for _, r := range list {
				s, ok := r.(string)
				if !ok || s == "" || strings.Contains(s, "://") || path.IsAbs(s) {
					return nil, false
				}
				out = append(out, s)
			}
		default:
			return nil, false
		}
	}
	return out, true
}

// entrySide is one side's Builder, with the view a build of the
// Kustomization reads and its file system.
type entrySide struct {
	b    *Builder
	view *sourceview.View
	fs   kfilesys.FileSystem
}

// entryResult is what a listed file adds to a build: kustomize's ids of
// its resources and the objects they become, as JSON, in order.
type entryResult struct {
	ids     []string
	json    string
	objects []*unstructured.Unstructured
}

// build builds the listed file l as its kustomization file would load it,
// from a kustomization file in its directory that lists it alone, and
// finishes its objects as ks's build does.
func (sd entrySide) build(ctx context.Context, ks *kustomizev1.Kustomization, u unstructured.Unstructured, l listing) (entryResult, error) {
	var r entryResult
	kus := kustypes.Kustomization{TypeMeta: kustypes.TypeMeta{APIVersion: kustypes.KustomizationVersion, Kind: kustypes.KustomizationKind}, Resources: []string{l.entry}}
	data, err := yaml.Marshal(kus)
	if err != nil {
		return r, err
	}
	dir := filepath.Join(sd.b.repo, filepath.FromSlash(l.dir))
	fs := fluxfs.MakeFsInMemory(sd.fs)
	if err := fs.WriteFile(filepath.Join(dir, l.name), data); err != nil {
		return r, err
	}
	resMap, err := kbuild.Build(fs, dir)
	if err != nil {
		return r, err
	}
	for _, res := range resMap.Resources() {
		r.ids = append(r.ids, res.CurId().String())
	}
	_, notDecrypted, err := sd.b.decryptor(ctx, ks)
	if err != nil {
		return r, err
	}
	if r.objects, err = sd.b.finish(ctx, ks, u, resMap, nil, notDecrypted); err != nil {
		return r, err
	}
	j, err := json.Marshal(r.objects)
	r.json = string(j)
	return r, err
}
