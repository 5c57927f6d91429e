package helmrender

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// source builds a Flux source object (source.toolkit.fluxcd.io/v1) with
// the given spec.
func source(kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetAPIVersion("source.toolkit.fluxcd.io/v1")
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

// chartFrom is a HelmRelease apps/web with spec.chart.spec from kind/name.
func chartFrom(kind, name, chart, version, strategy string) *helmv2.HelmRelease {
	return &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
		Spec: helmv2.HelmReleaseSpec{Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
			Chart: chart, Version: version, ReconcileStrategy: strategy,
			SourceRef: helmv2.CrossNamespaceObjectReference{Kind: kind, Name: name},
		}}}}
}

// chartRef is a HelmRelease apps/web with spec.chartRef to kind/name.
func chartRef(kind, name string) *helmv2.HelmRelease {
	return &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
		Spec: helmv2.HelmReleaseSpec{ChartRef: &helmv2.CrossNamespaceSourceReference{Kind: kind, Name: name}}}
}

func secret(name string, typ corev1.SecretType, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name}, Type: typ, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

// TestResolveSource resolves one HelmRelease per source kind, as
// helm-controller and source-controller would find its chart: the source
// from the build (Lookup) or the home cluster (Reader), its credentials
// from the Secrets it names there.
func TestResolveSource(t *testing.T) {
	checkout := t.TempDir()
	repo := source("HelmRepository", "apps", "charts", map[string]any{"url": "https://charts.example.com", "secretRef": map[string]any{"name": "repo-auth"}})
	for _, tc := range []struct {
		name string
		hr   *helmv2.HelmRelease
		// build are the sources Lookup knows; cluster the objects the
		// home cluster has.
		build   []*unstructured.Unstructured
		cluster []client.Object
		want    ChartSource
		wantErr string
	}{{
		name:    "HelmRepository over HTTPS with basic auth",
		hr:      chartFrom("HelmRepository", "charts", "webapp", "1.x", ""),
		build:   []*unstructured.Unstructured{repo},
		cluster: []client.Object{secret("repo-auth", corev1.SecretTypeOpaque, map[string]string{"username": "u", "password": "p"})},
		want: ChartSource{Kind: SourceHelmRepository, URL: "https://charts.example.com", Chart: "webapp", Version: "1.x",
			Username: "u", Password: "p", AuthHint: "credentials from Secret apps/repo-auth"},
	}, {
		name: "HelmRepository of type oci, read from the home cluster, passCredentials",
		hr:   chartFrom("HelmRepository", "registry", "webapp", "", ""),
		cluster: []client.Object{source("HelmRepository", "apps", "registry", map[string]any{
			"url": "oci://registry.example.com/charts", "type": "oci", "insecure": true, "passCredentials": true})},
		want: ChartSource{Kind: SourceHelmRepository, URL: "oci://registry.example.com/charts", OCI: true, Insecure: true,
			PassCredentials: true, Chart: "webapp"},
	}, {
		name: "OCIRepository chartRef at a semver range",
		hr:   chartRef("OCIRepository", "webapp"),
		build: []*unstructured.Unstructured{source("OCIRepository", "apps", "webapp", map[string]any{
			"url": "oci://registry.example.com/charts/webapp", "ref": map[string]any{"semver": ">=1.0.0", "tag": "1.0.0"}})},
		want: ChartSource{Kind: SourceOCIRepository, URL: "oci://registry.example.com/charts/webapp", Version: ">=1.0.0"},
	}, {
		name: "OCIRepository chartRef at a digest",
		hr:   chartRef("OCIRepository", "webapp"),
		build: []*unstructured.Unstructured{source("OCIRepository", "apps", "webapp", map[string]any{
			"url": "oci://registry.example.com/charts/webapp", "ref": map[string]any{"digest": "sha256:abc"}})},
		want: ChartSource{Kind: SourceOCIRepository, URL: "oci://registry.example.com/charts/webapp", Digest: "sha256:abc"},
	}, {
		name: "OCIRepository chartRef without a ref is latest",
		hr:   chartRef("OCIRepository", "webapp"),
		build: []*unstructured.Unstructured{source("OCIRepository", "apps", "webapp", map[string]any{
			"url": "oci://registry.example.com/charts/webapp"})},
		want: ChartSource{Kind: SourceOCIRepository, URL: "oci://registry.example.com/charts/webapp", Version: "latest"},
	}, {
		name: "OCIRepository of a cloud provider without a secretRef",
		hr:   chartRef("OCIRepository", "webapp"),
		build: []*unstructured.Unstructured{source("OCIRepository", "apps", "webapp", map[string]any{
			"url": "oci://123.dkr.ecr.eu-west-1.amazonaws.com/webapp", "provider": "aws"})},
		wantErr: `OCIRepository/apps/webapp: spec.provider "aws" is not supported`,
	}, {
		name: "HelmChart chartRef, resolved through its own HelmRepository",
		hr:   chartRef("HelmChart", "apps-web"),
		build: []*unstructured.Unstructured{repo, source("HelmChart", "apps", "apps-web", map[string]any{
			"chart": "webapp", "version": "2.x", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "charts"}})},
		cluster: []client.Object{secret("repo-auth", corev1.SecretTypeOpaque, map[string]string{"username": "u", "password": "p"})},
		want: ChartSource{Kind: SourceHelmRepository, URL: "https://charts.example.com", Chart: "webapp", Version: "2.x",
			Username: "u", Password: "p", AuthHint: "credentials from Secret apps/repo-auth"},
	}, {
		name:    "HelmChart without a sourceRef",
		hr:      chartRef("HelmChart", "apps-web"),
		build:   []*unstructured.Unstructured{source("HelmChart", "apps", "apps-web", map[string]any{"chart": "webapp"})},
		wantErr: "HelmChart/apps/apps-web: spec.chart and spec.sourceRef kind and name are required",
	}, {
		name: "GitRepository cloned with its Secret's credentials",
		hr:   chartFrom("GitRepository", "charts-git", "./charts/webapp", "", "Revision"),
		build: []*unstructured.Unstructured{source("GitRepository", "apps", "charts-git", map[string]any{
			"url": "https://git.example.com/charts.git", "ref": map[string]any{"tag": "v1.0.0"}, "secretRef": map[string]any{"name": "git-auth"}})},
		cluster: []client.Object{secret("git-auth", corev1.SecretTypeOpaque, map[string]string{"username": "git", "password": "pw", "bearerToken": "tok"})},
		want: ChartSource{Kind: SourceGitRepository, Object: "GitRepository/apps/charts-git", URL: "https://git.example.com/charts.git",
			GitRef: &gitrepo.Ref{Tag: "v1.0.0"}, Chart: "./charts/webapp", RevisionVersion: true,
			Username: "git", Password: "pw", BearerToken: "tok"},
	}, {
		name:    "GitRepository whose Secret is missing",
		hr:      chartFrom("GitRepository", "charts-git", "./charts/webapp", "", ""),
		build:   []*unstructured.Unstructured{source("GitRepository", "apps", "charts-git", map[string]any{"url": "https://git.example.com/charts.git", "secretRef": map[string]any{"name": "gone"}})},
		wantErr: "credentials of GitRepository/apps/charts-git: Secret apps/gone: ",
	}, {
		name: "GitRepository of the checkout is read from it",
		hr:   chartFrom("GitRepository", "flux-system", "./charts/webapp", "", ""),
		want: ChartSource{Kind: SourceDir, Chart: filepath.Join(checkout, "charts", "webapp"), Root: checkout},
	}, {
		name: "GitRepository of the checkout keeps its spec.ignore for the artifact view",
		hr:   chartFrom("GitRepository", "flux-system", "./charts/webapp", "", ""),
		build: []*unstructured.Unstructured{source("GitRepository", "apps", "flux-system", map[string]any{
			"url": "https://git.example.com/fleet.git", "ignore": "/charts/webapp/ci/\n"})},
		want: ChartSource{Kind: SourceDir, Chart: filepath.Join(checkout, "charts", "webapp"), Root: checkout, Ignore: ptr("/charts/webapp/ci/\n")},
	}, {
		name:    "a chart path that leaves the checkout",
		hr:      chartFrom("GitRepository", "flux-system", "../outside", "", ""),
		wantErr: `chart path "../outside" leaves the checkout`,
	}, {
		name: "Bucket with its Secret's keys",
		hr:   chartFrom("Bucket", "charts-s3", "charts/webapp", "", ""),
		build: []*unstructured.Unstructured{source("Bucket", "apps", "charts-s3", map[string]any{
			"endpoint": "s3.example.com", "bucketName": "charts", "prefix": "p/", "region": "eu", "insecure": true,
			"secretRef": map[string]any{"name": "s3-keys"}})},
		cluster: []client.Object{secret("s3-keys", corev1.SecretTypeOpaque, map[string]string{"accesskey": "ak", "secretkey": "sk"})},
		want: ChartSource{Kind: SourceBucket, Object: "Bucket/apps/charts-s3", Chart: "charts/webapp", Bucket: &BucketSource{
			Endpoint: "s3.example.com", BucketName: "charts", Prefix: "p/", Region: "eu", Insecure: true, AccessKey: "ak", SecretKey: "sk"}},
	}, {
		name:    "Bucket without an endpoint",
		hr:      chartFrom("Bucket", "charts-s3", "charts/webapp", "", ""),
		build:   []*unstructured.Unstructured{source("Bucket", "apps", "charts-s3", map[string]any{"bucketName": "charts"})},
		wantErr: "Bucket/apps/charts-s3: spec.endpoint and spec.bucketName are required",
	}, {
		name:    "a source neither in the build nor on the cluster",
		hr:      chartFrom("HelmRepository", "nowhere", "webapp", "", ""),
		wantErr: "source HelmRepository/apps/nowhere not found in the build or on management",
	}, {
		name:    "a HelmRepository as chartRef",
		hr:      chartRef("HelmRepository", "charts"),
		build:   []*unstructured.Unstructured{repo},
		wantErr: "chart source HelmRepository/apps/charts is not supported",
	}, {
		name:    "neither chart nor chartRef",
		hr:      &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"}},
		wantErr: "neither spec.chart nor spec.chartRef is set",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(kube.Scheme).WithObjects(tc.cluster...).Build()
			in := SourceInputs{Reader: c, Cluster: "management", CheckoutDir: checkout,
				Checkout: map[string]bool{"GitRepository/apps/flux-system": true},
				Lookup: func(kind, ns, name string) *unstructured.Unstructured {
					for _, o := range tc.build {
						if o.GetKind() == kind && o.GetNamespace() == ns && o.GetName() == name {
							return o
						}
					}
					return nil
				}}
			got, err := ResolveSource(context.Background(), tc.hr, in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }
