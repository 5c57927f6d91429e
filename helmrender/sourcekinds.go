package helmrender

import (
	"context"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// helmChartSource resolves a chartRef to a HelmChart as helm-controller
// uses it: the chart source-controller builds from the HelmChart's own
// spec (sourceRef HelmRepository, GitRepository or Bucket in the
// HelmChart's namespace, chart, version, reconcileStrategy), resolved
// like a spec.chart.spec of the HelmRelease.
func helmChartSource(ctx context.Context, hr *helmv2.HelmRelease, hc *unstructured.Unstructured,
	in SourceInputs) (ChartSource, error) {
	id := "HelmChart/" + hc.GetNamespace() + "/" + hc.GetName()
	m, _, _ := unstructured.NestedMap(hc.Object, "spec")
	var spec sourcev1.HelmChartSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &spec); err != nil {
		return ChartSource{}, fmt.Errorf("%s: invalid spec: %s", id, err)
	}
	if spec.Chart == "" || spec.SourceRef.Kind == "" || spec.SourceRef.Name == "" {
		return ChartSource{}, fmt.Errorf("%s: spec.chart and spec.sourceRef kind and name are required", id)
	}
	h := hr.DeepCopy()
	h.Spec.ChartRef = nil
	h.Spec.Chart = &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
		Chart: spec.Chart, Version: spec.Version, ReconcileStrategy: spec.ReconcileStrategy,
		SourceRef: helmv2.CrossNamespaceObjectReference{Kind: spec.SourceRef.Kind, Name: spec.SourceRef.Name, Namespace: hc.GetNamespace()},
	}}
	cs, err := ResolveSource(ctx, h, in)
	if err != nil {
		return ChartSource{}, fmt.Errorf("%s: %w", id, err)
	}
	return cs, nil
}

// gitChartSource is a chart path of a GitRepository that is not the
// checkout: cloned at its spec.ref with the username/password or
// bearerToken of its secretRef on the HelmRelease's home cluster.
func gitChartSource(ctx context.Context, id string, src *unstructured.Unstructured, spec *helmv2.HelmChartTemplateSpec, in SourceInputs) (ChartSource, error) {
	str := func(f ...string) string { s, _, _ := unstructured.NestedString(src.Object, f...); return s }
	ref := gitrepo.Ref{Branch: str("spec", "ref", "branch"), Tag: str("spec", "ref", "tag"), SemVer: str("spec", "ref", "semver"),
		Name: str("spec", "ref", "name"), Commit: str("spec", "ref", "commit")}
	cs := ChartSource{Kind: SourceGitRepository, Object: id, URL: str("spec", "url"), GitRef: &ref, Chart: spec.Chart, Ignore: specIgnore(src),
		RevisionVersion: spec.ReconcileStrategy == sourcev1.ReconcileStrategyRevision}
	if cs.URL == "" {
		return ChartSource{}, fmt.Errorf("%s has no spec.url", id)
	}
	s, err := sourceSecret(ctx, id, src, in)
	if err != nil || s == nil {
		return cs, err
	}
	cs.Username, cs.Password, cs.BearerToken = string(s.Data["username"]), string(s.Data["password"]), string(s.Data["bearerToken"])
	return cs, nil
}

// bucketChartSource is a chart path of a Bucket: its endpoint, bucket,
// prefix and region, and the accesskey/secretkey of its secretRef on the
// HelmRelease's home cluster.
func bucketChartSource(ctx context.Context, id string, src *unstructured.Unstructured, spec *helmv2.HelmChartTemplateSpec, in SourceInputs) (ChartSource, error) {
	str := func(f ...string) string { s, _, _ := unstructured.NestedString(src.Object, f...); return s }
	insecure, _, _ := unstructured.NestedBool(src.Object, "spec", "insecure")
	b := &BucketSource{Provider: str("spec", "provider"), Endpoint: str("spec", "endpoint"), BucketName: str("spec", "bucketName"),
		Prefix: str("spec", "prefix"), Region: str("spec", "region"), Insecure: insecure, Ignore: str("spec", "ignore")}
	if b.Endpoint == "" || b.BucketName == "" {
		return ChartSource{}, fmt.Errorf("%s: spec.endpoint and spec.bucketName are required", id)
	}
	cs := ChartSource{Kind: SourceBucket, Object: id, Chart: spec.Chart, Bucket: b,
		RevisionVersion: spec.ReconcileStrategy == sourcev1.ReconcileStrategyRevision}
	s, err := sourceSecret(ctx, id, src, in)
	if err != nil || s == nil {
		return cs, err
	}
	b.AccessKey, b.SecretKey = string(s.Data["accesskey"]), string(s.Data["secretkey"])
	return cs, nil
}

// sourceSecret reads the Secret of a source's spec.secretRef from the
// HelmRelease's home cluster (nil without one); its data is never printed.
func sourceSecret(ctx context.Context, id string, src *unstructured.Unstructured, in SourceInputs) (*corev1.Secret, error) {
	name, _, _ := unstructured.NestedString(src.Object, "spec", "secretRef", "name")
	if name == "" {
		return nil, nil
	}
	s := &corev1.Secret{}
	if err := in.Reader.Get(ctx, client.ObjectKey{Namespace: src.GetNamespace(), Name: name}, s); err != nil {
		return nil, fmt.Errorf("credentials of %s: Secret %s/%s: %s", id, src.GetNamespace(), name, errText(err))
	}
	return s, nil
}
