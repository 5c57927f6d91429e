package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/kustomize"
	fluxfs "github.com/fluxcd/pkg/kustomize/filesys"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	kfilesys "sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/kbuild"
	"github.com/c5c3/kubectl-c5c3/internal/sourceview"
)

// Builder builds Kustomization paths straight from the checkout through an
// in-memory overlay: the generator's kustomization.yaml (for directories
// without one, or to add spec.patches/images/...) is written to memory only,
// so the checkout is never written to and nothing is copied. Builds see the
// checkout as source-controller's artifact of it (sourceview): what the
// source's .sourceignore files, spec.ignore and default exclusions leave out
// does not exist for them.
type Builder struct {
	repo   string
	disk   kfilesys.FileSystem
	hub    client.Client
	strict bool
	// ignore returns the spec.ignore of a Kustomization's source.
	ignore SourceIgnoreFunc
	// decrypt: decrypt SOPS data (WithDecrypt).
	decrypt bool
	// tree, when set, is the commit's tree disk holds in memory
	// (NewTreeBuilder): the checkout on disk is not read.
	tree fs.FS

	mu    sync.Mutex
	views map[string]*sourceview.View // by spec.ignore ("\x00" for unset)
	// files are the tree's files read outside builds (finding sources and
	// the FluxInstance, comparing with the base), by path relative to repo:
	// a run reads each at most once.
	files map[string]fileRead
	// built, when set, is called with the ID of each Kustomization built.
	built func(id string)
	// like, when set, is the Builder of the checkout whose views the
	// views of tree take their decisions from (sourceview.NewFSLike).
	like *Builder
}

type fileRead struct {
	data []byte
	err  error
}

// readFile returns the file rel (slash-separated, relative to the
// checkout), a file of one of the Builder's views, as the Builder's file
// system holds it, read once. A view holds only regular files reached
// without following a symlink, so on disk it is read as it is, without
// the secure file system's per-component symlink checks.
func (b *Builder) readFile(rel string) ([]byte, error) {
	b.mu.Lock()
	f, ok := b.files[rel]
	b.mu.Unlock()
	if ok {
		return f.data, f.err
	}
	read := b.disk.ReadFile
	if b.tree == nil {
		read = os.ReadFile
	}
	data, err := read(filepath.Join(b.repo, filepath.FromSlash(rel)))
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.files[rel]; ok {
		return f.data, f.err // read meanwhile by another goroutine: the same file
	}
	if b.files == nil {
		b.files = map[string]fileRead{}
	}
	b.files[rel] = fileRead{data: data, err: err}
	return data, err
}

// readAll reads the files rel (as readFile) with as many goroutines as
// there are CPUs.
func (b *Builder) readAll(rels []string) {
	var wg sync.WaitGroup
	next := make(chan string)
	for range goruntime.GOMAXPROCS(0) {
		wg.Go(func() {
			for rel := range next {
				_, _ = b.readFile(rel)
			}
		})
	}
	for _, rel := range rels {
		next <- rel
	}
	close(next)
	wg.Wait()
}

// SourceIgnoreFunc returns the spec.ignore (nil when unset) of the
// GitRepository a Kustomization builds from.
type SourceIgnoreFunc func(ctx context.Context, ks *kustomizev1.Kustomization) (*string, error)

// NewBuilder returns a Builder for the checkout at repoDir. Reads are
// confined to repoDir, like kustomize-controller confines them to the
// artifact. hub is where postBuild.substituteFrom ConfigMaps and Secrets are
// read, and, unless WithSourceIgnore says otherwise, the spec.ignore of each
// Kustomization's GitRepository.
func NewBuilder(repoDir string, hub client.Client, strictSubstitute bool) (*Builder, error) {
	// The overlay holds the generated kustomization.yaml under the absolute
	// path kustomize reads it from: a relative repoDir would let the build
	// read the checkout's own file instead, without spec.patches, images,
	// namePrefix or targetNamespace. Symlinks are resolved so that the
	// paths kustomize reads are the artifact view's.
	abs, err := filepath.Abs(repoDir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("opening checkout %s: %w", repoDir, err)
	}
	disk, err := fluxfs.MakeFsOnDiskSecure(abs)
	if err != nil {
		return nil, fmt.Errorf("opening checkout %s: %w", repoDir, err)
	}
	b := &Builder{repo: abs, disk: disk, hub: hub, strict: strictSubstitute, views: map[string]*sourceview.View{}}
	b.ignore = b.hubSourceIgnore
	return b, nil
}

// WithDecrypt makes the Builder decrypt SOPS data like kustomize-controller
// for Kustomizations with spec.decryption, with the keys of its decryption
// Secret in the hub, in memory (diff --decrypt).
func (b *Builder) WithDecrypt() *Builder {
	b.decrypt = true
	return b
}

// decryptor returns the decryptor for ks, or nil and why its SOPS data is
// not decrypted. Bad decryption settings and keys are errors; a Secret the
// user may not read leaves the data skipped, saying so.
func (b *Builder) decryptor(ctx context.Context, ks *kustomizev1.Kustomization) (*decryptor, string, error) {
	if ks.Spec.Decryption == nil {
		return nil, "kustomize-controller refuses to apply it, the Kustomization has no spec.decryption", nil
	}
	if !b.decrypt {
		return nil, "not decrypted (pass --decrypt to decrypt it with the keys of spec.decryption)", nil
	}
	dec, err := newDecryptor(ctx, b.hub, ks)
	if errors.Is(err, ErrCannotReadDecryptionSecret) {
		return nil, "not decrypted: " + err.Error(), nil
	}
	if err != nil {
		return nil, "", err
	}
	return dec, "", nil
}

// WithSourceIgnore makes the Builder take each source's spec.ignore from
// fn instead of the hub's GitRepository.
func (b *Builder) WithSourceIgnore(fn SourceIgnoreFunc) *Builder {
	b.ignore = fn
	return b
}

// hubSourceIgnore reads spec.ignore of the Kustomization's GitRepository
// in the hub; a source that is not there (or no hub) counts as unset.
func (b *Builder) hubSourceIgnore(ctx context.Context, ks *kustomizev1.Kustomization) (*string, error) {
	if b.hub == nil {
		return nil, nil
	}
	ref := fleet.KustomizationSource(ks)
	if ref.Kind != sourcev1.GitRepositoryKind {
		return nil, nil
	}
	var repo sourcev1.GitRepository
	if err := b.hub.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, &repo); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return repo.Spec.Ignore, nil
}

// View returns the checkout as the artifact of a source whose spec.ignore
// is ignore (nil: unset), made once per distinct spec.ignore.
func (b *Builder) View(ignore *string) (*sourceview.View, error) {
	key := "\x00"
	if ignore != nil {
		key = *ignore
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if v := b.views[key]; v != nil {
		return v, nil
	}
	var v *sourceview.View
	var err error
	if b.tree != nil {
		var like *sourceview.View
		if b.like != nil {
			like, _ = b.like.View(ignore)
		}
		v, err = sourceview.NewFSLike(b.repo, b.tree, ignore, like)
	} else {
		v, err = sourceview.New(b.repo, ignore)
	}
	if err != nil {
		return nil, err
	}
	b.views[key] = v
	return v, nil
}

// Build returns the objects kustomize-controller would apply for ks:
// generator (spec.patches, images, components, targetNamespace,
// namePrefix/Suffix), kustomize build, postBuild substitution, then owner
// labels, normalisation and common metadata in the controller's order.
func (b *Builder) Build(ctx context.Context, ks *kustomizev1.Kustomization) ([]*unstructured.Unstructured, error) {
	objects, _, err := b.BuildWithInputs(ctx, ks)
	return objects, err
}

// BuildWithInputs is Build that also returns the files of the checkout the
// build read (relative to it, sorted): what a change must touch to change
// this Kustomization's output.
func (b *Builder) BuildWithInputs(ctx context.Context, ks *kustomizev1.Kustomization) ([]*unstructured.Unstructured, []string, error) {
	if b.built != nil {
		b.built(fleet.ID(ks))
	}
	objects, fs, err := b.build(ctx, ks)
	if fs == nil {
		return objects, nil, err
	}
	return objects, fs.inputs(b.repo), err
}

func (b *Builder) build(ctx context.Context, ks *kustomizev1.Kustomization) ([]*unstructured.Unstructured, *recordingFS, error) {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ks)
	if err != nil {
		return nil, nil, err
	}
	u := unstructured.Unstructured{Object: raw}
	view, err := b.viewOf(ctx, ks)
	if err != nil {
		return nil, nil, err
	}
	vfs := view.FileSystem(b.disk)
	// "/apps", ".//apps//" and "../apps" all name apps/: the controller
	// resolves spec.path inside the artifact root, whatever its form.
	rel := fleet.ArtifactPath(ks.Spec.Path)
	dir := filepath.Join(b.repo, filepath.FromSlash(rel))
	if !view.HasDir(rel) {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return nil, nil, fmt.Errorf("spec.path %q is not in the artifact source-controller makes of the checkout %s: excluded by .sourceignore, the source's spec.ignore or the default exclusions", ks.Spec.Path, b.repo)
		}
		return nil, nil, fmt.Errorf("spec.path %q not found in the checkout %s", ks.Spec.Path, b.repo)
	}
	data, kfile, err := generate(view, vfs, b.tree == nil, u, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("generating kustomization for %s: %w", ks.Spec.Path, err)
	}
	fs := &recordingFS{FileSystem: fluxfs.MakeFsInMemory(vfs), read: map[string]bool{}}
	if err := fs.WriteFile(kfile, data); err != nil {
		return nil, fs, err
	}
	// SOPS: with --decrypt and spec.decryption, decrypt like the
	// controller, in memory; otherwise what it would decrypt is skipped.
	dec, notDecrypted, err := b.decryptor(ctx, ks)
	if err != nil {
		return nil, fs, err
	}
	if dec != nil {
		defer dec.cleanup()
		dec.root = b.repo
		if err := dec.decryptSources(fs, dir); err != nil {
			return nil, fs, fmt.Errorf("error decrypting sources of %s: %w", ks.Spec.Path, err)
		}
	}
	resMap, err := kbuild.Build(fs, dir)
	if err != nil {
		return nil, fs, fmt.Errorf("kustomize build of %s failed: %w", ks.Spec.Path, err)
	}
	objects, err := b.finish(ctx, ks, u, resMap, dec, notDecrypted)
	return objects, fs, err
}

// viewOf is the artifact view a build of ks reads: the checkout as the
// Kustomization's source packs it (its spec.ignore).
func (b *Builder) viewOf(ctx context.Context, ks *kustomizev1.Kustomization) (*sourceview.View, error) {
	ignore, err := b.ignore(ctx, ks)
	if err != nil {
		return nil, fmt.Errorf("reading spec.ignore of %s: %w", fleet.KustomizationSource(ks), err)
	}
	return b.View(ignore)
}

// finish turns kustomize's output for ks (u: ks as unstructured) into the
// objects kustomize-controller applies: each resource decrypted (dec) and
// substituted (postBuild), decoded, SOPS data it leaves encrypted marked
// (notDecrypted: why), then owner labels, normalisation and
// spec.commonMetadata. Each object's result depends on that object and ks
// alone, never on the other objects of resMap.
func (b *Builder) finish(ctx context.Context, ks *kustomizev1.Kustomization, u unstructured.Unstructured, resMap resmap.ResMap, dec *decryptor, notDecrypted string) ([]*unstructured.Unstructured, error) {
	var opts []kustomize.SubstituteOption
	opts = append(opts, kustomize.SubstituteWithStrict(b.strict))
	if ks.GetSubstituteStrategy() == kustomizev1.SubstituteStrategyAlways {
		opts = append(opts, kustomize.SubstituteWithAlways(true))
	}
	decrypted := map[string]bool{}
	for _, res := range resMap.Resources() {
		if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
			return nil, fmt.Errorf("%s: an object without apiVersion, kind or name", ks.Spec.Path)
		}
		if dec != nil {
			ok, err := dec.decryptResource(res)
			if err != nil {
				return nil, fmt.Errorf("decryption failed in %s: %w", ks.Spec.Path, err)
			}
			if ok || (dec.sources && res.GetKind() == "Secret") || dec.patches {
				decrypted[res.GetKind()+"/"+res.GetNamespace()+"/"+res.GetName()] = true
			}
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
	objects, err := decodeResMap(resMap)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ks.Spec.Path, err)
	}
	// Normalising drops the top-level "sops" field and turns stringData
	// into data: recognise SOPS-encrypted objects first.
	markSOPS(objects, ks, notDecrypted)
	for _, o := range objects {
		if decrypted[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] {
			a := o.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			a[decryptedMarker] = "true"
			o.SetAnnotations(a)
		}
	}
	// kustomize-controller's order (reconcile, then apply): owner labels,
	// normalisation, spec.commonMetadata — a commonMetadata label named
	// like an owner label wins.
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
	if err := normalize.UnstructuredList(objects); err != nil {
		return nil, err
	}
	if cm := ks.Spec.CommonMetadata; cm != nil {
		ssautil.SetCommonMetadata(objects, cm.Labels, cm.Annotations)
	}
	return objects, nil
}

// decodeResMap returns the objects of a build as kustomize-controller reads
// them (ssautil.ReadObjects: Lists expanded, non-objects and kustomize's own
// Kustomizations dropped), from kustomize's JSON rendering of each resource
// instead of the YAML stream of ResMap.AsYaml: that is the same JSON turned
// into YAML and back, so the YAML round trip only costs time.
func decodeResMap(m resmap.ResMap) ([]*unstructured.Unstructured, error) {
	var buf bytes.Buffer
	for _, r := range m.Resources() {
		j, err := resourceJSON(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		buf.Write(j)
		buf.WriteByte('\n')
	}
	return ssautil.ReadObjects(&buf)
}

// resourceJSON is r.MarshalJSON without its detour through YAML text:
// kyaml encodes the node to YAML and parses that again before decoding it
// into a map, while decoding the node itself gives the same map. Nodes
// with anchors or aliases (which MarshalJSON resolves by copying the tree
// first) still take kyaml's path.
func resourceJSON(r *resource.Resource) ([]byte, error) {
	n := r.YNode()
	if n == nil || n.Kind != kyaml.MappingNode || hasAnchors(n) {
		return r.MarshalJSON()
	}
	m := map[string]interface{}{}
	if err := n.Decode(&m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

func hasAnchors(n *kyaml.Node) bool {
	if n.Anchor != "" || n.Kind == kyaml.AliasNode {
		return true
	}
	for _, c := range n.Content {
		if hasAnchors(c) {
			return true
		}
	}
	return false
}

// recordingFS remembers the files a kustomize build reads.
type recordingFS struct {
	kfilesys.FileSystem
	mu   sync.Mutex
	read map[string]bool
}

// ReadFile implements filesys.FileSystem and records path.
func (r *recordingFS) ReadFile(path string) ([]byte, error) {
	r.mu.Lock()
	r.read[path] = true
	r.mu.Unlock()
	return r.FileSystem.ReadFile(path)
}

// Open implements filesys.FileSystem and records path.
func (r *recordingFS) Open(path string) (kfilesys.File, error) {
	r.mu.Lock()
	r.read[path] = true
	r.mu.Unlock()
	return r.FileSystem.Open(path)
}

// inputs returns the recorded files inside root, relative to it.
func (r *recordingFS) inputs(root string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.read))
	for p := range r.read {
		if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out
}
