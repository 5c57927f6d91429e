package diff_test

import (
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// sourcesHelmRelease is a HelmRelease for the control-plane spoke, to be
// given its chart reference (spec.chart or spec.chartRef).
func sourcesHelmRelease(name, target string) *fixture.HelmRelease {
	return fixture.NewHelmRelease(name).ReleaseName(name).Target(target).Spoke("control-plane")
}

// sourcesGitops is a hub sync applying a GitRepository of another
// repository (gittestserver, basic auth), a Bucket (gofakes3), a
// HelmRepository, a HelmChart, and HelmReleases using each, plus two
// broken sources: a GitRepository whose Secret is missing and a Bucket of
// provider gcp.
func sourcesGitops(t *testing.T, g *testfleet.ChartGit, b *testfleet.ChartBucket, repoURL, target string) string {
	dir := t.TempDir()
	sources := fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: charts-git
  namespace: flux-system
spec:
  interval: 1h
  url: %[1]s
  ref:
    tag: v0.1.0
  secretRef:
    name: git-auth
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: broken-git
  namespace: flux-system
spec:
  interval: 1h
  url: %[1]s
  ref:
    branch: main
  secretRef:
    name: missing-git-auth
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: badauth-git
  namespace: flux-system
spec:
  interval: 1h
  url: %[1]s
  ref:
    branch: main
  secretRef:
    name: bad-git-auth
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: Bucket
metadata:
  name: charts-bucket
  namespace: flux-system
spec:
  interval: 1h
  provider: generic
  endpoint: %[2]s
  insecure: true
  bucketName: %[3]s
  prefix: charts/
  secretRef:
    name: bucket-auth
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: Bucket
metadata:
  name: gcp-bucket
  namespace: flux-system
spec:
  interval: 1h
  provider: gcp
  endpoint: storage.googleapis.com
  bucketName: charts
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 1h
  url: %[4]s
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: webapp-chart
  namespace: flux-system
spec:
  interval: 1h
  chart: webapp
  version: "0.2.x"
  sourceRef:
    kind: HelmRepository
    name: charts
`, g.URL, b.Endpoint, b.Name, repoURL)
	files := map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - sources.yaml\n  - releases.yaml\n",
		"clusters/management/sources.yaml":       sources,
		"clusters/management/releases.yaml": strings.Join([]string{
			sourcesHelmRelease("from-git", target).Chart("./charts/webapp", "", "GitRepository", "charts-git").
				With(func(hr *helmv2.HelmRelease) { hr.Spec.Chart.Spec.ReconcileStrategy = "Revision" }).YAML(),
			sourcesHelmRelease("from-bucket", target).Chart("charts/webapp", "", "Bucket", "charts-bucket").YAML(),
			sourcesHelmRelease("from-helmchart", target).ChartRef("HelmChart", "webapp-chart").YAML(),
			sourcesHelmRelease("from-hub-helmchart", target).ChartRef("HelmChart", "hub-chart").YAML(),
			sourcesHelmRelease("broken-git", target).Chart("./charts/webapp", "", "GitRepository", "broken-git").YAML(),
			sourcesHelmRelease("broken-auth", target).Chart("./charts/webapp", "", "GitRepository", "badauth-git").YAML(),
			sourcesHelmRelease("broken-bucket", target).Chart("charts/webapp", "", "Bucket", "gcp-bucket").YAML(),
			sourcesHelmRelease("broken-helmchart", target).ChartRef("HelmChart", "no-such-chart").YAML(),
		}, "---\n"),
	}
	fixture.WriteFiles(t, dir, files)
	return dir
}

// TestRunHelmReleaseChartSources renders HelmReleases whose charts come
// from a GitRepository that is not the checkout (cloned over HTTP with
// the basic auth of its hub Secret, at its tag; reconcileStrategy
// Revision puts the commit into the version), from an S3 Bucket (access
// key of its hub Secret), and through chartRef HelmCharts (one in the
// build, one only in the hub), and diffs them on the control-plane spoke:
// created objects, and a drifted ConfigMap made there beforehand. A
// missing Secret, a wrong password, a gcp Bucket and a missing HelmChart
// are errors naming them (exit 2) without hiding the others; no credential is printed; a
// second run offline renders the same from the chart cache.
func TestRunHelmReleaseChartSources(t *testing.T) {
	t.Parallel()
	g := testfleet.StartChartGit(t)
	b := testfleet.StartChartBucket(t)
	charts := chartServers(t)
	target := "src-" + testfleet.Namespace(t)
	sc := loadHelmScenario(t, sourcesGitops(t, g, b, charts.HTTP.URL(), target))
	s := sc.s
	hub := s.Fleet.Hub.Client
	expect.NoError(t, hub.Create(sc.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "git-auth"},
		Data: map[string][]byte{"username": []byte(g.Username), "password": []byte(g.Password)}}))
	expect.NoError(t, hub.Create(sc.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "bucket-auth"},
		Data: map[string][]byte{"accesskey": []byte(b.AccessKey), "secretkey": []byte(b.SecretKey)}}))
	expect.NoError(t, hub.Create(sc.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "bad-git-auth"},
		Data: map[string][]byte{"username": []byte(g.Username), "password": []byte("wrong-s3cr3t-do-not-print")}}))
	// A HelmChart made out of band, only in the hub: webapp from the
	// GitRepository charts-git (at tag v0.1.0).
	expect.NoError(t, hub.Create(sc.ctx, &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: "hub-chart"},
		Spec: sourcev1.HelmChartSpec{Chart: "./charts/webapp", Version: "*", Interval: metav1.Duration{Duration: time.Hour},
			SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "charts-git"}}}))
	// The bucket release's ConfigMap exists on the spoke with other data.
	spoke := s.Fleet.Spokes["control-plane"].Client
	expect.NoError(t, spoke.Create(sc.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: target}}))
	expect.NoError(t, spoke.Create(sc.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: target, Name: "from-bucket-webapp"},
		Data: map[string]string{"greeting": "made-by-hand"}}))

	res := sc.run(t, 0, diff.Options{})
	wantOutcome(t, "four HelmReleases' sources are broken", res, 2)
	for _, secret := range []string{g.Password, b.SecretKey, "wrong-s3cr3t-do-not-print"} {
		if strings.Contains(asJSON(t, res), secret) {
			t.Fatalf("a source credential was printed")
		}
	}
	hrs := hrsOf(res)
	for name, want := range map[string]string{
		"broken-git":       "credentials of GitRepository/" + s.Namespace + "/broken-git: Secret " + s.Namespace + "/missing-git-auth",
		"broken-auth":      "chart GitRepository/" + s.Namespace + "/badauth-git " + g.URL + "@branch main//./charts/webapp@*: listing the refs of " + g.URL + ": authentication required",
		"broken-bucket":    `chart Bucket/` + s.Namespace + `/gcp-bucket storage.googleapis.com/charts///charts/webapp@*: bucket provider "gcp" is not supported (generic and aws are)`,
		"broken-helmchart": "source HelmChart/" + s.Namespace + "/no-such-chart not found in the build or on management",
	} {
		expect.Contains(t, name+": error", hrs[name].Error, want, "HelmRelease "+s.Namespace+"/"+name)
	}
	for name, version := range map[string]string{
		"from-git":           "0.1.0+" + g.Tagged[:12],
		"from-bucket":        "0.1.0",
		"from-helmchart":     "0.2.0",
		"from-hub-helmchart": "0.1.0",
	} {
		h := hrs[name]
		if h.Error != "" {
			t.Errorf("%s: error %q, want an install of webapp %s", name, h.Error, version)
			continue
		}
		if h.Chart != "webapp" || h.Cluster != "control-plane" {
			t.Errorf("%s: chart %q on %q, want webapp on control-plane", name, h.Chart, h.Cluster)
			continue
		}
		if h.Prediction == nil {
			t.Errorf("%s: no prediction, want an install of webapp %s", name, version)
			continue
		}
		expect.Equal(t, name+": predicted version", h.Prediction.ToVersion, version)
		expect.Equal(t, name+": plan", h.Prediction.Plan, "install")
		objs := helmObjects(res, s.Namespace+"/"+name)
		kinds := []string{"ConfigMap", "Deployment", "Secret", "Service", "PodDisruptionBudget"}
		if version == "0.2.0" {
			kinds = kinds[:4] // webapp 0.2.0 has no PodDisruptionBudget
		}
		for _, k := range kinds {
			o, ok := objs[k]
			want := diff.ActionCreated
			if name == "from-bucket" && k == "ConfigMap" {
				want = diff.ActionDrifted
			}
			if !ok {
				t.Errorf("%s: no %s rendered, want %s in %s", name, k, want, target)
				continue
			}
			expect.Equal(t, name+": "+k+" action", o.Action, want)
			expect.Equal(t, name+": "+k+" namespace", o.Namespace, target)
		}
		if _, ok := objs["PodDisruptionBudget"]; version == "0.2.0" && ok {
			t.Errorf("%s: webapp 0.2.0 rendered a PodDisruptionBudget", name)
		}
	}
	if d := helmObjects(res, s.Namespace+"/from-bucket")["ConfigMap"].Diff; !strings.Contains(d, "-  greeting: made-by-hand") ||
		!strings.Contains(d, "+  greeting: hello") {
		t.Errorf("the hand-made ConfigMap's drift:\n%s", d)
	}
	if d := helmObjects(res, s.Namespace+"/from-git")["Deployment"].Diff; !strings.Contains(d, "helm.sh/chart: webapp-0.1.0_"+g.Tagged[:12]) {
		t.Errorf("reconcileStrategy Revision: the chart label lacks the commit:\n%s", d)
	}

	// Offline, from the cache: the git tag and the bucket's last listing.
	g.Server.StopHTTP()
	offHRs := hrsOf(sc.run(t, 0, diff.Options{Offline: true}))
	for _, name := range []string{"from-git", "from-bucket", "from-helmchart", "from-hub-helmchart"} {
		h := offHRs[name]
		expect.Equal(t, "offline "+name+": error", h.Error, "")
		if h.Prediction == nil {
			t.Errorf("offline %s: no prediction, want %s as live", name, hrs[name].Prediction.ToVersion)
			continue
		}
		expect.Equal(t, "offline "+name+": predicted version", h.Prediction.ToVersion, hrs[name].Prediction.ToVersion)
	}
}
