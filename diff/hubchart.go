package diff

import (
	"context"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"k8s.io/client-go/kubernetes"

	"github.com/c5c3/kubectl-c5c3/helmrender"
)

// loadChart loads hr's chart; a chart of a HelmRepository may come from
// the artifact of the HelmChart helm-controller made for hr on its home
// cluster (the hub, or the spoke it lives on; status.helmChart, else
// NAMESPACE-NAME in the source's namespace), read through that API
// server's proxy to source-controller, when it holds the version the
// checkout asks for (helmrender.LoadWithHub).
func (e *engine) loadChart(ctx context.Context, hr *helmv2.HelmRelease, src helmrender.ChartSource, home *helmHome) (*helmrender.Loaded, error) {
	if src.Kind != helmrender.SourceHelmRepository || hr.Spec.Chart == nil {
		return e.helm.fetcher.Load(ctx, src)
	}
	cs, err := kubernetes.NewForConfig(home.config)
	if err != nil {
		return e.helm.fetcher.Load(ctx, src)
	}
	spec := hr.Spec.Chart.Spec
	ns, name := spec.SourceRef.Namespace, hr.GetHelmChartName()
	if ns == "" {
		ns = hr.Namespace
	}
	if n, m, ok := strings.Cut(hr.Status.HelmChart, "/"); ok {
		ns, name = n, m
	}
	return e.helm.fetcher.LoadWithHub(ctx, src, helmrender.HubChart{
		Proxy:     &helmrender.ArtifactProxy{Reader: home.reader, Kube: cs},
		Namespace: ns, Name: name, SourceKind: spec.SourceRef.Kind, SourceName: spec.SourceRef.Name, ValuesFiles: spec.ValuesFiles,
	})
}
