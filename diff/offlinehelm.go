package diff

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/helmname"
)

// offlineHelm renders the HelmReleases of a --no-live run on both sides
// as the live path does (helmrender: source, chart, values, render), with
// nothing read from a cluster: sources and valuesFrom objects come from
// the side's builds, the capabilities are Helm's own (as `helm template`),
// and both sides render as an install (no release history is read).
type offlineHelm struct {
	f          *fleet.Fleet
	sources    map[string]bool
	repo       string
	fetcher    *helmrender.Fetcher
	unresolved *unresolvedInputs
	// hub, when set (CheckoutObjects), is the live hub: what no build
	// holds (sources, valuesFrom, credentials) is read there instead of
	// being left out.
	hub client.Client

	// tmp holds the base tree's chart directories of the checkout,
	// written on first use (helmrender reads charts from disk).
	mu      sync.Mutex
	tmp     string
	written map[string]bool
}

// sideHelmRelease is a HelmRelease of a side's final build.
type sideHelmRelease struct {
	sb *sideBuild
	hr *helmv2.HelmRelease
}

// sideRender is one side's render of a HelmRelease.
type sideRender struct {
	target  *fleet.Cluster
	chart   string
	version string
	objects []*unstructured.Unstructured
	err     error
}

// helmReleasesOf are the HelmReleases of a side's final builds, by
// helmKey of the cluster they live on.
func helmReleasesOf(s *side) map[string]sideHelmRelease {
	out := map[string]sideHelmRelease{}
	for _, sb := range s.final {
		if sb.err != nil {
			continue
		}
		for _, hr := range typedObjects[helmv2.HelmRelease](sb.objects, helmv2.GroupVersion.WithKind(helmv2.HelmReleaseKind).GroupKind()) {
			out[helmKey(sb.cluster.Name, hr.Namespace, hr.Name)] = sideHelmRelease{sb: sb, hr: hr}
		}
	}
	return out
}

// addOfflineHelm renders each HelmRelease the change touches (not listed
// unchanged, not suspended) at the base and in the checkout, and compares
// the rendered objects per target cluster: created, drifted, and deleted
// (Helm removes what a chart no longer renders, except objects with
// helm.sh/resource-policy: keep; a HelmRelease the change removes is
// uninstalled when its Kustomization prunes it).
func (r *Result) addOfflineHelm(ctx context.Context, h *offlineHelm, sc *baseScope, opts Options) {
	heads, bases := helmReleasesOf(sc.head), helmReleasesOf(sc.base)
	var keys []string
	for k, x := range heads {
		if !x.hr.Spec.Suspend && sc.hrChanged(x.sb.cluster.Name, x.hr) {
			keys = append(keys, k)
		}
	}
	for k, x := range bases {
		if _, ok := heads[k]; ok {
			continue
		}
		ks := sc.head.final[x.sb.id]
		if (ks == nil || ks.ks.Spec.Prune) && x.hr.GetAnnotations()[kustomizev1.GroupVersion.Group+"/prune"] != kustomizev1.DisabledValue {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	hubs := map[*side]map[string]*unstructured.Unstructured{sc.head: sc.head.hubValues(), sc.base: sc.base.hubValues()}
	srcs := map[*side]map[string]*unstructured.Unstructured{sc.head: hubSources(sc.head), sc.base: hubSources(sc.base)}
	results := make([]HelmReleaseResult, len(keys))
	objects := make([][]ObjectResult, len(keys))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	done := 0
	var mu sync.Mutex
	progress := func(d int) {
		if opts.ChartProgress == nil || len(keys) == 0 {
			return
		}
		mu.Lock()
		done += d
		opts.ChartProgress(done, len(keys))
		mu.Unlock()
	}
	progress(0)
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var head, base *sideRender
			if x, ok := heads[k]; ok {
				head = h.render(ctx, sc.head, x, hubs[sc.head], srcs[sc.head], h.repo)
			}
			if x, ok := bases[k]; ok {
				base = h.render(ctx, sc.base, x, hubs[sc.base], srcs[sc.base], "")
			}
			x, ok := heads[k]
			if !ok {
				x = bases[k]
			}
			results[i], objects[i] = compareRenders(x, head, base)
			progress(1)
		}()
	}
	wg.Wait()
	for i := range keys {
		r.HelmReleases = append(r.HelmReleases, results[i])
		r.Objects = append(r.Objects, objects[i]...)
	}
}

// compareRenders is a HelmRelease's result from its renders (head nil:
// the change removes it; base nil: it adds it).
func compareRenders(x sideHelmRelease, head, base *sideRender) (HelmReleaseResult, []ObjectResult) {
	hr := x.hr
	res := HelmReleaseResult{Kustomization: fleet.ID(x.sb.ks), Namespace: hr.Namespace, Name: hr.Name,
		Release: helmname.ReleaseName(hr), ReleaseNamespace: hr.GetReleaseNamespace(), Chart: specChart(hr), Cluster: x.sb.cluster.Name}
	for _, s := range []*sideRender{base, head} {
		if s != nil && s.target != nil {
			res.Cluster = s.target.Name
		}
		if s != nil && s.chart != "" {
			res.Chart = s.chart
		}
	}
	if head != nil && head.err != nil {
		res.Error = fmt.Sprintf("HelmRelease %s: %s", res.ID(), cleanError(head.err))
		return res, nil
	}
	reason := ""
	var before, after []*unstructured.Unstructured
	if base != nil && base.err != nil {
		reason = "the base does not render, compared with nothing: " + cleanError(base.err)
	} else if base != nil {
		before = base.objects
	}
	if head != nil {
		after = head.objects
	}
	out := compareSides(before, after, func(o *unstructured.Unstructured) bool {
		return o.GetAnnotations()["helm.sh/resource-policy"] != "keep"
	}, func(o *unstructured.Unstructured, a Action) ObjectResult {
		return ObjectResult{Cluster: res.Cluster, Kustomization: res.Kustomization, HelmRelease: fleet.ID(hr), APIVersion: o.GetAPIVersion(),
			Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(), Action: a, Reason: reason}
	}, &res.Counts)
	if head != nil {
		p := &helmrender.Prediction{Plan: helmrender.PlanInstall, ToVersion: head.version, Reason: "base and checkout rendered offline"}
		if base != nil && base.err == nil {
			p.Plan, p.FromVersion = helmrender.PlanUpgrade, base.version
			if p.FromVersion == p.ToVersion && res.Counts.Changes() == 0 {
				p.Plan = helmrender.PlanNone
			}
		}
		res.Prediction = p
	}
	return res, out
}

// hubSources are the Flux sources the side's final hub builds apply, by
// Kind/namespace/name (as fleet.Sources holds the live ones).
func hubSources(s *side) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, sb := range s.builds {
		if !sb.cluster.Hub || sb.err != nil || s.final[sb.id] != sb {
			continue
		}
		for _, o := range sb.objects {
			if o.GroupVersionKind().Group == fleet.SourceGroupVersion.Group {
				out[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = o
			}
		}
	}
	return out
}

// render renders one side's HelmRelease x; dir is the checkout the side
// reads charts of this checkout from ("" for the base: its tree, written
// to a temporary directory).
func (h *offlineHelm) render(ctx context.Context, s *side, x sideHelmRelease, hubValues, hubSrcs map[string]*unstructured.Unstructured, dir string) *sideRender {
	hr, home := x.hr.DeepCopy(), x.sb.cluster
	out := &sideRender{}
	fail := func(err error) *sideRender {
		out.err = err
		return out
	}
	target, err := helmTarget(h.f, home, hr)
	if err != nil {
		return fail(err)
	}
	out.target = target
	own := valuesSources(nil, nil, x.sb.objects)
	if !home.Hub {
		hubValues = nil
	}
	// ConfigMaps and Secrets (source credentials, valuesFrom) come from
	// the HelmRelease's own build, else the side's hub builds; nothing
	// else is read.
	var cluster client.Client = noCluster{}
	if h.hub != nil && home.Hub {
		cluster = h.hub
	}
	reader := &overlayReader{Client: cluster, build: own, hub: hubValues}
	label := home.Name
	if cluster == (noCluster{}) {
		label += " (--no-live: read from the builds only)"
	}
	in := helmrender.SourceInputs{Reader: reader, Cluster: label, CheckoutDir: dir}
	if home.Hub {
		in.Checkout = h.sources
		if p := checkoutChartPath(hr, h.sources); p != "" && dir == "" {
			if in.CheckoutDir, err = h.baseChart(s.b, p); err != nil {
				return fail(err)
			}
		}
	}
	in.Lookup = func(kind, ns, name string) *unstructured.Unstructured {
		var src *unstructured.Unstructured
		if home.Hub {
			src = hubSrcs[kind+"/"+ns+"/"+name]
		}
		for _, o := range x.sb.objects {
			if o.GetKind() == kind && o.GetNamespace() == ns && o.GetName() == name && o.GroupVersionKind().Group == fleet.SourceGroupVersion.Group {
				src = o
			}
		}
		if src == nil && h.hub != nil && home.Hub {
			src = h.f.Sources[kind+"/"+ns+"/"+name]
		}
		return src
	}
	src, err := helmrender.ResolveSource(ctx, hr, in)
	if err != nil {
		return fail(err)
	}
	loaded, err := h.fetcher.Load(ctx, src)
	if err != nil {
		return fail(err)
	}
	out.chart, out.version = loaded.Chart.Metadata.Name, loaded.Version
	// A valuesFrom object no build holds is only on the cluster: it adds
	// nothing on either side and is listed as not resolved offline.
	var refs []meta.ValuesReference
	for _, ref := range hr.Spec.ValuesFrom {
		k := valuesKey(ref.Kind, hr.Namespace, ref.Name)
		if h.hub == nil && own[k] == nil && hubValues[k] == nil && (ref.Kind == "ConfigMap" || ref.Kind == "Secret") {
			h.unresolved.add(k + " (valuesFrom of HelmRelease " + fleet.ID(hr) + ")")
			continue
		}
		refs = append(refs, ref)
	}
	hr.Spec.ValuesFrom = refs
	values, err := helmrender.Values(ctx, reader, hr)
	if err != nil {
		return fail(err)
	}
	rendered, err := helmrender.Render(ctx, helmrender.Request{HelmRelease: hr, Chart: loaded, Values: values, Capabilities: helmrender.OfflineCapabilities()})
	if err != nil {
		return fail(err)
	}
	// An object the HelmRelease's own Kustomization also applies to the
	// same cluster is reported once, under the Kustomization.
	inBuild := map[string]bool{}
	if target.Name == home.Name {
		for _, o := range x.sb.objects {
			inBuild[objectKey(o)] = true
		}
	}
	for _, o := range append(append([]*unstructured.Unstructured{}, rendered.CRDs...), rendered.Objects...) {
		defaultNamespace(nil, o, rendered.ReleaseNamespace)
		if !inBuild[objectKey(o)] {
			out.objects = append(out.objects, o)
		}
	}
	return out
}

// baseChart writes the base tree's files of the chart directory p (and
// every .sourceignore, which shape the artifact) to the run's temporary
// directory, once, and returns that directory: the base's checkout.
func (h *offlineHelm) baseChart(b *Builder, p string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tmp == "" {
		dir, err := os.MkdirTemp("", "kubectl-c5c3-base-")
		if err != nil {
			return "", err
		}
		h.tmp, h.written = dir, map[string]bool{}
	}
	if h.written[p] {
		return h.tmp, nil
	}
	err := fs.WalkDir(b.tree, ".", func(f string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if path.Base(f) != ".sourceignore" && p != "." && f != p && !strings.HasPrefix(f, p+"/") {
			return nil
		}
		data, err := fs.ReadFile(b.tree, f)
		if err != nil {
			return err
		}
		dst := filepath.Join(h.tmp, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o600)
	})
	if err != nil {
		return "", fmt.Errorf("writing the base's chart %s: %w", p, err)
	}
	h.written[p] = true
	return h.tmp, nil
}

// close removes the temporary directory.
func (h *offlineHelm) close() {
	if h.tmp != "" {
		_ = os.RemoveAll(h.tmp)
	}
}

// noCluster stands for the cluster a --no-live run does not read: every
// object is not found.
type noCluster struct{ client.Client }

// Get implements client.Reader.
func (noCluster) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		kind = strings.TrimPrefix(fmt.Sprintf("%T", obj), "*v1.")
	}
	return apierrors.NewNotFound(schema.GroupResource{Resource: strings.ToLower(kind) + "s"}, key.Namespace+"/"+key.Name)
}
