package helmrender

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/c5c3/kubectl-c5c3/internal/helmname"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/chartutil"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"github.com/go-logr/logr"
	"github.com/opencontainers/go-digest"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	helmpostrender "helm.sh/helm/v4/pkg/postrenderer"
	ri "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	//lint:ignore SA1019 helm-controller's post-renderer (internal/postrender) applies commonMetadata and its origin labels with these same builtin transformers
	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"
)

// Helm's ownership metadata, which helm-controller's drift detection puts
// on every object of a release (internal/action/diff.go setHelmMetadata).
const (
	ManagedByLabel             = "app.kubernetes.io/managed-by"
	ManagedByHelm              = "Helm"
	ReleaseNameAnnotation      = "meta.helm.sh/release-name"
	ReleaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
	originLabelPrefix          = "helm.toolkit.fluxcd.io"
	// defaultCRDsPolicy is helm-controller's policy for an unset
	// install.crds and upgrade.crds alike (internal/action/crds.go
	// crdPolicyOrDefault): Create, whatever the API docs say of upgrade.
	defaultCRDsPolicy = helmv2.Create
	// FieldManager is helm-controller's server-side apply field manager.
	FieldManager = "helm-controller"
)

// Values merges hr's values as helm-controller does: valuesFrom in order
// (ConfigMaps and Secrets in hr's namespace, read with c: valuesKey,
// targetPath, optional), then spec.values on top. Errors name the
// missing or broken reference, never its data.
func Values(ctx context.Context, c client.Client, hr *helmv2.HelmRelease) (common.Values, error) {
	v, err := chartutil.ChartValuesFromReferences(ctx, logr.Discard(), c, hr.Namespace, hr.GetValues(), hr.Spec.ValuesFrom...)
	if err != nil {
		return nil, fmt.Errorf("values of HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
	}
	return v, nil
}

// ValuesDigest is the digest helm-controller records as configDigest.
func ValuesDigest(v common.Values) string {
	return chartutil.DigestValues(digest.Canonical, v).String()
}

// Capabilities of the target cluster the chart is rendered for.
type Capabilities struct {
	// KubeVersion is the server's git version ("v1.37.2").
	KubeVersion string
	// APIVersions are the served group versions and group/version/kinds
	// (action.GetVersionSet of the target's discovery).
	APIVersions []string
}

// Request is one HelmRelease to render.
type Request struct {
	HelmRelease *helmv2.HelmRelease
	Chart       *Loaded
	Values      common.Values
	// From is the deployed release on the target (CurrentRelease): the
	// render is then helm-controller's upgrade of it, with upgrade.crds;
	// nil renders helm-controller's install (revision 1, .Release.IsInstall),
	// with install.crds.
	From *Current
	// Revision is the revision an upgrade of From renders (.Release.Revision):
	// helm-controller's next upgrade makes From.LastRevision+1, the default
	// when 0; From.ManifestRevision renders the deployed release again as
	// it was made (revision 1 as the install that made it, a rollback's as
	// the revision it restored). Ignored without From.
	Revision     int
	Capabilities Capabilities
}

// Rendered is what helm-controller would apply.
type Rendered struct {
	ReleaseName      string
	ReleaseNamespace string
	StorageNamespace string
	ChartName        string
	ChartVersion     string
	// Objects are the rendered manifests after post-rendering, with Helm's
	// ownership metadata; namespaced objects without a namespace still
	// have none (the caller knows the RESTMapper: use ReleaseNamespace).
	Objects []*unstructured.Unstructured
	// CRDs of the chart's crds/ directory that the CRD policy applies,
	// and the policy (Create: only missing ones are created, unless the
	// action uses server-side apply — see diff).
	CRDs      []*unstructured.Unstructured
	CRDPolicy helmv2.CRDsPolicy
	// Hooks are not applied as objects; counted only.
	Hooks int
	// FastPostRender is true when helm-controller's post-rendering (its
	// origin labels alone) was applied to the decoded objects rather than
	// through kustomize (originObjects).
	FastPostRender bool
}

// Render renders req as helm-controller's install or upgrade would,
// client-side (no object is sent to any cluster).
func Render(ctx context.Context, req Request) (*Rendered, error) {
	hr := req.HelmRelease
	ch := req.Chart.Chart.Metadata
	out := &Rendered{
		ReleaseName: helmname.ReleaseName(hr), ReleaseNamespace: hr.GetReleaseNamespace(), StorageNamespace: hr.GetStorageNamespace(),
		ChartName: ch.Name, ChartVersion: ch.Version,
	}
	kv, err := common.ParseKubeVersion(req.Capabilities.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("server version %q: %w", req.Capabilities.KubeVersion, err)
	}
	render := func(pr helmpostrender.PostRenderer) (*helmrelease.Release, error) {
		if req.From != nil && revision(req) > 1 {
			return renderUpgrade(ctx, req, out, kv, pr)
		}
		return renderInstall(ctx, req, out, kv, pr)
	}
	// With only the origin labels to add, render without Helm's
	// post-renderer and label the objects (originObjects); anything it
	// cannot reproduce is rendered again through kustomize.
	var objs []*unstructured.Unstructured
	var r *helmrelease.Release
	err = errNotPlain
	if originOnly(hr) {
		if r, err = render(nil); err != nil {
			return nil, fmt.Errorf("rendering %s-%s: %w", ch.Name, ch.Version, err)
		}
		objs, err = originObjects(r, originLabels(hr))
		out.FastPostRender = err == nil
	}
	if err != nil {
		if r, err = render(postRenderers(hr)); err != nil {
			return nil, fmt.Errorf("rendering %s-%s: %w", ch.Name, ch.Version, err)
		}
		if objs, err = ssautil.ReadObjects(strings.NewReader(r.Manifest)); err != nil {
			return nil, fmt.Errorf("reading the rendered manifests of %s-%s: %w", ch.Name, ch.Version, err)
		}
	}
	out.Hooks = len(r.Hooks)
	for _, o := range objs {
		setHelmMetadata(o, out.ReleaseName, out.ReleaseNamespace)
	}
	out.Objects = objs

	policy := hr.GetInstall().CRDs
	if req.From != nil {
		policy = hr.GetUpgrade().CRDs
	}
	if policy == "" {
		policy = defaultCRDsPolicy
	}
	out.CRDPolicy = policy
	if policy != helmv2.Skip {
		for _, crd := range req.Chart.Chart.CRDObjects() {
			cs, err := ssautil.ReadObjects(bytes.NewReader(crd.File.Data))
			if err != nil {
				return nil, fmt.Errorf("reading CRD %s of %s-%s: %w", crd.Filename, ch.Name, ch.Version, err)
			}
			for _, c := range cs {
				// helm-controller labels the CRDs it applies with their origin.
				labels := c.GetLabels()
				if labels == nil {
					labels = map[string]string{}
				}
				for k, v := range originLabels(hr) {
					labels[k] = v
				}
				c.SetLabels(labels)
				out.CRDs = append(out.CRDs, c)
			}
		}
	}
	return out, nil
}

// Deployed is what stands of hr's deployed release cur when no install or
// upgrade is due (Prediction.InSync): its stored manifest, which
// helm-controller's drift detection reads (internal/action Diff), with
// Helm's ownership metadata, as Render returns a render. The objects are
// copies; the chart's crds/ are not applied without an install or upgrade.
func Deployed(hr *helmv2.HelmRelease, cur *Current) *Rendered {
	out := &Rendered{
		ReleaseName: helmname.ReleaseName(hr), ReleaseNamespace: hr.GetReleaseNamespace(), StorageNamespace: hr.GetStorageNamespace(),
		ChartName: cur.ChartName, ChartVersion: cur.ChartVersion,
	}
	if cur.release != nil {
		out.Hooks = len(cur.release.Hooks)
	}
	for _, o := range cur.Objects {
		c := o.DeepCopy()
		setHelmMetadata(c, out.ReleaseName, out.ReleaseNamespace)
		out.Objects = append(out.Objects, c)
	}
	return out
}

func revision(req Request) int {
	if req.Revision > 0 {
		return req.Revision
	}
	return req.From.LastRevision + 1
}

// renderInstall renders as helm-controller's install (internal/action
// install.go), revision 1, with the target's capabilities only: Helm's
// client-only dry run would add its built-in API versions to them, so
// this is Helm's server dry run against a configuration that holds the
// target's capabilities, an empty in-memory storage and Helm's printing
// kube client — nothing is sent to any cluster, and without a
// RESTClientGetter template lookups see none.
func renderInstall(ctx context.Context, req Request, out *Rendered, kv *common.KubeVersion, pr helmpostrender.PostRenderer) (*helmrelease.Release, error) {
	hr := req.HelmRelease
	mem := driver.NewMemory()
	mem.SetNamespace(out.ReleaseNamespace)
	inst := action.NewInstall(&action.Configuration{Releases: storage.Init(mem), KubeClient: &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: targetCapabilities(req, kv)})
	inst.DryRunStrategy = action.DryRunServer
	inst.ReleaseName = out.ReleaseName
	inst.Namespace = out.ReleaseNamespace
	inst.Devel = true
	inst.SkipCRDs = true // CRDs are handled by policy, as helm-controller does
	inst.DisableHooks = hr.GetInstall().DisableHooks
	inst.SkipSchemaValidation = hr.GetInstall().DisableSchemaValidation
	inst.PostRenderer = pr
	inst.PostRenderStrategy = postRenderStrategy(hr)
	// Helm's install mutates the chart while rendering:
	// render a copy so concurrent HelmReleases of one chart are safe.
	rel, err := inst.RunWithContext(ctx, copyChart(req.Chart.Chart), req.Values.AsMap())
	if err != nil {
		return nil, err
	}
	return v1Release(rel)
}

// renderUpgrade renders as helm-controller's upgrade (internal/action
// upgrade.go): Helm's upgrade as a client-side dry run against an
// in-memory storage holding the deployed release as the one before the
// revision rendered, so Helm itself sets .Release.Revision,
// .Release.IsUpgrade and the release namespace, and reuses the deployed
// values with upgrade.preserveValues.
func renderUpgrade(ctx context.Context, req Request, out *Rendered, kv *common.KubeVersion, pr helmpostrender.PostRenderer) (*helmrelease.Release, error) {
	hr := req.HelmRelease
	if req.From.release == nil {
		return nil, fmt.Errorf("release %s: no storage record to upgrade from (use CurrentRelease)", out.ReleaseName)
	}
	prev := *req.From.release
	info := *prev.Info
	// Helm's upgrade refuses a pending release, which helm-controller
	// unlocks first; the copy is the deployed release Helm upgrades from.
	info.Status = rcommon.StatusDeployed
	prev.Info, prev.Version = &info, revision(req)-1
	st := storage.Init(driver.NewMemory())
	if err := st.Create(&prev); err != nil {
		return nil, err
	}
	cfg := &action.Configuration{Releases: st, KubeClient: &kubefake.PrintingKubeClient{Out: io.Discard}, Capabilities: targetCapabilities(req, kv)}
	up := action.NewUpgrade(cfg)
	up.DryRunStrategy = action.DryRunClient
	up.Namespace = out.ReleaseNamespace
	up.ResetValues = !hr.GetUpgrade().PreserveValues
	up.ReuseValues = hr.GetUpgrade().PreserveValues
	up.Devel = true
	up.DisableHooks = hr.GetUpgrade().DisableHooks
	up.SkipSchemaValidation = hr.GetUpgrade().DisableSchemaValidation
	up.PostRenderer = pr
	up.PostRenderStrategy = postRenderStrategy(hr)
	rel, err := up.RunWithContext(ctx, out.ReleaseName, copyChart(req.Chart.Chart), req.Values.AsMap())
	if err != nil {
		return nil, err
	}
	return v1Release(rel)
}

// targetCapabilities are the target's server version and API versions
// (Helm's own version from its defaults), as Helm reads them from a
// cluster it talks to.
func targetCapabilities(req Request, kv *common.KubeVersion) *common.Capabilities {
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = *kv
	caps.APIVersions = req.Capabilities.APIVersions
	return caps
}

func postRenderStrategy(hr *helmv2.HelmRelease) action.PostRenderStrategy {
	if s := hr.GetPostRenderStrategy(); s != "" {
		return action.PostRenderStrategy(s)
	}
	return action.PostRenderStrategyCombined
}

func v1Release(rel ri.Releaser) (*helmrelease.Release, error) {
	r, ok := rel.(*helmrelease.Release)
	if !ok {
		return nil, fmt.Errorf("only the chart API v2 is supported")
	}
	return r, nil
}

func copyChart(c *chart.Chart) *chart.Chart {
	cp := *c
	md := *c.Metadata
	cp.Metadata = &md
	return &cp
}

func setHelmMetadata(o *unstructured.Unstructured, name, namespace string) {
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[ManagedByLabel] = ManagedByHelm
	o.SetLabels(labels)
	ann := o.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[ReleaseNameAnnotation] = name
	ann[ReleaseNamespaceAnnotation] = namespace
	o.SetAnnotations(ann)
}

// DriftDetectionDisabled reports whether an object opts out of drift
// detection (helm.toolkit.fluxcd.io/driftDetection: disabled).
func DriftDetectionDisabled(o *unstructured.Unstructured) bool {
	return o.GetAnnotations()[helmv2.DriftDetectionMetadataKey] == helmv2.DriftDetectionDisabledValue ||
		o.GetLabels()[helmv2.DriftDetectionMetadataKey] == helmv2.DriftDetectionDisabledValue
}

func originLabels(hr *helmv2.HelmRelease) map[string]string {
	return map[string]string{originLabelPrefix + "/name": hr.Name, originLabelPrefix + "/namespace": hr.Namespace}
}

// postRenderer is one step of helm-controller's post-rendering.
type postRenderer func(*bytes.Buffer) (*bytes.Buffer, error)

func (p postRenderer) Run(b *bytes.Buffer) (*bytes.Buffer, error) { return p(b) }

// postRenderers is helm-controller's chain (internal/postrender
// BuildPostRenderers): spec.postRenderers' kustomize patches and images in
// order, then commonMetadata, then the origin labels (which win).
func postRenderers(hr *helmv2.HelmRelease) postRenderer {
	var steps []postRenderer
	for _, pr := range hr.Spec.PostRenderers {
		if k := pr.Kustomize; k != nil {
			steps = append(steps, func(b *bytes.Buffer) (*bytes.Buffer, error) { return kustomizeRender(b, k.Patches, k.Images) })
		}
	}
	if cm := hr.Spec.CommonMetadata; cm != nil {
		var ts []resmap.Transformer
		if cm.Labels != nil {
			ts = append(ts, labelTransformer(cm.Labels))
		}
		if cm.Annotations != nil {
			ts = append(ts, &builtins.AnnotationsTransformerPlugin{Annotations: cm.Annotations,
				FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/annotations", CreateIfNotPresent: true}}})
		}
		if len(ts) > 0 {
			steps = append(steps, func(b *bytes.Buffer) (*bytes.Buffer, error) { return transform(b, ts...) })
		}
	}
	origin := labelTransformer(originLabels(hr))
	steps = append(steps, func(b *bytes.Buffer) (*bytes.Buffer, error) { return transform(b, origin) })
	return func(b *bytes.Buffer) (*bytes.Buffer, error) {
		var err error
		for _, s := range steps {
			if b, err = s(b); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
}

func labelTransformer(labels map[string]string) resmap.Transformer {
	return &builtins.LabelTransformerPlugin{Labels: labels,
		FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/labels", CreateIfNotPresent: true}}}
}

func transform(b *bytes.Buffer, ts ...resmap.Transformer) (*bytes.Buffer, error) {
	rm, err := resmap.NewFactory(provider.NewDefaultDepProvider().GetResourceFactory()).NewResMapFromBytes(b.Bytes())
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if err := t.Transform(rm); err != nil {
			return nil, err
		}
	}
	y, err := rm.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(y), nil
}

// kustomizeMu serialises krusty runs (kustomize's concurrent map bug,
// kubernetes-sigs/kustomize#3659), as helm-controller does.
var kustomizeMu sync.Mutex

func kustomizeRender(b *bytes.Buffer, patches []kustomize.Patch, images []kustomize.Image) (*bytes.Buffer, error) {
	fs := filesys.MakeFsInMemory()
	cfg := kustypes.Kustomization{}
	cfg.APIVersion, cfg.Kind = kustypes.KustomizationVersion, kustypes.KustomizationKind
	for _, im := range images {
		cfg.Images = append(cfg.Images, kustypes.Image{Name: im.Name, NewName: im.NewName, NewTag: im.NewTag, Digest: im.Digest})
	}
	cfg.Resources = []string{"helm-output.yaml"}
	if err := fs.WriteFile("helm-output.yaml", b.Bytes()); err != nil {
		return nil, err
	}
	for _, p := range patches {
		kp := kustypes.Patch{Patch: p.Patch}
		if s := p.Target; s != nil {
			kp.Target = &kustypes.Selector{ResId: resid.ResId{Gvk: resid.Gvk{Group: s.Group, Version: s.Version, Kind: s.Kind}, Name: s.Name, Namespace: s.Namespace}, LabelSelector: s.LabelSelector, AnnotationSelector: s.AnnotationSelector}
		}
		cfg.Patches = append(cfg.Patches, kp)
	}
	k, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", k); err != nil {
		return nil, err
	}
	kustomizeMu.Lock()
	rm, err := krusty.MakeKustomizer(&krusty.Options{LoadRestrictions: kustypes.LoadRestrictionsNone, PluginConfig: kustypes.DisabledPluginConfig()}).Run(fs, ".")
	kustomizeMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("post-renderer kustomize: %w", err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(y), nil
}

// OfflineCapabilities are Helm's built-in capabilities — what `helm
// template` renders with — for a render that reads no cluster (diff
// --no-live renders both sides with them).
func OfflineCapabilities() Capabilities {
	return Capabilities{KubeVersion: common.DefaultCapabilities.KubeVersion.Version, APIVersions: common.DefaultVersionSet}
}
