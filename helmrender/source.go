package helmrender

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// SourceInputs say where ResolveSource finds a HelmRelease's chart source
// and the Secrets that source names.
type SourceInputs struct {
	// Lookup returns the source object kind/namespace/name when it is
	// known without reading a cluster (from the HelmRelease's own build,
	// or the hub's discovered sources), else nil.
	Lookup func(kind, namespace, name string) *unstructured.Unstructured
	// Reader reads, on the HelmRelease's home cluster (the hub, or the
	// spoke it lives on), the sources Lookup does not know and the Secrets
	// of the sources' spec.secretRef and spec.certSecretRef.
	Reader client.Reader
	// Cluster names the home cluster in errors.
	Cluster string
	// Checkout holds the ids ("GitRepository/ns/name") of the
	// GitRepositories that are the local checkout at CheckoutDir: a chart
	// path of one of them is read from there, not cloned.
	Checkout    map[string]bool
	CheckoutDir string
}

// ResolveSource finds where hr's chart comes from: its chartRef or
// chart.spec.sourceRef — a HelmRepository (HTTP or OCI), an OCIRepository,
// a HelmChart (resolved through its own spec), a GitRepository or a
// Bucket — taken from in.Lookup when it has it, else from hr's home
// cluster; credentials and TLS from the source's Secrets there.
func ResolveSource(ctx context.Context, hr *helmv2.HelmRelease, in SourceInputs) (ChartSource, error) {
	var kind, ns, name string
	var spec *helmv2.HelmChartTemplateSpec
	switch {
	case hr.Spec.ChartRef != nil:
		kind, name, ns = hr.Spec.ChartRef.Kind, hr.Spec.ChartRef.Name, hr.Spec.ChartRef.Namespace
	case hr.Spec.Chart != nil:
		spec = &hr.Spec.Chart.Spec
		kind, name, ns = spec.SourceRef.Kind, spec.SourceRef.Name, spec.SourceRef.Namespace
	default:
		return ChartSource{}, fmt.Errorf("neither spec.chart nor spec.chartRef is set")
	}
	if ns == "" {
		ns = hr.Namespace
	}
	id := kind + "/" + ns + "/" + name
	var src *unstructured.Unstructured
	checkout := kind == "GitRepository" && in.Checkout[id]
	if in.Lookup != nil {
		src = in.Lookup(kind, ns, name)
	}
	if src == nil && !checkout {
		// Discovery lists the sources the live objects name; a HelmRelease
		// that helm-controller reconciled names its HelmChart there, not
		// the HelmRepository behind it (often applied by another build).
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(fleet.SourceGroupVersion.WithKind(kind))
		err := in.Reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)
		switch {
		case apierrors.IsNotFound(err) || kube.IsNoMatch(err):
			return ChartSource{}, fmt.Errorf("source %s not found in the build or on %s", id, in.Cluster)
		case err != nil:
			return ChartSource{}, fmt.Errorf("reading source %s from %s: %s", id, in.Cluster, errText(err))
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
	cs := ChartSource{URL: str("spec", "url"), Insecure: bl("spec", "insecure")}
	switch {
	case kind == "OCIRepository" && spec == nil:
		cs.Kind = SourceOCIRepository
		cs.Digest = str("spec", "ref", "digest")
		cs.Version = str("spec", "ref", "semver")
		if cs.Version == "" {
			cs.Version = str("spec", "ref", "tag")
		}
		if cs.Version == "" && cs.Digest == "" {
			cs.Version = "latest"
		}
	case kind == "HelmRepository" && spec != nil:
		cs.Kind, cs.Chart, cs.Version = SourceHelmRepository, spec.Chart, spec.Version
		cs.OCI = str("spec", "type") == "oci"
	case kind == "HelmChart" && spec == nil:
		return helmChartSource(ctx, hr, src, in)
	case kind == "Bucket" && spec != nil:
		return bucketChartSource(ctx, id, src, spec, in)
	case kind == "GitRepository" && spec != nil:
		if !checkout {
			return gitChartSource(ctx, id, src, spec, in)
		}
		dir := filepath.Join(in.CheckoutDir, filepath.FromSlash(strings.TrimPrefix(spec.Chart, "./")))
		if rel, err := filepath.Rel(in.CheckoutDir, dir); err != nil || strings.HasPrefix(rel, "..") {
			return ChartSource{}, fmt.Errorf("chart path %q leaves the checkout", spec.Chart)
		}
		return ChartSource{Kind: SourceDir, Chart: dir, Root: in.CheckoutDir, Ignore: specIgnore(src)}, nil
	default:
		return ChartSource{}, fmt.Errorf("chart source %s is not supported (spec.chart: HelmRepository, GitRepository, Bucket; spec.chartRef: OCIRepository, HelmChart)", id)
	}
	return withSourceSecrets(ctx, id, ns, src, cs, in)
}

// specIgnore is the spec.ignore of a source object; nil when unset or
// when the object is not known (a checkout without a definition).
func specIgnore(src *unstructured.Unstructured) *string {
	if src == nil {
		return nil
	}
	s, ok, _ := unstructured.NestedString(src.Object, "spec", "ignore")
	if !ok {
		return nil
	}
	return &s
}

// errText is an error's text without surrounding space, for errors that
// quote another.
func errText(err error) string { return strings.TrimSpace(err.Error()) }
