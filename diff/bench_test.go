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
	bin := filepath.Join(b.TempDir(), "kubectl-c5c3")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/c5c3/kubectl-c5c3/cmd/kubectl-c5c3").CombinedOutput(); err != nil {
		b.Fatalf("building the plugin: %v\n%s", err, out)
	}
	manifests := buildManifests(b, f, s)
	total := 0
	for _, objs := range manifests {
		total += len(objs)
	}

	var cliWall, verifyWall, floorWall, kubectlWall time.Duration
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
	fmt.Printf("\nkubectl c5c3 diff on %d objects (%d drifted), concurrency %d per cluster:\n", total, drifted, diff.DefaultConcurrency)
	fmt.Printf("  (a) kubectl c5c3 diff        %6.2fs  peak RSS %.0f MiB  %.2f requests/object\n", cliWall.Seconds()/n, float64(rssKiB)/1024, reqPerObj)
	fmt.Printf("  (a') with --verify-unchanged %5.2fs  (every object dry-run on the server)\n", verifyWall.Seconds()/n)
	fmt.Printf("  (b) floor: raw SSA dry-runs  %6.2fs  → (a) is %.2f× the floor (target ≤ 1.5×), (a') %.2f×\n", floorWall.Seconds()/n, float64(cliWall)/float64(floorWall), float64(verifyWall)/float64(floorWall))
	fmt.Printf("  (c) kubectl diff --server-side %4.2fs  → (a) is %.2f× kubectl (target < 1×)\n\n", kubectlWall.Seconds()/n, float64(cliWall)/float64(kubectlWall))
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
