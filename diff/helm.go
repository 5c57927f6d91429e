package diff

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/jsondiff"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/kube"
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
	Error      string                 `json:"error,omitempty"`
	Counts     Counts                 `json:"counts"`
}

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

// helmFieldOwner is helm-controller's field manager, as its drift
// detection dry-runs with (internal/action/diff.go).
var helmFieldOwner = ssa.Owner{Field: helmrender.FieldManager, Group: helmv2.GroupVersion.Group}

// helmState is the per-run chart fetcher and each cluster's capabilities.
type helmState struct {
	fetcher *helmrender.Fetcher
	mu      sync.Mutex
	caps    map[string]*capsOnce
}

type capsOnce struct {
	once sync.Once
	caps helmrender.Capabilities
	err  error
}

func (e *engine) capabilities(r *runner, cc *clusterClients) (helmrender.Capabilities, error) {
	e.helm.mu.Lock()
	co := e.helm.caps[r.cluster.Name]
	if co == nil {
		co = &capsOnce{}
		e.helm.caps[r.cluster.Name] = co
	}
	e.helm.mu.Unlock()
	co.once.Do(func() { co.caps, co.err = helmrender.TargetCapabilities(cc.kube.Discovery) })
	return co.caps, co.err
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
		if hr.Spec.Suspend {
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
		Release: helmrender.ReleaseName(hr), ReleaseNamespace: hr.GetReleaseNamespace(), Chart: specChart(hr)}
	fail := func(err error) (HelmReleaseResult, []ObjectResult) {
		res.Error = fmt.Sprintf("HelmRelease %s: %s", res.ID(), cleanError(err))
		return res, nil
	}
	home, err := e.home(ctx, st)
	if err != nil {
		return fail(err)
	}
	cluster, err := e.helmTarget(home, hr)
	if err != nil {
		return fail(err)
	}
	res.Cluster = cluster.Name
	// The live HelmRelease carries the history helm-controller recorded.
	if err := e.adoptLive(ctx, home, hr); err != nil {
		return fail(err)
	}
	src, err := e.chartSource(ctx, hr, build, home)
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
	cur, err := helmrender.CurrentRelease(cs.CoreV1().Secrets(hr.GetStorageNamespace()), res.Release)
	if err != nil {
		return fail(err)
	}
	pred := helmrender.Predict(hr, loaded.Version, values, cur)
	res.Prediction = &pred
	// An upgrade renders the revision helm-controller's upgrade makes; with
	// none due, what stands is the deployed release, rendered as it was
	// (a rollback's manifest is the restored revision's).
	req := helmrender.Request{HelmRelease: hr, Chart: loaded, Values: values, From: cur, Capabilities: caps}
	if cur != nil && pred.Plan != helmrender.PlanUpgrade {
		req.Revision = cur.ManifestRevision
	}
	rendered, err := helmrender.Render(ctx, req)
	if err != nil {
		return fail(err)
	}
	// An object the HelmRelease's own Kustomization also applies to the
	// same cluster is reported once, under the Kustomization.
	inBuild := map[string]bool{}
	if cluster.Name == st.cluster.Name {
		for _, o := range build {
			inBuild[objectKey(o)] = true
		}
	}
	var all []*unstructured.Unstructured
	whole := append(append([]*unstructured.Unstructured{}, rendered.CRDs...), rendered.Objects...)
	for _, o := range whole {
		e.defaultNamespace(cc, o, rendered.ReleaseNamespace)
		if !inBuild[objectKey(o)] {
			all = append(all, o)
		}
	}
	createOnly := map[*unstructured.Unstructured]bool{}
	if rendered.CRDPolicy == helmv2.Create {
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

// defaultNamespace puts namespaced objects without a namespace into the
// release namespace, as Helm does.
func (e *engine) defaultNamespace(cc *clusterClients, o *unstructured.Unstructured, ns string) {
	if o.GetNamespace() != "" {
		return
	}
	m, err := cc.kube.Mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
	if err == nil && m.Scope.Name() == "namespace" {
		o.SetNamespace(ns)
		return
	}
	if err != nil && o.GetKind() != "CustomResourceDefinition" && o.GetKind() != "Namespace" && o.GetKind() != "ClusterRole" && o.GetKind() != "ClusterRoleBinding" {
		// Unknown kinds (a CRD of the same chart): namespaced unless known
		// otherwise, like most custom resources.
		o.SetNamespace(ns)
	}
}

func helmIgnoreRules(hr *helmv2.HelmRelease) []jsondiff.IgnoreRule {
	var rules []jsondiff.IgnoreRule
	for _, rule := range hr.GetDriftDetection().Ignore {
		rules = append(rules, ignoreRule(rule.Paths, rule.Target))
	}
	return rules
}

func (e *engine) diffHelmObject(ctx context.Context, cluster string, st *ksState, hr *helmv2.HelmRelease, cc *clusterClients, rm *ssa.ResourceManager,
	obj *unstructured.Unstructured, opts ssa.DiffOptions, crds map[schema.GroupKind]bool, createOnly bool) ObjectResult {
	or := ObjectResult{Cluster: cluster, Kustomization: fleet.ID(st.ks), HelmRelease: fleet.ID(hr),
		APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	if createOnly {
		live, err := cc.live.Lookup(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
		if err == nil && live != nil {
			or.Action = ActionUnchanged // crds: Create leaves existing CRDs alone
			return or
		}
	}
	entry, live, merged, err := rm.Diff(ctx, obj, opts)
	if err != nil {
		gk := obj.GroupVersionKind().GroupKind()
		if crds[gk] {
			or.Action, or.Reason = ActionCreated, "its CustomResourceDefinition is installed by the same chart"
			or.Diff = Unified("", toYAML(mask(obj)), "live", "merged")
			return or
		}
		if ns := obj.GetNamespace(); ns != "" && hr.GetInstall().CreateNamespace && hr.Spec.TargetNamespace == ns &&
			strings.Contains(err.Error(), `namespaces "`+ns+`" not found`) {
			or.Action, or.Reason = ActionCreated, "its Namespace is created by helm-controller (install.createNamespace)"
			or.Diff = Unified("", toYAML(mask(obj)), "live", "merged")
			return or
		}
		or.Action, or.Error = ActionError, cleanError(err)
		return or
	}
	switch entry.Action {
	case ssa.CreatedAction:
		or.Action = ActionCreated
		or.Diff = Unified("", toYAML(mask(obj)), "live", "merged")
	case ssa.ConfiguredAction:
		or.Action = ActionDrifted
		or.Diff = Unified(toYAML(mask(live)), toYAML(mask(merged)), "live", "merged")
		cur, _ := cc.live.Lookup(ctx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
		or.OtherManagers = otherOwners(cur, live, merged, helmFieldOwner.Field)
	case ssa.SkippedAction:
		or.Action, or.Reason = ActionSkipped, helmv2.DriftDetectionMetadataKey+": "+helmv2.DriftDetectionDisabledValue
	default:
		or.Action = ActionUnchanged
	}
	return or
}

// helmDeletions reports the objects of the deployed release that the new
// render no longer has and that still exist: Helm deletes them on upgrade.
func (e *engine) helmDeletions(ctx context.Context, cluster string, st *ksState, hr *helmv2.HelmRelease, cc *clusterClients,
	cur *helmrender.Current, rendered []*unstructured.Unstructured) []ObjectResult {
	key := objectKey
	keep := map[string]bool{}
	for _, o := range rendered {
		keep[key(o)] = true
	}
	var out []ObjectResult
	for _, o := range cur.Objects {
		e.defaultNamespace(cc, o, cur.Namespace)
		if keep[key(o)] || o.GetAnnotations()["helm.sh/resource-policy"] == "keep" {
			continue
		}
		or := ObjectResult{Cluster: cluster, Kustomization: fleet.ID(st.ks), HelmRelease: fleet.ID(hr), APIVersion: o.GetAPIVersion(),
			Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(), Action: ActionDeleted}
		live, err := cc.live.Lookup(ctx, o.GroupVersionKind(), o.GetNamespace(), o.GetName())
		switch {
		case err != nil:
			or.Action, or.Error = ActionError, cleanError(err)
		case live == nil:
			continue
		default:
			or.Diff = Unified(toYAML(mask(live)), "", "live", "merged")
		}
		out = append(out, or)
	}
	return out
}

// objectKey is "group.Kind/namespace/name", the identity of an object on
// one cluster whatever its API version.
func objectKey(o *unstructured.Unstructured) string {
	return o.GroupVersionKind().GroupKind().String() + "/" + o.GetNamespace() + "/" + o.GetName()
}

// chartSource finds where hr's chart comes from: its chartRef or
// chart.spec.sourceRef, taken from the same build when the build has it,
// else from hr's home cluster; credentials from the source's secretRef
// there.
func (e *engine) chartSource(ctx context.Context, hr *helmv2.HelmRelease, build []*unstructured.Unstructured, home *helmHome) (helmrender.ChartSource, error) {
	var kind, ns, name string
	var spec *helmv2.HelmChartTemplateSpec
	switch {
	case hr.Spec.ChartRef != nil:
		kind, name, ns = hr.Spec.ChartRef.Kind, hr.Spec.ChartRef.Name, hr.Spec.ChartRef.Namespace
	case hr.Spec.Chart != nil:
		spec = &hr.Spec.Chart.Spec
		kind, name, ns = spec.SourceRef.Kind, spec.SourceRef.Name, spec.SourceRef.Namespace
	default:
		return helmrender.ChartSource{}, fmt.Errorf("neither spec.chart nor spec.chartRef is set")
	}
	if ns == "" {
		ns = hr.Namespace
	}
	id := kind + "/" + ns + "/" + name
	var src *unstructured.Unstructured
	checkout := home.cluster.Hub && kind == "GitRepository" && e.sources[id]
	if home.cluster.Hub {
		src = e.f.Sources[id]
	}
	for _, o := range build {
		if o.GetKind() == kind && o.GetNamespace() == ns && o.GetName() == name && o.GroupVersionKind().Group == fleet.SourceGroupVersion.Group {
			src = o
		}
	}
	if src == nil && !checkout {
		// Discovery lists the sources the live objects name; a HelmRelease
		// that helm-controller reconciled names its HelmChart there, not
		// the HelmRepository behind it (often applied by another build).
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(fleet.SourceGroupVersion.WithKind(kind))
		err := home.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)
		switch {
		case apierrors.IsNotFound(err) || kube.IsNoMatch(err):
			return helmrender.ChartSource{}, fmt.Errorf("source %s not found in the build or on %s", id, home.cluster.Name)
		case err != nil:
			return helmrender.ChartSource{}, fmt.Errorf("reading source %s from %s: %s", id, home.cluster.Name, cleanError(err))
		}
		src = u
	}
	str := func(f ...string) string {
		if src == nil {
			return ""
		}
		s, _, _ := unstructured.NestedString(src.Object, f...)
		return s
	}
	bl := func(f ...string) bool {
		if src == nil {
			return false
		}
		b, _, _ := unstructured.NestedBool(src.Object, f...)
		return b
	}
	cs := helmrender.ChartSource{URL: str("spec", "url"), Insecure: bl("spec", "insecure")}
	switch {
	case kind == "OCIRepository" && spec == nil:
		cs.Kind = helmrender.SourceOCIRepository
		cs.Digest = str("spec", "ref", "digest")
		cs.Version = str("spec", "ref", "semver")
		if cs.Version == "" {
			cs.Version = str("spec", "ref", "tag")
		}
		if cs.Version == "" && cs.Digest == "" {
			cs.Version = "latest"
		}
	case kind == "HelmRepository" && spec != nil:
		cs.Kind, cs.Chart, cs.Version = helmrender.SourceHelmRepository, spec.Chart, spec.Version
		cs.OCI = str("spec", "type") == "oci"
	case kind == "HelmChart" && spec == nil:
		return e.helmChartSource(ctx, hr, src, build, home)
	case kind == "Bucket" && spec != nil:
		return e.bucketChartSource(ctx, id, src, spec, home)
	case kind == "GitRepository" && spec != nil:
		if !checkout {
			return e.gitChartSource(ctx, id, src, spec, home)
		}
		dir := filepath.Join(e.opts.RepoDir, filepath.FromSlash(strings.TrimPrefix(spec.Chart, "./")))
		if rel, err := filepath.Rel(e.opts.RepoDir, dir); err != nil || strings.HasPrefix(rel, "..") {
			return helmrender.ChartSource{}, fmt.Errorf("chart path %q leaves the checkout", spec.Chart)
		}
		return helmrender.ChartSource{Kind: helmrender.SourceDir, Chart: dir}, nil
	default:
		return helmrender.ChartSource{}, fmt.Errorf("chart source %s is not supported (spec.chart: HelmRepository, GitRepository, Bucket; spec.chartRef: OCIRepository, HelmChart)", id)
	}
	return e.withSourceSecrets(ctx, id, ns, src, cs, home)
}

// valuesSources collects the ConfigMaps and Secrets (core group) of the
// hub builds ids (in that order: on a clash the later build wins) and of
// extra builds, keyed by valuesKey.
func valuesSources(ids []string, builds map[string]*hubBuild, extra ...[]*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	add := func(objects []*unstructured.Unstructured) {
		for _, o := range objects {
			if k := o.GetKind(); o.GroupVersionKind().Group == "" && (k == "ConfigMap" || k == "Secret") {
				out[valuesKey(k, o.GetNamespace(), o.GetName())] = o
			}
		}
	}
	for _, id := range ids {
		add(builds[id].objects)
	}
	for _, objects := range extra {
		add(objects)
	}
	return out
}

func valuesKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// overlayReader reads valuesFrom ConfigMaps and Secrets as the hub will
// hold them after the push: from the HelmRelease's own build, else from
// any hub build of the run, else (made out of band) from the live hub.
type overlayReader struct {
	client.Client
	build, hub map[string]*unstructured.Unstructured
}

// Get implements client.Reader.
func (r *overlayReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	kind := ""
	switch obj.(type) {
	case *corev1.ConfigMap:
		kind = "ConfigMap"
	case *corev1.Secret:
		kind = "Secret"
	}
	k := valuesKey(kind, key.Namespace, key.Name)
	o := r.build[k]
	if o == nil {
		o = r.hub[k]
	}
	if kind == "" || o == nil {
		return r.Client.Get(ctx, key, obj, opts...)
	}
	u := o.DeepCopy()
	if kind == "Secret" {
		normalizeStringData(u)
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj)
}

// normalizeStringData folds a Secret's stringData into data (base64), as
// the apiserver does.
func normalizeStringData(u *unstructured.Unstructured) {
	sd, _, _ := unstructured.NestedStringMap(u.Object, "stringData")
	if len(sd) == 0 {
		return
	}
	s := &corev1.Secret{}
	_ = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s)
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range sd {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
	m, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
	u.Object = m
}
