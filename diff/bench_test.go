package diff_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

func TestMain(m *testing.M) { os.Exit(testfleet.Run(m)) }

var benchClusters = []string{"management", "control-plane", "hypervisor", "storage"}

// generateRepo writes a gitops tree with one Kustomization per cluster and
// perCluster objects in each path (ConfigMaps, Services, Deployments).
func generateRepo(tb testing.TB, perCluster int) string {
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
	var mgmt []string
	for _, c := range benchClusters {
		kc := ""
		if c != "management" {
			kc = "  kubeConfig:\n    secretRef:\n      name: " + c + "-kubeconfig\n"
		}
		write("clusters/management/bench-"+c+".yaml", fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: bench-%s
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/bench-%s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
%s`, c, c, kc))
		mgmt = append(mgmt, "  - bench-"+c+".yaml")
		var res []string
		ns := "bench-" + c
		write("apps/"+ns+"/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n")
		res = append(res, "  - namespace.yaml")
		for i := 1; i < perCluster; i++ {
			name := fmt.Sprintf("obj-%04d", i)
			var body string
			switch i % 5 {
			case 0:
				body = fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: %s}\n  template:\n    metadata:\n      labels: {app: %s}\n    spec:\n      containers:\n      - name: app\n        image: ghcr.io/c5c3/app:v1\n        ports:\n        - containerPort: 8080\n", name, ns, name, name)
			case 1:
				body = fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  selector: {app: %s}\n  ports:\n  - port: 80\n    targetPort: 8080\n", name, ns, name)
			default:
				body = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: \"v1\"\n  config.yaml: |\n    key: %s\n    replicas: 3\n", name, ns, name)
			}
			write("apps/"+ns+"/"+name+".yaml", body)
			res = append(res, "  - "+name+".yaml")
		}
		write("apps/"+ns+"/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"+strings.Join(res, "\n")+"\n")
	}
	write("clusters/management/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"+strings.Join(mgmt, "\n")+"\n")
	return dir
}

// driftTenPercent changes every tenth ConfigMap in the checkout.
func driftTenPercent(tb testing.TB, repo string) int {
	n := 0
	for _, c := range benchClusters {
		files, _ := filepath.Glob(filepath.Join(repo, "apps", "bench-"+c, "obj-*.yaml"))
		for i, p := range files {
			if i%10 != 0 {
				continue
			}
			b, _ := os.ReadFile(p)
			if !strings.Contains(string(b), "kind: ConfigMap") {
				b = []byte(strings.Replace(string(b), "replicas: 1", "replicas: 2", 1))
				b = []byte(strings.Replace(string(b), "port: 80\n", "port: 81\n", 1))
			} else {
				b = []byte(strings.Replace(string(b), `value: "v1"`, `value: "v2"`, 1))
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				tb.Fatal(err)
			}
			n++
		}
	}
	return n
}

// BenchmarkDiffFleet compares, on ~2,000 objects over hub + 3 spokes with
// 10% drifted, in one run: (a) `kubectl c5c3 diff` (the real binary: wall
// time and peak RSS), (b) the floor — the same objects as raw concurrent SSA
// dry-run PATCHes at the same concurrency — and (c) `kubectl diff
// --server-side` over the same manifests, one kubectl per cluster in
// parallel. It prints the ratios and reports them as metrics.
func BenchmarkDiffFleet(b *testing.B) {
	f := testfleet.Get(b)
	ctx := context.Background()
	const perCluster = 500
	src := generateRepo(b, perCluster)
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(b), Source: src, NoFluxReport: true})
	if err != nil {
		b.Fatal(err)
	}
	drifted := driftTenPercent(b, s.RepoDir)
	bin := buildPlugin(b)
	flux := fluxCLI(b)
	buildStart := time.Now()
	manifests := buildManifests(b, f, s)
	buildTime := time.Since(buildStart)
	total := 0
	for _, objs := range manifests {
		total += len(objs)
	}

	var cliWall, verifyWall, floorWall, kubectlWall, selWall, fluxWall time.Duration
	hubLocal := []struct{ name, path string }{{"flux-system", "./clusters/management"}, {"bench-management", "./apps/bench-management"}}
	var rssKiB int64
	var reqPerObj float64
	b.ResetTimer()
	for b.Loop() {
		// (a) the plugin, as users run it.
		start := time.Now()
		cmd := exec.Command(bin, "diff", "--helm=false", "--repo", s.RepoDir, "-n", s.Namespace, "--kubeconfig", f.HubKubeconfig, "-o", "json", "--concurrency", fmt.Sprint(diff.DefaultConcurrency))
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		cliWall += time.Since(start)
		if code := cmd.ProcessState.ExitCode(); code != 1 {
			b.Fatalf("diff exit %d (want 1: changes): %v\n%s", code, err, errb.String())
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > rssKiB {
			rssKiB = ru.Maxrss
		}
		if got := strings.Count(out.String(), `"action": "drifted"`); got != drifted {
			b.Fatalf("diff found %d drifted objects, want %d", got, drifted)
		}

		// (a') the same with --verify-unchanged: every object to the server.
		start = time.Now()
		vcmd := exec.Command(bin, "diff", "--helm=false", "--repo", s.RepoDir, "-n", s.Namespace, "--kubeconfig", f.HubKubeconfig, "-o", "json", "--verify-unchanged")
		if err := vcmd.Run(); vcmd.ProcessState.ExitCode() != 1 {
			b.Fatalf("diff --verify-unchanged: %v", err)
		}
		verifyWall += time.Since(start)

		// (b) the floor.
		start = time.Now()
		floor(b, f, manifests)
		floorWall += time.Since(start)

		// (c) kubectl diff --server-side, one process per cluster.
		start = time.Now()
		kubectlDiff(b, f, manifests)
		kubectlWall += time.Since(start)

		// (d) the hub-local Kustomizations selected together, against
		// `flux diff kustomization` run for each of them.
		start = time.Now()
		args := []string{"diff", "--repo", s.RepoDir, "-n", s.Namespace, "--kubeconfig", f.HubKubeconfig, "-o", "json"}
		for _, k := range hubLocal {
			args = append(args, s.Namespace+"/"+k.name)
		}
		if scmd := exec.Command(bin, args...); scmd.Run() != nil && scmd.ProcessState.ExitCode() != 1 {
			b.Fatalf("diff of the hub-local Kustomizations failed")
		}
		selWall += time.Since(start)
		for _, k := range hubLocal {
			fluxWall += fluxDiff(b, flux, f.HubKubeconfig, s, k.name, k.path)
		}

		reqPerObj = countRequests(b, f, s, total)
	}
	n := float64(b.N)
	b.ReportMetric(float64(total), "objects")
	b.ReportMetric(cliWall.Seconds()/n, "s-c5c3")
	b.ReportMetric(floorWall.Seconds()/n, "s-floor")
	b.ReportMetric(kubectlWall.Seconds()/n, "s-kubectl")
	b.ReportMetric(float64(cliWall)/float64(floorWall), "x-floor")
	b.ReportMetric(float64(verifyWall)/float64(floorWall), "x-floor-verify")
	b.ReportMetric(float64(cliWall)/float64(kubectlWall), "x-kubectl")
	b.ReportMetric(float64(rssKiB)/1024, "MiB-peak-rss")
	b.ReportMetric(reqPerObj, "requests/object")
	floorBuilt := floorWall + time.Duration(n)*buildTime
	b.ReportMetric(float64(cliWall)/float64(floorBuilt), "x-floor+build")
	b.ReportMetric(float64(selWall)/float64(fluxWall), "x-flux-selected")
	fmt.Printf("\nkubectl c5c3 diff on %d objects (%d drifted), concurrency %d per cluster:\n", total, drifted, diff.DefaultConcurrency)
	fmt.Printf("  (a) kubectl c5c3 diff        %6.2fs  peak RSS %.0f MiB (target < 200)  %.2f requests/object\n", cliWall.Seconds()/n, float64(rssKiB)/1024, reqPerObj)
	fmt.Printf("  (a') with --verify-unchanged %5.2fs  (every object dry-run on the server)\n", verifyWall.Seconds()/n)
	fmt.Printf("  (b) floor: raw SSA dry-runs  %6.2fs  → (a) is %.2f× the floor, (a') %.2f×\n", floorWall.Seconds()/n, float64(cliWall)/float64(floorWall), float64(verifyWall)/float64(floorWall))
	fmt.Printf("  (b') floor + the builds      %6.2fs  → (a) is %.2f× (target ≤ 0.5×)\n", floorBuilt.Seconds()/n, float64(cliWall)/float64(floorBuilt))
	fmt.Printf("  (c) kubectl diff --server-side %4.2fs  → (a) is %.2f× kubectl (target < 1×)\n", kubectlWall.Seconds()/n, float64(cliWall)/float64(kubectlWall))
	fmt.Printf("  (d) the %d hub-local Kustomizations selected %5.2fs, flux diff kustomization of each, summed %.2fs  → %.2f× flux (target ≤ 0.2×)\n\n",
		len(hubLocal), selWall.Seconds()/n, fluxWall.Seconds()/n, float64(selWall)/float64(fluxWall))
}

// BenchmarkDiffSelectedSmall diffs Kustomizations of the sample fleet (107
// objects, hub + 3 spokes) chosen by argument, against `flux diff
// kustomization` (flux CLI v2.9) on the same Kustomizations in the same
// run: one hub-local Kustomization of 9 objects, then the hub-local ones
// together.
func BenchmarkDiffSelectedSmall(b *testing.B) {
	f := testfleet.Get(b)
	s, err := f.LoadSample(context.Background(), testfleet.SampleOptions{Namespace: testfleet.Namespace(b)})
	if err != nil {
		b.Fatal(err)
	}
	bin := buildPlugin(b)
	flux := fluxCLI(b)
	hubLocal := []struct{ name, path string }{{"management-apps", "./apps/management"}, {"infrastructure-sources", "./infrastructure/sources"}, {"flux-system", "./clusters/management"}}
	c5c3 := func(names ...string) time.Duration {
		// --helm=false: flux diff kustomization cannot render HelmReleases
		// (management-apps has three), so the comparison is of the
		// Kustomization objects only.
		args := []string{"diff", "--helm=false", "--repo", s.RepoDir, "-n", s.Namespace, "--flux-namespace", s.Namespace, "--kubeconfig", f.HubKubeconfig, "-o", "json"}
		for _, n := range names {
			args = append(args, s.Namespace+"/"+n)
		}
		start := time.Now()
		cmd := exec.Command(bin, args...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() != 1 {
			b.Fatalf("kubectl c5c3 %v: %v\n%s", args, err, errb.String())
		}
		return time.Since(start)
	}
	var oneWall, oneFlux, allWall, allFlux time.Duration
	b.ResetTimer()
	for b.Loop() {
		oneWall += c5c3(hubLocal[0].name)
		oneFlux += fluxDiff(b, flux, f.HubKubeconfig, s, hubLocal[0].name, hubLocal[0].path)
		var names []string
		for _, k := range hubLocal {
			names = append(names, k.name)
			allFlux += fluxDiff(b, flux, f.HubKubeconfig, s, k.name, k.path)
		}
		allWall += c5c3(names...)
	}
	n := float64(b.N)
	b.ReportMetric(oneWall.Seconds()/n, "s-c5c3-one")
	b.ReportMetric(float64(oneWall)/float64(oneFlux), "x-flux-one")
	b.ReportMetric(float64(allWall)/float64(allFlux), "x-flux-selected")
	fmt.Printf("\nkubectl c5c3 diff of selected hub-local Kustomizations on the sample fleet:\n")
	fmt.Printf("  one (%s, 9 objects)  %.2fs (target ≤ 0.3s); flux diff kustomization %.2fs  → %.2f× flux (target ≤ 0.6×)\n",
		hubLocal[0].name, oneWall.Seconds()/n, oneFlux.Seconds()/n, float64(oneWall)/float64(oneFlux))
	fmt.Printf("  %d together           %.2fs; flux diff kustomization of each, summed %.2fs  → %.2f× flux (target ≤ 0.2×)\n\n",
		len(hubLocal), allWall.Seconds()/n, allFlux.Seconds()/n, float64(allWall)/float64(allFlux))
}

// buildPlugin builds the plugin binary for the benchmark.
func buildPlugin(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "kubectl-c5c3")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/c5c3/kubectl-c5c3/cmd/kubectl-c5c3").CombinedOutput(); err != nil {
		b.Fatalf("building the plugin: %v\n%s", err, out)
	}
	return bin
}

// fluxCLI returns the flux CLI `make flux-cli` builds into $FLUX_BIN
// (default bin/flux); a missing one fails the benchmark.
func fluxCLI(b *testing.B) string {
	dir := os.Getenv("FLUX_BIN")
	if dir == "" {
		dir = filepath.Join("..", "bin", "flux")
	}
	p, err := filepath.Abs(filepath.Join(dir, "flux"))
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		b.Fatalf("the flux CLI baseline is missing (%v): run make flux-cli", err)
	}
	return p
}

// fluxDiff runs `flux diff kustomization` on one Kustomization of the
// sample and returns its wall time.
func fluxDiff(b *testing.B, flux, kubeconfig string, s *testfleet.Sample, name, path string) time.Duration {
	start := time.Now()
	cmd := exec.Command(flux, "diff", "kustomization", name, "--path", filepath.Join(s.RepoDir, path), "-n", s.Namespace, "--kubeconfig", kubeconfig)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &errb
	err := cmd.Run()
	d := time.Since(start)
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() > 1 {
		b.Fatalf("flux diff kustomization %s: %v\n%s", name, err, errb.String())
	}
	return d
}

// buildManifests builds each bench Kustomization from the checkout, per
// cluster, with the plugin's own builder (what kustomize-controller applies).
func buildManifests(tb testing.TB, f *testfleet.Fleet, s *testfleet.Sample) map[string][]*unstructured.Unstructured {
	ctx := context.Background()
	bld, err := diff.NewBuilder(s.RepoDir, f.Hub.Client, false)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]*unstructured.Unstructured{}
	for _, c := range benchClusters {
		ks := &kustomizev1.Kustomization{}
		if err := f.Hub.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: "bench-" + c}, ks); err != nil {
			tb.Fatal(err)
		}
		objs, err := bld.Build(ctx, ks)
		if err != nil {
			tb.Fatal(err)
		}
		out[c] = objs
	}
	return out
}

func clusterConfig(f *testfleet.Fleet, name string) *rest.Config {
	if name == "management" {
		return f.Hub.Config
	}
	return f.Spokes[name].Config
}

func kubeconfigFile(f *testfleet.Fleet, name string) string {
	if name == "management" {
		return f.HubKubeconfig
	}
	return filepath.Join(f.Dir, name+".kubeconfig")
}

// floor sends every object as an SSA dry-run PATCH, clusters in parallel,
// diff.DefaultConcurrency in flight per cluster, with fresh clients.
func floor(tb testing.TB, f *testfleet.Fleet, manifests map[string][]*unstructured.Unstructured) {
	var wg sync.WaitGroup
	var failed atomic.Int64
	for name, objs := range manifests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kc, err := kube.NewClient(clusterConfig(f, name))
			if err != nil {
				failed.Add(1)
				return
			}
			sem := make(chan struct{}, diff.DefaultConcurrency)
			var inner sync.WaitGroup
			for _, o := range objs {
				inner.Add(1)
				sem <- struct{}{}
				go func() {
					defer inner.Done()
					defer func() { <-sem }()
					obj := o.DeepCopy()
					if err := kc.Client.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(obj), client.DryRunAll, client.ForceOwnership, client.FieldOwner("kustomize-controller")); err != nil {
						failed.Add(1)
					}
				}()
			}
			inner.Wait()
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		tb.Fatalf("%d floor dry-runs failed", failed.Load())
	}
}

// kubectlDiff runs `kubectl diff --server-side` per cluster, in parallel.
func kubectlDiff(tb testing.TB, f *testfleet.Fleet, manifests map[string][]*unstructured.Unstructured) {
	dir := tb.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, len(manifests))
	for name, objs := range manifests {
		y, err := ssautil.ObjectsToYAML(objs)
		if err != nil {
			tb.Fatal(err)
		}
		file := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
			tb.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("kubectl", "diff", "--server-side", "--force-conflicts", "--field-manager", "kustomize-controller",
				"--kubeconfig", kubeconfigFile(f, name), "-f", file)
			cmd.Env = append(os.Environ(), "KUBECTL_EXTERNAL_DIFF=diff -u")
			var errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = nil, &errb
			err := cmd.Run()
			if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() > 1 {
				errs <- fmt.Errorf("kubectl diff on %s: %v %s", name, err, errb.String())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

// countRequests runs the engine in-process with every request counted and
// returns requests per object.
func countRequests(tb testing.TB, f *testfleet.Fleet, s *testfleet.Sample, objects int) float64 {
	ctx := context.Background()
	c := testfleet.NewRequestCounter()
	fl, err := f.DiscoverCounted(ctx, s.Namespace, c)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := diff.Run(ctx, fl, diff.Options{RepoDir: s.RepoDir, NoHelm: true}); err != nil {
		tb.Fatal(err)
	}
	return float64(c.Total()) / float64(objects)
}
