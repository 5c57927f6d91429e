package testfleet

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/chartutil"
	"github.com/go-logr/logr"
	godigest "github.com/opencontainers/go-digest"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	helmchartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"sigs.k8s.io/yaml"
)

// SampleChartURLs are the chart repository URLs of the sample gitops repo
// (testdata/gitops/infrastructure/sources). They cannot be reached from
// tests: LoadSample points them, in the checkout it commits, at one local
// chart repository serving testdata/charts (see SampleChartRepo).
var SampleChartURLs = []string{
	"https://charts.bitnami.com/bitnami",
	"https://charts.rook.io/release",
	"https://c5c3.github.io/charts",
}

// chartRepo is a plain HTTP chart repository on 127.0.0.1: the packaged
// charts of testdata/charts and an index.yaml made by helm's own
// repo.IndexDirectory. Unlike StartChartServers it needs no *testing.T,
// so the demo uses it too.
type chartRepo struct {
	url    string
	dir    string
	srv    *http.Server
	charts map[string]string // "name-version" → archive path
}

// SampleChartRepo is the URL of the local chart repository the sample's
// HelmRepositories point at; it is started by the fleet's first
// LoadSample (or this call) and stopped by Stop.
func (f *Fleet) SampleChartRepo() (string, error) {
	r, err := f.sampleCharts()
	if err != nil {
		return "", err
	}
	return r.url, nil
}

func (f *Fleet) sampleCharts() (*chartRepo, error) {
	f.chartsOnce.Do(func() { f.charts, f.chartsErr = startChartRepo(filepath.Join(f.Dir, "charts")) })
	return f.charts, f.chartsErr
}

func startChartRepo(dir string) (*chartRepo, error) {
	src, err := ChartsDir()
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &chartRepo{dir: dir, charts: map[string]string{}}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		ch, err := loader.LoadDir(filepath.Join(src, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("loading chart testdata/charts/%s: %w", e.Name(), err)
		}
		archive, err := helmchartutil.Save(ch, dir)
		if err != nil {
			return nil, fmt.Errorf("packaging chart testdata/charts/%s: %w", e.Name(), err)
		}
		r.charts[ch.Metadata.Name+"-"+ch.Metadata.Version] = archive
	}
	if err := r.addPackaged(); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.url = "http://" + l.Addr().String()
	idx, err := repo.IndexDirectory(dir, r.url)
	if err != nil {
		l.Close()
		return nil, err
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		l.Close()
		return nil, err
	}
	r.srv = &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

// OperatorChartsDir is testdata/operator-charts in the module root: real
// operator charts, packaged (see its README).
func OperatorChartsDir() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "testdata", "operator-charts"), nil
}

// addPackaged copies the packaged charts of testdata/operator-charts into
// the repository as they are.
func (r *chartRepo) addPackaged() error {
	src, err := OperatorChartsDir()
	if err != nil {
		return err
	}
	archives, err := filepath.Glob(filepath.Join(src, "*.tgz"))
	if err != nil {
		return err
	}
	for _, a := range archives {
		data, err := os.ReadFile(a)
		if err != nil {
			return err
		}
		ch, err := loader.LoadArchive(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("loading chart testdata/operator-charts/%s: %w", filepath.Base(a), err)
		}
		dst := filepath.Join(r.dir, filepath.Base(a))
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		r.charts[ch.Metadata.Name+"-"+ch.Metadata.Version] = dst
	}
	return nil
}

func (r *chartRepo) stop() error {
	if r == nil {
		return nil
	}
	return r.srv.Close()
}

// load loads the packaged chart name at exactly version.
func (r *chartRepo) load(name, version string) (*chart.Chart, error) {
	archive := r.charts[name+"-"+version]
	if archive == "" {
		var have []string
		for k := range r.charts {
			have = append(have, k)
		}
		sort.Strings(have)
		return nil, fmt.Errorf("no test chart %s-%s in testdata/charts or testdata/operator-charts (have %s)", name, version, strings.Join(have, ", "))
	}
	return loader.Load(archive)
}

// chartURLReplacements maps the sample's public chart repository URLs to
// the local one, for copyTree.
func chartURLReplacements(local string) map[string]string {
	m := map[string]string{}
	for _, u := range SampleChartURLs {
		m["url: "+u] = "url: " + local
	}
	return m
}

// helmInstall installs hr's chart on its target cluster with the Helm v4
// SDK the way helm-controller's install does: values merged by
// fluxcd/pkg/chartutil from the hub, field manager helm-controller,
// server-side apply, install.createNamespace, and helm-controller's origin
// labels added to every object by a post-renderer. A release of the same
// name already there (left by an earlier sample on the shared fleet) is
// uninstalled first, so every sample starts from its own install. It
// returns the chart version and the values digest helm-controller records
// in status.history and the inventory it records in status.inventory.
func (s *Sample) helmInstall(ctx context.Context, hr *helmv2.HelmRelease) (version, configDigest string, inv *helmv2.ResourceInventory, err error) {
	repo, err := s.Fleet.sampleCharts()
	if err != nil {
		return "", "", nil, err
	}
	ch, err := repo.load(hr.Spec.Chart.Spec.Chart, hr.Spec.Chart.Spec.Version)
	if err != nil {
		return "", "", nil, fmt.Errorf("HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
	}
	values, err := chartutil.ChartValuesFromReferences(ctx, logr.Discard(), s.Fleet.Hub.Client, hr.Namespace, hr.GetValues(), hr.Spec.ValuesFrom...)
	if err != nil {
		return "", "", nil, fmt.Errorf("values of HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
	}
	target := s.Fleet.Hub
	if hr.Spec.KubeConfig != nil {
		name := strings.TrimSuffix(hr.Spec.KubeConfig.SecretRef.Name, "-kubeconfig")
		if target = s.Fleet.Spokes[name]; target == nil {
			return "", "", nil, fmt.Errorf("HelmRelease %s/%s targets unknown spoke %q", hr.Namespace, hr.Name, name)
		}
	}
	releaseNS := hr.Spec.TargetNamespace
	if releaseNS == "" {
		releaseNS = hr.Namespace
	}
	storageNS := hr.Spec.StorageNamespace
	if storageNS == "" {
		storageNS = hr.Namespace
	}
	r := Release{Target: target, Name: releaseName(hr), Namespace: releaseNS, StorageNamespace: storageNS,
		CreateNamespace: hr.GetInstall().CreateNamespace, DisableTakeOwnership: hr.GetInstall().DisableTakeOwnership, Chart: ch, Values: values.AsMap(), OriginNamespace: hr.Namespace, OriginName: hr.Name}
	if err := s.Fleet.InstallRelease(ctx, r); err != nil {
		return "", "", nil, fmt.Errorf("HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
	}
	if inv, err = s.Fleet.ReleaseInventory(r); err != nil {
		return "", "", nil, fmt.Errorf("HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
	}
	return ch.Metadata.Version, chartutil.DigestValues(godigest.Canonical, values).String(), inv, nil
}

// releaseName is helm-controller's release name for hr:
// spec.releaseName, else [targetNamespace-]name (the test charts' names
// stay under Helm's 53 characters).
func releaseName(hr *helmv2.HelmRelease) string {
	if hr.Spec.ReleaseName != "" {
		return hr.Spec.ReleaseName
	}
	if hr.Spec.TargetNamespace != "" {
		return hr.Spec.TargetNamespace + "-" + hr.Name
	}
	return hr.Name
}

// originLabeler is helm-controller's last post-renderer: the labels naming
// the HelmRelease on every rendered object.
type originLabeler map[string]string

// Run implements postrenderer.PostRenderer.
func (l originLabeler) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	out := &bytes.Buffer{}
	for _, doc := range strings.Split(in.String(), "\n---") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc+"\n"), &obj); err != nil {
			return nil, err
		}
		if len(obj) == 0 {
			continue
		}
		md, _ := obj["metadata"].(map[string]any)
		if md == nil {
			md = map[string]any{}
			obj["metadata"] = md
		}
		labels, _ := md["labels"].(map[string]any)
		if labels == nil {
			labels = map[string]any{}
			md["labels"] = labels
		}
		for k, v := range l {
			labels[k] = v
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	return out, nil
}
