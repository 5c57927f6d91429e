package plugin

import (
	"encoding/json"
	"fmt"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// helmReleaseFixture builds a HelmRelease for a test's gitops tree, in the
// manner of krew's testutil builders: newHelmRelease(name).Spoke(..).
// Chart(..).YAML(). Only the fields a test sets are written.
type helmReleaseFixture struct{ hr helmv2.HelmRelease }

// newHelmRelease is a HelmRelease name in flux-system (which the sample
// loader renames to the test's hub namespace), interval 10m.
func newHelmRelease(name string) *helmReleaseFixture {
	b := &helmReleaseFixture{}
	b.hr.APIVersion, b.hr.Kind = helmv2.GroupVersion.String(), helmv2.HelmReleaseKind
	b.hr.Name, b.hr.Namespace = name, "flux-system"
	b.hr.Spec.Interval = metav1.Duration{Duration: 10 * time.Minute}
	return b
}

// Namespace sets metadata.namespace.
func (b *helmReleaseFixture) Namespace(ns string) *helmReleaseFixture {
	b.hr.Namespace = ns
	return b
}

// Target sets spec.targetNamespace.
func (b *helmReleaseFixture) Target(ns string) *helmReleaseFixture {
	b.hr.Spec.TargetNamespace = ns
	return b
}

// ReleaseName sets spec.releaseName.
func (b *helmReleaseFixture) ReleaseName(name string) *helmReleaseFixture {
	b.hr.Spec.ReleaseName = name
	return b
}

// Spoke renders onto the spoke through its hub kubeconfig Secret
// "<spoke>-kubeconfig" (spec.kubeConfig.secretRef).
func (b *helmReleaseFixture) Spoke(spoke string) *helmReleaseFixture {
	b.hr.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: spoke + "-kubeconfig"}}
	return b
}

// Chart sets the chart template spec.chart.spec: chart at version ("" for
// none) from the source kind/name.
func (b *helmReleaseFixture) Chart(chart, version, kind, source string) *helmReleaseFixture {
	b.hr.Spec.Chart = &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
		Chart: chart, Version: version, SourceRef: helmv2.CrossNamespaceObjectReference{Kind: kind, Name: source}}}
	return b
}

// ChartRef sets spec.chartRef to the source kind/name.
func (b *helmReleaseFixture) ChartRef(kind, name string) *helmReleaseFixture {
	b.hr.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: kind, Name: name}
	return b
}

// CreateNamespace sets spec.install.createNamespace.
func (b *helmReleaseFixture) CreateNamespace() *helmReleaseFixture {
	if b.hr.Spec.Install == nil {
		b.hr.Spec.Install = &helmv2.Install{}
	}
	b.hr.Spec.Install.CreateNamespace = true
	return b
}

// ValuesFrom adds a spec.valuesFrom entry per ConfigMap name.
func (b *helmReleaseFixture) ValuesFrom(configMaps ...string) *helmReleaseFixture {
	for _, name := range configMaps {
		b.hr.Spec.ValuesFrom = append(b.hr.Spec.ValuesFrom, helmv2.ValuesReference{Kind: "ConfigMap", Name: name})
	}
	return b
}

// Values sets spec.values.
func (b *helmReleaseFixture) Values(values map[string]any) *helmReleaseFixture {
	raw, err := json.Marshal(values)
	if err != nil {
		panic(fmt.Sprintf("HelmRelease %s: values of plain maps always marshal: %v", b.hr.Name, err))
	}
	b.hr.Spec.Values = &apiextensionsv1.JSON{Raw: raw}
	return b
}

// With changes anything else on the HelmRelease.
func (b *helmReleaseFixture) With(edit func(*helmv2.HelmRelease)) *helmReleaseFixture {
	edit(&b.hr)
	return b
}

// YAML is the manifest as a user writes it: no status, no
// creationTimestamp. A typed HelmRelease always converts and marshals, so
// an error here is a bug in the fixture.
func (b *helmReleaseFixture) YAML() string {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&b.hr)
	if err != nil {
		panic(fmt.Sprintf("HelmRelease %s: %v", b.hr.Name, err))
	}
	delete(obj, "status")
	delete(obj["metadata"].(map[string]any), "creationTimestamp")
	out, err := yaml.Marshal(obj)
	if err != nil {
		panic(fmt.Sprintf("HelmRelease %s: %v", b.hr.Name, err))
	}
	return string(out)
}
