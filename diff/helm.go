package diff

import (
	"context"
	"fmt"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/helmname"
	"github.com/c5c3/kubectl-c5c3/internal/keyed"
)

// HelmReleaseResult is one rendered HelmRelease: what helm-controller
// would do with it on its target cluster.
type HelmReleaseResult struct {
	Cluster       string `json:"cluster"`
	Kustomization string `json:"kustomization"`
	Namespace     string `json:"namespace"`
	Name          string `json:"name"`
	// Release is the Helm release name and namespace on the target.
	Release          string `json:"release"`
	ReleaseNamespace string `json:"releaseNamespace"`
	Chart            string `json:"chart,omitempty"`
	// Prediction: install, upgrade, correct-drift or none, old → new
	// version and whether server-side apply would be used.
	Prediction *helmrender.Prediction `json:"prediction,omitempty"`
	// Manifest is where the objects diffed come from: ManifestStored (the
	// deployed release's manifest in Helm storage, what helm-controller's
	// drift detection reads: no install or upgrade is due) or
	// ManifestRendered (the chart rendered as helm-controller would).
	Manifest string `json:"manifest,omitempty"`
	Error    string `json:"error,omitempty"`
	Counts   Counts `json:"counts"`
}

// Where a HelmReleaseResult's objects come from.
const (
	ManifestStored   = "stored"
	ManifestRendered = "rendered"
)

// ID is "namespace/name".
func (h HelmReleaseResult) ID() string { return h.Namespace + "/" + h.Name }

// Unchanged reports whether the HelmRelease rendered, changes no object
// and helm-controller would do nothing with it.
func (h HelmReleaseResult) Unchanged() bool {
	return h.Error == "" && h.Counts.Changes() == 0 && h.Counts.Errors == 0 &&
		(h.Prediction == nil || h.Prediction.Plan == helmrender.PlanNone)
}

// specChart names a HelmRelease's chart from its spec, for the summary of
// one whose chart could not be loaded: spec.chart.spec.chart, or the
// chartRef's Kind/name.
func specChart(hr *helmv2.HelmRelease) string {
	switch {
	case hr.Spec.Chart != nil:
		return hr.Spec.Chart.Spec.Chart
	case hr.Spec.ChartRef != nil:
		return hr.Spec.ChartRef.Kind + "/" + hr.Spec.ChartRef.Name
	}
	return ""
}

// helmState is the per-run chart fetcher and each cluster's capabilities.
type helmState struct {
	fetcher *helmrender.Fetcher
	caps    keyed.Once[string, helmrender.Capabilities] // by cluster
	// releases bounds the HelmReleases whose storage, render and objects
	// are in memory at once to the CPUs: that work is CPU-bound, and a
	// large chart's release (its storage record carries the whole chart,
	// its CRDs are megabytes through Helm and the post-renderers) holds
	// tens of MB until its objects are diffed and it is dropped.
	releases chan struct{}
}

// releaseSlot waits for a free release slot (or for ctx to end); the
// returned func frees it.
func (e *engine) releaseSlot(ctx context.Context) (func(), error) {
	select {
	case e.helm.releases <- struct{}{}:
		return func() { <-e.helm.releases }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (e *engine) capabilities(r *runner, cc *clusterClients) (helmrender.Capabilities, error) {
	return e.helm.caps.Do(r.cluster.Name, func() (helmrender.Capabilities, error) {
		return helmrender.TargetCapabilities(cc.kube.Discovery)
	})
}

// typedObjects decodes the objects of a build that are of one group and
// kind (Kustomization, HelmRelease) into their Go type; one that does not
// decode is left out, as the apply would reject it.
func typedObjects[T any](objects []*unstructured.Unstructured, gk schema.GroupKind) []*T {
	var out []*T
	for _, o := range objects {
		if o.GroupVersionKind().GroupKind() != gk {
			continue
		}
		v := new(T)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, v); err != nil {
			continue
		}
		out = append(out, v)
	}
	return out
}

// dispatchHelm renders every HelmRelease of a Kustomization's build (of
// the hub or a spoke) and diffs the rendered objects on the HelmRelease's
// target cluster; hub holds the ConfigMaps and Secrets all hub builds of
// the run apply (valuesSources), nil for a spoke build.
func (e *engine) dispatchHelm(ctx context.Context, st *ksState, objects []*unstructured.Unstructured, hub map[string]*unstructured.Unstructured) {
	for _, hr := range typedObjects[helmv2.HelmRelease](objects, helmv2.GroupVersion.WithKind(helmv2.HelmReleaseKind).GroupKind()) {
		if hr.Spec.Suspend || (e.scope != nil && !e.scope.hrChanged(st.cluster.Name, hr)) {
			continue
		}
		e.wg.Add(1)
		e.chartProgress(0, 1)
		go func() {
			defer e.wg.Done()
			res, objs := e.diffHelmRelease(ctx, st, hr, objects, hub)
			e.chartProgress(1, 0)
			e.mu.Lock()
			defer e.mu.Unlock()
			if cur := e.results[fleet.ID(st.ks)]; cur != st {
				return
			}
			for _, o := range objs {
				res.Counts.add(o.Action)
			}
			st.helm = append(st.helm, res)
			st.helmObjects = append(st.helmObjects, objs...)
		}()
	}
}

func (e *engine) chartProgress(done, total int) {
	e.mu.Lock()
	e.chartsDone += done
	e.chartsTotal += total
	d, t := e.chartsDone, e.chartsTotal
	e.mu.Unlock()
	if e.opts.ChartProgress != nil {
		e.opts.ChartProgress(d, t)
	}
}

func (e *engine) diffHelmRelease(ctx context.Context, st *ksState, hr *helmv2.HelmRelease, build []*unstructured.Unstructured,
	hub map[string]*unstructured.Unstructured) (HelmReleaseResult, []ObjectResult) {
	res := HelmReleaseResult{Cluster: st.cluster.Name, Kustomization: fleet.ID(st.ks), Namespace: hr.Namespace, Name: hr.Name,
		Release: helmname.ReleaseName(hr), ReleaseNamespace: hr.GetReleaseNamespace(), Chart: specChart(hr)}
	fail := func(err error) (HelmReleaseResult, []ObjectResult) {
		res.Error = fmt.Sprintf("HelmRelease %s: %s", res.ID(), cleanError(err))
		return res, nil
	}
	home, err := e.home(ctx, st)
	if err != nil {
		return fail(err)
	}
	cluster, err := helmTarget(e.f, home.cluster, hr)
	if err != nil {
		return fail(err)
	}
	res.Cluster = cluster.Name
	// The live HelmRelease carries the history helm-controller recorded.
	if err := e.adoptLive(ctx, home, hr); err != nil {
		return fail(err)
	}
	src, err := helmrender.ResolveSource(ctx, hr, e.sourceInputs(build, home))
	if err != nil {
		return fail(err)
	}
	loaded, err := e.loadChart(ctx, hr, src, home)
	if err != nil {
		return fail(err)
	}
	res.Chart = loaded.Chart.Metadata.Name
	values, err := helmrender.Values(ctx, &overlayReader{Client: home.reader, build: valuesSources(nil, nil, build), hub: hub}, hr)
	if err != nil {
		return fail(err)
	}
	r := e.runner(ctx, cluster)
	cc, err := r.clientsFor(ctx, e.f, fleet.Object{Kind: helmv2.HelmReleaseKind, HelmRelease: hr})
	if err != nil {
		return fail(err)
	}
	caps, err := e.capabilities(r, cc)
	if err != nil {
		return fail(err)
	}
	cs, err := kubernetes.NewForConfig(cc.kube.Config)
	if err != nil {
		return fail(err)
	}
	// From here the release is read, rendered and diffed in one slot, and
	// dropped when this returns.
	free, err := e.releaseSlot(ctx)
	if err != nil {
		return fail(err)
	}
	defer free()
	cur, err := helmrender.CurrentRelease(cs.CoreV1().Secrets(hr.GetStorageNamespace()), res.Release)
	if err != nil {
		return fail(err)
	}
	pred := helmrender.Predict(hr, loaded.Version, values, cur)
	res.Prediction = &pred
	// An upgrade renders the revision helm-controller's upgrade makes; with
	// none due, what stands is the deployed release: its stored manifest
	// when it is in sync with the checkout (what drift detection reads),
	// else rendered as it was (a rollback's manifest is the restored
	// revision's).
	var rendered *helmrender.Rendered
	if cur != nil && pred.InSync && pred.Plan != helmrender.PlanUpgrade {
		rendered, res.Manifest = helmrender.Deployed(hr, cur), ManifestStored
	} else {
		res.Manifest = ManifestRendered
		req := helmrender.Request{HelmRelease: hr, Chart: loaded, Values: values, From: cur, Capabilities: caps}
		if cur != nil && pred.Plan != helmrender.PlanUpgrade {
			req.Revision = cur.ManifestRevision
		}
		if rendered, err = helmrender.Render(ctx, req); err != nil {
			return fail(err)
		}
	}
	// An object the HelmRelease's own Kustomization also applies to the
	// same cluster is reported once, under the Kustomization.
	inBuild := map[string]bool{}
	if cluster.Name == st.cluster.Name {
		for _, o := range build {
			inBuild[objectKey(o)] = true
		}
	}
	// A chart's crds/ are applied only by an install or an upgrade (by
	// policy); with neither due helm-controller leaves them as they are,
	// and drift detection covers only the release manifest.
	var all, whole []*unstructured.Unstructured
	if pred.Plan == helmrender.PlanInstall || pred.Plan == helmrender.PlanUpgrade {
		whole = append(whole, rendered.CRDs...)
	}
	whole = append(whole, rendered.Objects...)
	for _, o := range whole {
		defaultNamespace(cc.kube.Mapper, o, rendered.ReleaseNamespace)
		if !inBuild[objectKey(o)] {
			all = append(all, o)
		}
	}
	// crds: Create leaves an existing CRD alone only with a client-side
	// create: helm-controller creates with server-side apply when the
	// action uses it (internal/action/crds.go), and an apply updates an
	// existing CRD as CreateReplace does.
	createOnly := map[*unstructured.Unstructured]bool{}
	if rendered.CRDPolicy == helmv2.Create && !pred.ServerSideApply {
		for _, c := range rendered.CRDs {
			createOnly[c] = true
		}
	}
	rm := ssa.NewResourceManager(cc.live, nil, helmFieldOwner)
	opts := ssa.DiffOptions{
		Exclusions:       map[string]string{helmv2.DriftDetectionMetadataKey: helmv2.DriftDetectionDisabledValue},
		DriftIgnoreRules: helmIgnoreRules(hr),
	}
	crds := crdKinds(all)
	out := make([]ObjectResult, len(all))
	var wg sync.WaitGroup
	e.progress(r, 0, len(all))
	for i, obj := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.sem <- struct{}{}
			defer func() { <-r.sem }()
			out[i] = e.diffHelmObject(ctx, cluster.Name, st, hr, cc, rm, obj, opts, crds, createOnly[obj])
			e.progress(r, 1, 0)
		}()
	}
	wg.Wait()
	if cur != nil {
		out = append(out, e.helmDeletions(ctx, cluster.Name, st, hr, cc, cur, whole)...)
	}
	return res, out
}

func (e *engine) liveHelmRelease(id string) *helmv2.HelmRelease {
	for _, c := range e.f.Clusters {
		for _, o := range c.Objects {
			if o.HelmRelease != nil && fleet.ID(o.HelmRelease) == id {
				return o.HelmRelease
			}
		}
	}
	return nil
}

// sourceInputs are where hr's chart source is found for a build applied to
// home: in the build itself (a later object wins), else among the hub's
// discovered sources for a hub build, else on home; a GitRepository of
// the checkout is read from the checkout on the hub.
func (e *engine) sourceInputs(build []*unstructured.Unstructured, home *helmHome) helmrender.SourceInputs {
	in := helmrender.SourceInputs{Reader: home.reader, Cluster: home.cluster.Name, CheckoutDir: e.opts.RepoDir}
	if home.cluster.Hub {
		in.Checkout = e.sources
	}
	in.Lookup = func(kind, ns, name string) *unstructured.Unstructured {
		var src *unstructured.Unstructured
		if home.cluster.Hub {
			src = e.f.Sources[kind+"/"+ns+"/"+name]
		}
		for _, o := range build {
			if o.GetKind() == kind && o.GetNamespace() == ns && o.GetName() == name && o.GroupVersionKind().Group == fleet.SourceGroupVersion.Group {
				src = o
			}
		}
		return src
	}
	return in
}
