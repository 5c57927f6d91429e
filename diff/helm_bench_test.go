package diff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"sigs.k8s.io/yaml"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/helmname"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// benchHelmReleases is the number of HelmReleases of the chart-heavy
// fleet (BenchmarkDiffHelmFleet), spread over the spokes.
var benchHelmReleases = flag.Int("bench.helmreleases", 20, "HelmReleases of the chart-heavy bench fleet")

const (
	// benchChart is the chart of BenchmarkDiffHelmFleet, in
	// testdata/charts/platform-1.0.0: 6 components of 5 objects each.
	benchChart, benchChartVersion = "platform", "1.0.0"
	benchChartObjects             = 30
	// benchHelmDriftPerRelease is how many of a release's 30 objects the
	// checkout's values change (benchHelmDrift): 10 %.
	benchHelmDriftPerRelease = 3
)

// generateHelmRepo writes a gitops tree of n HelmReleases of the platform
// chart, spread round-robin over the spokes (each through its kubeconfig
// Secret, into its own target namespace "hbench-NN"), applied to the hub
// by the Kustomization bench-helm; the Kustomization flux-system of
// ./clusters/management applies it and the HelmRepository bench-charts
// (whose public URL LoadSample points at the local chart repository).
func generateHelmRepo(tb testing.TB, n int) string {
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
	write("clusters/management/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - sources.yaml\n  - bench-helm.yaml\n")
	write("clusters/management/sources.yaml", fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: bench-charts
  namespace: flux-system
spec:
  interval: 10m
  url: %s
`, testfleet.SampleChartURLs[len(testfleet.SampleChartURLs)-1]))
	write("clusters/management/bench-helm.yaml", `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: bench-helm
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/bench-helm
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`)
	var res []string
	for i := 1; i <= n; i++ {
		spoke := testfleet.SpokeNames[(i-1)%len(testfleet.SpokeNames)]
		name := fmt.Sprintf("platform-%02d", i)
		// The values repeat the chart's defaults of the settings
		// benchHelmDrift changes, so that the drift is a text edit.
		write("apps/bench-helm/"+name+".yaml", fmt.Sprintf(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 30m
  targetNamespace: hbench-%02d
  storageNamespace: hbench-%02d
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
  values:
    region: %s
    components:
      api:
        replicas: 2
      worker:
        logLevel: info
      scheduler:
        servicePort: 8082
`, name, i, i, spoke, benchChart, benchChartVersion, spoke))
		res = append(res, "  - "+name+".yaml")
	}
	write("apps/bench-helm/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"+strings.Join(res, "\n")+"\n")
	return dir
}

// benchHelmDrift changes, in the checkout, the values of every HelmRelease
// of generateHelmRepo so that 3 of its 30 rendered objects differ from the
// installed release (the api Deployment's replicas, the worker ConfigMap's
// log level, the scheduler Service's port): 10 % of the objects. It
// returns the HelmRelease files.
func benchHelmDrift(tb testing.TB, repo string) []string {
	files, _ := filepath.Glob(filepath.Join(repo, "apps", "bench-helm", "platform-*.yaml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		s := string(b)
		for old, new := range map[string]string{"replicas: 2\n": "replicas: 4\n", "logLevel: info\n": "logLevel: debug\n", "servicePort: 8082\n": "servicePort: 9082\n"} {
			if !strings.Contains(s, old) {
				tb.Fatalf("%s has no %q to drift", p, old)
			}
			s = strings.Replace(s, old, new, 1)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	sort.Strings(files)
	return files
}

// BenchmarkDiffHelmFleet is the chart-heavy case: -bench.helmreleases (20)
// HelmReleases of a 30-object chart over the 3 spokes, installed for real
// with the Helm SDK, 10 % of the rendered objects changed by values edits
// in the checkout. It compares, in one run: (a) `kubectl c5c3 diff` (the
// real binary, built by the benchmark like the others, with a cold chart
// cache: wall time and peak RSS) and (b) the manual way, per HelmRelease
// `helm template` (the helm CLI of `make helm-cli`, the Helm version of
// go.mod, fetching the chart from the same repository) piped into
// `kubectl diff --server-side` on its spoke, the spokes in parallel and
// each spoke's releases one after the other. The baseline tools are built
// before the run and their build is not in the figures.
func BenchmarkDiffHelmFleet(b *testing.B) {
	f := testfleet.Get(b)
	ctx := context.Background()
	n := *benchHelmReleases
	src := generateHelmRepo(b, n)
	setup := time.Now()
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(b), Source: src, NoFluxReport: true, InstallCharts: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("installed %d releases of %s-%s in %s", n, benchChart, benchChartVersion, time.Since(setup).Round(time.Millisecond))
	files := benchHelmDrift(b, s.RepoDir)
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
	wantDrifted := n * benchHelmDriftPerRelease

	m := measureHelmDiff(b, bin, s, f, helm, chartRepo, releases, n, wantDrifted)
	cliWall, baseWall, cliRSS, baseRSS, baseChanged := m.cliWall, m.baseWall, m.cliRSS, m.baseRSS, m.baseChanged
	runs := float64(b.N)
	total := n * benchChartObjects
	b.ReportMetric(float64(n), "helmreleases")
	b.ReportMetric(float64(total), "objects")
	b.ReportMetric(cliWall.Seconds()/runs, "s-c5c3")
	b.ReportMetric(baseWall.Seconds()/runs, "s-helm+kubectl")
	b.ReportMetric(float64(cliWall)/float64(baseWall), "x-helm+kubectl")
	b.ReportMetric(float64(cliRSS)/1024, "MiB-peak-rss")
	b.ReportMetric(float64(baseRSS)/1024, "MiB-peak-rss-baseline")
	fmt.Printf("\nkubectl c5c3 diff of %d HelmReleases (%s-%s, %d objects each) over %d spokes: %d rendered objects, %d drifted:\n",
		n, benchChart, benchChartVersion, benchChartObjects, len(testfleet.SpokeNames), total, wantDrifted)
	fmt.Printf("  (a) kubectl c5c3 diff                 %6.2fs  peak RSS %.0f MiB  (cold chart cache; the plugin's build before the run: %.2fs)\n",
		cliWall.Seconds()/runs, float64(cliRSS)/1024, pluginBuild.Seconds())
	fmt.Printf("  (b) helm template | kubectl diff --server-side per HelmRelease, spokes in parallel\n")
	fmt.Printf("                                        %6.2fs  peak RSS %.0f MiB (largest process), %d objects reported changed  → (a) is %.2f× (target ≤ 0.5×)\n\n",
		baseWall.Seconds()/runs, float64(baseRSS)/1024, baseChanged, float64(cliWall)/float64(baseWall))
}

// benchRelease is one HelmRelease of the checkout as the manual baseline
// needs it: release name and namespace, its values and its spoke.
type benchRelease struct {
	name, namespace, spoke string
	chart, version         string
	values                 []byte
}

// benchReleases reads the HelmReleases of the checkout (after the drift).
func benchReleases(tb testing.TB, files []string) []benchRelease {
	var out []benchRelease
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		hr := &helmv2.HelmRelease{}
		if err := yaml.Unmarshal(b, hr); err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		if hr.Spec.KubeConfig == nil || hr.Spec.Chart == nil {
			tb.Fatalf("%s: no kubeConfig or chart", p)
		}
		var values []byte
		if hr.Spec.Values != nil {
			values = hr.Spec.Values.Raw
		}
		out = append(out, benchRelease{
			name: helmname.ReleaseName(hr), namespace: hr.GetReleaseNamespace(),
			spoke: strings.TrimSuffix(hr.Spec.KubeConfig.SecretRef.Name, "-kubeconfig"),
			chart: hr.Spec.Chart.Spec.Chart, version: hr.Spec.Chart.Spec.Version,
			values: values,
		})
	}
	return out
}

// checkHelmDiff checks the plugin's JSON: every HelmRelease rendered
// without error, and exactly drifted rendered objects drifted, none
// created or deleted.
func checkHelmDiff(tb testing.TB, out []byte, releases, drifted int) {
	var r diff.Result
	if err := json.Unmarshal(out, &r); err != nil {
		tb.Fatalf("diff -o json: %v", err)
	}
	if len(r.HelmReleases) != releases {
		tb.Fatalf("diff rendered %d HelmReleases, want %d", len(r.HelmReleases), releases)
	}
	for _, h := range r.HelmReleases {
		if h.Error != "" {
			tb.Fatalf("diff: %s", h.Error)
		}
	}
	got := map[diff.Action]int{}
	for _, o := range r.Objects {
		if o.HelmRelease != "" {
			got[o.Action]++
		}
	}
	if got[diff.ActionDrifted] != drifted || len(got) != 1 {
		tb.Fatalf("diff of the rendered objects: %v, want %d drifted only", got, drifted)
	}
}

// helmTemplateDiff is the manual way: for each release, `helm template`
// with its values, from the chart repository (a fresh helm cache for the
// run, shared by its releases), piped into `kubectl diff --server-side`
// on its spoke; one goroutine per spoke, its releases in sequence. It
// returns the objects kubectl found changed and the largest peak RSS (KiB)
// of the processes.
func helmTemplateDiff(tb testing.TB, f *testfleet.Fleet, helm, repoURL string, releases []benchRelease) (int, int64) {
	dir := tb.TempDir()
	helmEnv := append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(dir, "cache"), "HELM_CONFIG_HOME="+filepath.Join(dir, "config"), "HELM_DATA_HOME="+filepath.Join(dir, "data"))
	kubectlEnv := append(os.Environ(), "KUBECTL_EXTERNAL_DIFF=diff -u -N")
	bySpoke := map[string][]benchRelease{}
	for _, r := range releases {
		bySpoke[r.spoke] = append(bySpoke[r.spoke], r)
	}
	var mu sync.Mutex
	var changed int
	var rss int64
	var errs []error
	var wg sync.WaitGroup
	for spoke, rs := range bySpoke {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			for _, r := range rs {
				values := filepath.Join(dir, r.name+".values.yaml")
				if err := os.WriteFile(values, r.values, 0o644); err != nil {
					fail(err)
					return
				}
				tmpl, tmplRSS := rssCommand(tb, helm, "template", r.name, r.chart, "--repo", repoURL, "--version", r.version,
					"--namespace", r.namespace, "-f", values)
				tmpl.Env = helmEnv
				var manifests, errb bytes.Buffer
				tmpl.Stdout, tmpl.Stderr = &manifests, &errb
				if err := tmpl.Run(); err != nil {
					fail(fmt.Errorf("helm template %s: %v\n%s", r.name, err, errb.String()))
					return
				}
				// As helm-controller's field manager, so that a changed
				// value replaces the installed one (as another manager a
				// changed Service port would be added beside the old).
				kd, kdRSS := rssCommand(tb, "kubectl", "diff", "--server-side", "--force-conflicts", "--field-manager", helmrender.FieldManager, "-n", r.namespace,
					"--kubeconfig", kubeconfigFile(f, spoke), "-f", "-")
				kd.Env = kubectlEnv
				var out bytes.Buffer
				errb.Reset()
				kd.Stdin, kd.Stdout, kd.Stderr = &manifests, &out, &errb
				err := kd.Run()
				if kd.ProcessState == nil || kd.ProcessState.ExitCode() > 1 {
					fail(fmt.Errorf("kubectl diff of %s on %s: %v\n%s", r.name, spoke, err, errb.String()))
					return
				}
				n := 0
				for _, line := range strings.Split(out.String(), "\n") {
					if strings.HasPrefix(line, "+++ ") {
						n++
					}
				}
				mu.Lock()
				changed += n
				rss = max(rss, tmplRSS(), kdRSS())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		tb.Fatal(err)
	}
	return changed, rss
}

// rssCommand is exec.Command(name, args...) run under GNU time when
// /usr/bin/time is there, and a function giving the finished command's
// peak RSS in KiB. The rusage of a child of this test process is not its
// own: Linux carries the parent's peak RSS over to a child at exec (the
// test process's ~160 MiB), so only a process forked by a small parent
// such as time reports its own. Without time, the rusage is that upper
// bound.
func rssCommand(tb testing.TB, name string, args ...string) (*exec.Cmd, func() int64) {
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		cmd := exec.Command(name, args...)
		return cmd, func() int64 {
			if cmd.ProcessState == nil {
				return 0
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				return ru.Maxrss
			}
			return 0
		}
	}
	f, err := os.CreateTemp(tb.TempDir(), "rss-")
	if err != nil {
		tb.Fatal(err)
	}
	f.Close()
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", f.Name(), name}, args...)...)
	return cmd, func() int64 {
		b, _ := os.ReadFile(f.Name())
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var kib int64
		fmt.Sscan(lines[len(lines)-1], &kib)
		return kib
	}
}

// helmCLI returns the helm CLI `make helm-cli` builds into $HELM_CLI_BIN
// (default bin/helm); a missing one fails the benchmark.
func helmCLI(b *testing.B) string { return baselineCLI(b, "HELM_CLI_BIN", "helm", "helm-cli") }

// helmDiffRuns is what measureHelmDiff measured over b's iterations.
type helmDiffRuns struct {
	cliWall, baseWall time.Duration
	// cliCPU is the plugin's user + system CPU time (its process's, with
	// the time that measures its peak RSS).
	cliCPU          time.Duration
	cliRSS, baseRSS int64
	baseChanged     int
}

// measureHelmDiff runs, per iteration, (a) the plugin's diff of sample s
// with an empty chart cache, checked for n HelmReleases and wantDrifted
// drifted objects, and (b) helm template + kubectl diff --server-side per
// release, and sums their wall time and peak RSS.
func measureHelmDiff(b *testing.B, bin string, s *testfleet.Sample, f *testfleet.Fleet, helm, chartRepo string, releases []benchRelease, n, wantDrifted int) helmDiffRuns {
	var cliWall, baseWall, cliCPU time.Duration
	var cliRSS, baseRSS int64
	var baseChanged int
	b.ResetTimer()
	for b.Loop() {
		// (a) the plugin, as users run it, with an empty chart cache.
		start := time.Now()
		cmd, rssOf := rssCommand(b, bin, "diff", "--repo", s.RepoDir, "-n", s.Namespace, "--kubeconfig", f.HubKubeconfig, "-o", "json")
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+b.TempDir())
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		cliWall += time.Since(start)
		if code := cmd.ProcessState.ExitCode(); code != 1 {
			b.Fatalf("diff exit %d (want 1: changes): %v\n%s", code, err, errb.String())
		}
		cliRSS = max(cliRSS, rssOf())
		cliCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		checkHelmDiff(b, out.Bytes(), n, wantDrifted)

		// (b) helm template + kubectl diff --server-side per HelmRelease.
		start = time.Now()
		drifted, rss := helmTemplateDiff(b, f, helm, chartRepo, releases)
		baseWall += time.Since(start)
		baseRSS = max(baseRSS, rss)
		// kubectl finds more: `helm template` leaves out what Helm's
		// install and helm-controller add to every object (managed-by
		// label, release annotations, origin labels), which the dry run
		// as helm-controller removes.
		if drifted < wantDrifted {
			b.Fatalf("helm template + kubectl diff found %d changed objects, want at least %d", drifted, wantDrifted)
		}
		baseChanged = drifted
	}
	return helmDiffRuns{cliWall: cliWall, baseWall: baseWall, cliCPU: cliCPU, cliRSS: cliRSS, baseRSS: baseRSS, baseChanged: baseChanged}
}
