package diff_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// benchOperatorChart is one real operator chart of testdata/operator-charts
// in the fleet of BenchmarkDiffHelmOperators: installed on every spoke
// into namespace, with values (a YAML block under "values:", or none).
type benchOperatorChart struct {
	chart, version, namespace string
	values                    string
	// objects is what the chart renders with those values; drift is how
	// many of them benchOperatorDrift changes.
	objects, crds, drift int
}

// benchOperatorCharts are the three charts of issue 20's Helm-heavy fleet.
// Their cluster-scoped objects (CRDs, ClusterRoles, the webhook
// configuration) have fixed names, so each spoke gets one release of each.
var benchOperatorCharts = []benchOperatorChart{
	{chart: "rook-ceph", version: "v1.17.2", namespace: "hop-rook-ceph", values: "    logLevel: INFO\n", objects: 71, crds: 19, drift: 1},
	{chart: "mariadb-operator-crds", version: "25.10.2", namespace: "hop-mariadb", objects: 11, crds: 11},
	{chart: "mariadb-operator", version: "25.10.2", namespace: "hop-mariadb", values: "    logLevel: INFO\n", objects: 20, drift: 3},
}

// benchOperatorDriftedSpokes is how many spokes (the first ones) get the
// values edit of benchOperatorDrift.
const benchOperatorDriftedSpokes = 2

// generateOperatorRepo writes a gitops tree of the benchOperatorCharts on
// every spoke (through its kubeconfig Secret), applied to the hub by the
// Kustomization bench-operators, as generateHelmRepo does for the platform
// chart. It returns the checkout and the objects the HelmReleases render.
func generateOperatorRepo(tb testing.TB) (string, int) {
	tb.Helper()
	dir := tb.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write("clusters/management/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - sources.yaml\n  - bench-operators.yaml\n")
	write("clusters/management/sources.yaml", fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: bench-charts
  namespace: flux-system
spec:
  interval: 10m
  url: %s
`, testfleet.SampleChartURLs[len(testfleet.SampleChartURLs)-1]))
	write("clusters/management/bench-operators.yaml", `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: bench-operators
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/bench-operators
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`)
	var res []string
	objects := 0
	for _, spoke := range testfleet.SpokeNames {
		for _, c := range benchOperatorCharts {
			name := c.chart + "-" + spoke
			values := ""
			if c.values != "" {
				values = "  values:\n" + c.values
			}
			write("apps/bench-operators/"+name+".yaml", fmt.Sprintf(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 30m
  targetNamespace: %s
  storageNamespace: %s
  kubeConfig:
    secretRef:
      name: %s-kubeconfig
  chart:
    spec:
      chart: %s
      version: "%s"
      sourceRef:
        kind: HelmRepository
        name: bench-charts
        namespace: flux-system
  install:
    createNamespace: true
%s`, name, c.namespace, c.namespace, spoke, c.chart, c.version, values))
			res = append(res, "  - "+name+".yaml")
			objects += c.objects
		}
	}
	write("apps/bench-operators/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"+strings.Join(res, "\n")+"\n")
	return dir, objects
}

// benchOperatorDrift raises the log level of the rook-ceph and
// mariadb-operator releases of the first benchOperatorDriftedSpokes spokes
// in the checkout (rook-ceph's operator ConfigMap; mariadb-operator's
// three Deployments). It returns the HelmRelease files and the number of
// rendered objects that now differ from the installed releases.
func benchOperatorDrift(tb testing.TB, repo string) ([]string, int) {
	files, _ := filepath.Glob(filepath.Join(repo, "apps", "bench-operators", "*-*.yaml"))
	drifted := 0
	for _, spoke := range testfleet.SpokeNames[:benchOperatorDriftedSpokes] {
		for _, c := range benchOperatorCharts {
			if c.drift == 0 {
				continue
			}
			p := filepath.Join(repo, "apps", "bench-operators", c.chart+"-"+spoke+".yaml")
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			if !bytes.Contains(b, []byte("logLevel: INFO\n")) {
				tb.Fatalf("%s has no logLevel to drift", p)
			}
			if err := os.WriteFile(p, bytes.Replace(b, []byte("logLevel: INFO\n"), []byte("logLevel: DEBUG\n"), 1), 0o644); err != nil {
				tb.Fatal(err)
			}
			drifted += c.drift
		}
	}
	sort.Strings(files)
	return files, drifted
}

// BenchmarkDiffHelmOperators is issue 20's Helm-heavy fleet: the real
// rook-ceph, mariadb-operator-crds and mariadb-operator charts
// (testdata/operator-charts) on each of the 3 spokes, installed for real
// with the Helm SDK (306 rendered objects, 90 of them large CRDs), the
// log level raised in the checkout for the releases of 2 spokes (8
// objects drifted). Like BenchmarkDiffHelmFleet it compares (a) `kubectl
// c5c3 diff -o json` with a cold chart cache against (b) `helm template` +
// `kubectl diff --server-side` per HelmRelease, in the same run.
func BenchmarkDiffHelmOperators(b *testing.B) {
	f := testfleet.Get(b)
	ctx := context.Background()
	src, total := generateOperatorRepo(b)
	setup := time.Now()
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(b), Source: src, NoFluxReport: true, InstallCharts: true})
	if err != nil {
		b.Fatal(err)
	}
	n := len(testfleet.SpokeNames) * len(benchOperatorCharts)
	b.Logf("installed %d operator releases in %s", n, time.Since(setup).Round(time.Millisecond))
	files, wantDrifted := benchOperatorDrift(b, s.RepoDir)
	if len(files) != n {
		b.Fatalf("%d HelmRelease files, want %d", len(files), n)
	}
	chartRepo, err := f.SampleChartRepo()
	if err != nil {
		b.Fatal(err)
	}
	buildStart := time.Now()
	bin := buildPlugin(b)
	pluginBuild := time.Since(buildStart)
	helm := helmCLI(b)
	releases := benchReleases(b, files)
	crds := 0
	for _, c := range benchOperatorCharts {
		crds += c.crds * len(testfleet.SpokeNames)
	}

	m := measureHelmDiff(b, bin, s, f, helm, chartRepo, releases, n, wantDrifted)
	cliWall, baseWall, cliRSS, baseRSS, baseChanged := m.cliWall, m.baseWall, m.cliRSS, m.baseRSS, m.baseChanged
	runs := float64(b.N)
	b.ReportMetric(float64(n), "helmreleases")
	b.ReportMetric(float64(total), "objects")
	b.ReportMetric(cliWall.Seconds()/runs, "s-c5c3")
	b.ReportMetric(m.cliCPU.Seconds()/runs, "s-cpu-c5c3")
	b.ReportMetric(baseWall.Seconds()/runs, "s-helm+kubectl")
	b.ReportMetric(float64(cliWall)/float64(baseWall), "x-helm+kubectl")
	b.ReportMetric(float64(cliRSS)/1024, "MiB-peak-rss")
	b.ReportMetric(float64(baseRSS)/1024, "MiB-peak-rss-baseline")
	fmt.Printf("\nkubectl c5c3 diff of %d HelmReleases (rook-ceph v1.17.2, mariadb-operator-crds and mariadb-operator 25.10.2 on each of %d spokes): %d rendered objects, %d of them CRDs, %d drifted:\n",
		n, len(testfleet.SpokeNames), total, crds, wantDrifted)
	fmt.Printf("  (a) kubectl c5c3 diff                 %6.2fs  %.2fs CPU  peak RSS %.0f MiB  (cold chart cache; the plugin's build before the run: %.2fs)\n",
		cliWall.Seconds()/runs, m.cliCPU.Seconds()/runs, float64(cliRSS)/1024, pluginBuild.Seconds())
	fmt.Printf("  (b) helm template | kubectl diff --server-side per HelmRelease, spokes in parallel\n")
	fmt.Printf("                                        %6.2fs  peak RSS %.0f MiB (largest process), %d objects reported changed  → (a) is %.2f× (target ≤ 0.2×, ≤ 200 MiB)\n\n",
		baseWall.Seconds()/runs, float64(baseRSS)/1024, baseChanged, float64(cliWall)/float64(baseWall))
}
