package diff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/helmrender"
)

// unresolvedInputs records the inputs a run without a hub leaves out:
// they are only in the hub.
type unresolvedInputs struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (u *unresolvedInputs) add(s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[string]bool{}
	}
	u.seen[s] = true
}

func (u *unresolvedInputs) reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen = nil
}

func (u *unresolvedInputs) list() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]string, 0, len(u.seen))
	for s := range u.seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// buildsReader stands for the hub in a run without one (--no-live): it
// answers Gets of ConfigMaps and Secrets (postBuild.substituteFrom) with
// what the side's hub builds so far apply — the hub will hold that once
// they are applied — and anything else as an empty object, the same
// placeholder on both sides, recorded as not resolved offline. Other
// kinds are not found. Only Get is implemented: the Builder calls nothing
// else on its hub.
type buildsReader struct {
	client.Client
	unresolved *unresolvedInputs
	mu         sync.Mutex
	objects    map[string]*unstructured.Unstructured
}

func newBuildsReader(u *unresolvedInputs) *buildsReader {
	return &buildsReader{unresolved: u, objects: map[string]*unstructured.Unstructured{}}
}

// add records the ConfigMaps and Secrets of a hub build.
func (r *buildsReader) add(objects []*unstructured.Unstructured) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, o := range valuesSources(nil, nil, objects) {
		r.objects[k] = o
	}
}

// reset forgets what the builds applied and what was not resolved, for
// another pass over the builds.
func (r *buildsReader) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.objects = map[string]*unstructured.Unstructured{}
	r.unresolved.reset()
}

// Get implements client.Reader.
func (r *buildsReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	var kind string
	switch obj.(type) {
	case *corev1.ConfigMap:
		kind = "ConfigMap"
	case *corev1.Secret:
		kind = "Secret"
	default:
		return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
	}
	r.mu.Lock()
	u := r.objects[valuesKey(kind, key.Namespace, key.Name)]
	r.mu.Unlock()
	if u == nil {
		r.unresolved.add(kind + "/" + key.Namespace + "/" + key.Name + " (postBuild.substituteFrom)")
		obj.SetNamespace(key.Namespace)
		obj.SetName(key.Name)
		return nil
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj)
}

// ErrNoLiveRoot is wrapped when a --no-live run finds no sync to start
// from in the checkout.
var ErrNoLiveRoot = errors.New("no sync to start from")

// RunOffline compares the fleet built at opts.Base with the fleet built
// from the checkout, contacting no cluster (diff --base REF --no-live):
// per Kustomization, objects only the checkout has are created, objects
// whose YAML differs are drifted (changed), objects only the base has are
// deleted when the Kustomization prunes; Secrets masked as always. f is
// fleet.Offline: spokes are named from the kubeConfig references. The
// root is the sync the FluxInstance of the checkout makes for the hub
// (sync.path clusters/<hub>, or the only FluxInstance); inputs only the
// hub holds are listed in NotResolvedOffline.
func RunOffline(ctx context.Context, f *fleet.Fleet, opts Options) (*Result, error) {
	if opts.Base == "" {
		return nil, fmt.Errorf("%w: --no-live compares the checkout with a base: pass --base REF", ErrBadTarget)
	}
	res := &Result{APIVersion: APIVersion, Kind: Kind, Repo: opts.RepoDir, Kustomizations: []KustomizationResult{}, Objects: []ObjectResult{},
		Skipped: []SkippedKustomization{}, HelmReleases: []HelmReleaseResult{}, NoLive: true}
	unresolved := &unresolvedInputs{}
	head, err := NewBuilder(opts.RepoDir, newBuildsReader(unresolved), opts.StrictSubstitute)
	if err != nil {
		return nil, err
	}
	view, err := head.View(nil)
	if err != nil {
		return nil, err
	}
	root, err := offlineRoot(head, view.Files(), f.Clusters[0].Name, opts.Source)
	if err != nil {
		return nil, err
	}
	source := fleet.KustomizationSource(root).String()
	res.Source = strings.TrimPrefix(source, "GitRepository/")
	sources := map[string]bool{source: true}
	configure := func(b *Builder) {
		if b != head {
			b.hub = newBuildsReader(unresolved)
		}
		b.WithSourceIgnore(checkoutSourceIgnore(newSourceIgnores(b, f)))
	}
	configure(head)
	sc, err := newBaseScope(ctx, f, opts, head, sources, []*kustomizev1.Kustomization{root}, configure)
	if err != nil {
		return nil, err
	}
	sc.collect(res)
	ids := map[string]bool{}
	for id := range sc.head.final {
		ids[id] = true
	}
	for id := range sc.base.final {
		ids[id] = true
	}
	unchanged := map[string]bool{}
	for _, u := range res.Unchanged {
		unchanged[u.ID()] = true
	}
	for id := range ids {
		hb, bb := sc.head.final[id], sc.base.final[id]
		if hb != nil && unchanged[kustomizev1.KustomizationKind+"/"+id] {
			continue
		}
		res.addOffline(hb, bb)
	}
	if !opts.NoHelm {
		h := &offlineHelm{f: f, sources: sources, repo: opts.RepoDir, unresolved: unresolved,
			fetcher: &helmrender.Fetcher{CacheDir: opts.ChartCacheDir, Offline: opts.Offline}}
		res.addOfflineHelm(ctx, h, sc, opts)
		h.close()
	}
	sortOffline(f, res)
	for _, o := range res.Objects {
		res.Summary.add(o.Action)
	}
	for _, k := range res.Kustomizations {
		res.Summary.Unchanged += k.Counts.Unchanged
	}
	for _, h := range res.HelmReleases {
		res.Summary.Unchanged += h.Counts.Unchanged
	}
	res.NotResolvedOffline = unresolved.list()
	res.markGaps()
	// The same lint as a live run: the objects' flags (no live state, so
	// no target or field-manager flags) and the images summary.
	res.Dangers, res.Images = lint(res, f), summariseImages(res.Objects)
	return res, nil
}

// addOffline compares one Kustomization's builds (hb: the checkout's, nil
// when the change removes it; bb: the base's, nil when it adds it).
func (r *Result) addOffline(hb, bb *sideBuild) {
	sb := hb
	if sb == nil {
		sb = bb
	}
	kr := KustomizationResult{Cluster: sb.cluster.Name, Namespace: sb.ks.Namespace, Name: sb.ks.Name, Path: sb.ks.Spec.Path, New: bb == nil}
	if hb != nil && hb.err != nil {
		kr.Error = hb.err.Error()
		r.Kustomizations = append(r.Kustomizations, kr)
		return
	}
	var base, head []*unstructured.Unstructured
	if bb != nil && bb.err == nil {
		base = bb.objects
	}
	if hb != nil {
		head = hb.objects
	}
	prune := hb == nil || hb.ks.Spec.Prune
	reason := ""
	if bb != nil && bb.err != nil {
		reason = "the base does not build, compared with nothing: " + bb.err.Error()
	}
	out := compareSides(base, head, func(o *unstructured.Unstructured) bool {
		return prune && o.GetAnnotations()[kustomizev1.GroupVersion.Group+"/prune"] != kustomizev1.DisabledValue
	}, func(o *unstructured.Unstructured, a Action) ObjectResult {
		return ObjectResult{Cluster: kr.Cluster, Kustomization: kr.ID(), APIVersion: o.GetAPIVersion(), Kind: o.GetKind(),
			Namespace: o.GetNamespace(), Name: o.GetName(), Action: a, Reason: reason}
	}, &kr.Counts)
	r.Objects = append(r.Objects, out...)
	r.Kustomizations = append(r.Kustomizations, kr)
}

// sortOffline puts Kustomizations and objects in output order: hub
// first, then clusters by name, then namespace/name.
func sortOffline(f *fleet.Fleet, r *Result) {
	rank := func(c string) string {
		if c == f.Clusters[0].Name {
			return "0"
		}
		return "1" + c
	}
	sort.SliceStable(r.Kustomizations, func(i, j int) bool {
		a, b := r.Kustomizations[i], r.Kustomizations[j]
		if rank(a.Cluster) != rank(b.Cluster) {
			return rank(a.Cluster) < rank(b.Cluster)
		}
		return a.ID() < b.ID()
	})
	sort.SliceStable(r.HelmReleases, func(i, j int) bool {
		a, b := r.HelmReleases[i], r.HelmReleases[j]
		if rank(a.Cluster) != rank(b.Cluster) {
			return rank(a.Cluster) < rank(b.Cluster)
		}
		return a.ID() < b.ID()
	})
	sort.SliceStable(r.Objects, func(i, j int) bool {
		a, b := r.Objects[i], r.Objects[j]
		if rank(a.Cluster) != rank(b.Cluster) {
			return rank(a.Cluster) < rank(b.Cluster)
		}
		return a.Kustomization < b.Kustomization
	})
}

// offlineRoot is the Kustomization the Flux Operator makes of the
// checkout's FluxInstance for the hub: the FluxInstance whose
// spec.sync.path is clusters/<hub> (or the only one with a GitRepository
// sync), named spec.sync.name, else the FluxInstance's namespace — or, with
// --source GitRepository/NS/NAME, that name — applying sync.path with prune.
func offlineRoot(b *Builder, files []string, hub, source string) (*kustomizev1.Kustomization, error) {
	type inst struct {
		file, namespace, name, path string
	}
	var all []inst
	for _, f := range files {
		if ext := path.Ext(f); ext != ".yaml" && ext != ".yml" {
			continue
		}
		data, err := b.readFile(f)
		if err != nil || !bytes.Contains(data, []byte("FluxInstance")) {
			continue
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				break
			}
			u := unstructured.Unstructured{Object: doc}
			if u.GetKind() != "FluxInstance" || !strings.HasPrefix(u.GetAPIVersion(), "fluxcd.controlplane.io/") {
				continue
			}
			kind, _, _ := unstructured.NestedString(doc, "spec", "sync", "kind")
			p, _, _ := unstructured.NestedString(doc, "spec", "sync", "path")
			if kind != "GitRepository" {
				continue
			}
			ns := u.GetNamespace()
			if ns == "" {
				ns = "flux-system"
			}
			name, _, _ := unstructured.NestedString(doc, "spec", "sync", "name")
			if name == "" {
				name = ns
			}
			all = append(all, inst{file: f, namespace: ns, name: name, path: p})
		}
	}
	var pick *inst
	for i, in := range all {
		if fleet.ArtifactPath(in.path) == "clusters/"+hub {
			pick = &all[i]
		}
	}
	if pick == nil && len(all) == 1 {
		pick = &all[0]
	}
	if pick == nil {
		var seen []string
		for _, in := range all {
			seen = append(seen, in.file+" (sync.path "+in.path+")")
		}
		return nil, fmt.Errorf("%w: --no-live starts from the hub's FluxInstance in the checkout, the one whose spec.sync.path is clusters/%s (--hub-name); found %d FluxInstances with a GitRepository sync: %s",
			ErrNoLiveRoot, hub, len(all), strings.Join(seen, ", "))
	}
	ns, name := pick.namespace, pick.name
	if source != "" {
		parts := strings.Split(source, "/")
		if len(parts) != 3 || parts[0] != "GitRepository" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("%w: --source %q must be GitRepository/NAMESPACE/NAME", ErrBadTarget, source)
		}
		ns, name = parts[1], parts[2]
	}
	return &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kustomizev1.KustomizationSpec{Path: pick.path, Prune: true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: name, Namespace: ns}},
	}, nil
}
