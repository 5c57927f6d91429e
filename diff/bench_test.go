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
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/versions"
)

func TestMain(m *testing.M) { os.Exit(testfleet.Run(m)) }

var benchClusters = []string{"management", "control-plane", "hypervisor", "storage"}

// benchObjects is the total number of objects of the generated fleets
// (BenchmarkDiffFleet, BenchmarkBuildFleet, BenchmarkDiffBase): smaller
// for a quick run, e.g. -bench.objects=200.
var benchObjects = flag.Int("bench.objects", 2000, "objects of the generated bench fleets")

// benchEntry is one Kustomization of a generated tree: the cluster it
// applies to (the hub for "management", else through the kubeconfig Secret
// "<cluster>-kubeconfig") and its name, which is also its path
// (./apps/<name>) and the namespace of its objects.
type benchEntry struct{ cluster, name string }

// generateRepo writes a gitops tree with one Kustomization per cluster and
// perCluster objects in each path (ConfigMaps, Services, Deployments).
func generateRepo(tb testing.TB, perCluster int) string {
	var entries []benchEntry
	for _, c := range benchClusters {
		entries = append(entries, benchEntry{cluster: c, name: "bench-" + c})
	}
	return generateEntries(tb, entries, perCluster)
}

// generateEntries writes a gitops tree with one Kustomization per entry,
// applied by the hub Kustomization of ./clusters/management, and perEntry
// objects in each path (a Namespace, then ConfigMaps, Services,
// Deployments).
func generateEntries(tb testing.TB, entries []benchEntry, perEntry int) string {
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
	for _, e := range entries {
		kc := ""
		if e.cluster != "management" {
			kc = "  kubeConfig:\n    secretRef:\n      name: " + e.cluster + "-kubeconfig\n"
		}
		ns := e.name
		write("clusters/management/"+ns+".yaml", fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/%s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
%s`, ns, ns, kc))
		mgmt = append(mgmt, "  - "+ns+".yaml")
		var res []string
		write("apps/"+ns+"/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n")
		res = append(res, "  - namespace.yaml")
		for i := 1; i < perEntry; i++ {
			name := fmt.Sprintf("obj-%04d", i)
			write("apps/"+ns+"/"+name+".yaml", benchObject(ns, name, i))
			res = append(res, "  - "+name+".yaml")
		}
		write("apps/"+ns+"/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"+strings.Join(res, "\n")+"\n")
	}
	write("clusters/management/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"+strings.Join(mgmt, "\n")+"\n")
	return dir
}

// benchObject is the i-th generated object of namespace ns: a Deployment,
// a Service or (three in five) a ConfigMap.
func benchObject(ns, name string, i int) string {
	switch i % 5 {
	case 0:
		return fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: %s}\n  template:\n    metadata:\n      labels: {app: %s}\n    spec:\n      containers:\n      - name: app\n        image: "+benchImage+":v1\n        ports:\n        - containerPort: 8080\n", name, ns, name, name)
	case 1:
		return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  selector: {app: %s}\n  ports:\n  - port: 80\n    targetPort: 8080\n", name, ns, name)
	}
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: \"v1\"\n  config.yaml: |\n    key: %s\n    replicas: 3\n", name, ns, name)
}

// driftTenPercent changes every tenth object of each generated path in the
// checkout (the ConfigMap's value, the Deployment's replicas, the Service's
// port).
func driftTenPercent(tb testing.TB, repo string) int {
	n := 0
	dirs, _ := filepath.Glob(filepath.Join(repo, "apps", "*"))
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "obj-*.yaml"))
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
	src := generateRepo(b, *benchObjects/len(benchClusters))
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
		cmd, peakRSS := rssCommand(b, bin, "diff", "--helm=false", "--repo", s.RepoDir, "-n", s.Namespace, "--kubeconfig", f.HubKubeconfig, "-o", "json", "--concurrency", fmt.Sprint(diff.DefaultConcurrency))
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		cliWall += time.Since(start)
		if code := cmd.ProcessState.ExitCode(); code != 1 {
			b.Fatalf("diff exit %d (want 1: changes): %v\n%s", code, err, errb.String())
		}
		if kib := peakRSS(); kib > rssKiB {
			rssKiB = kib
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

// benchEntries are the spoke entry counts BenchmarkDiffClusters compares,
// the smaller first.
var benchEntries = flag.String("bench.entries", "4,100", "spoke entries of BenchmarkDiffClusters: the smaller and the larger count, comma-separated")

// benchLoadConcurrency is how many objects the benchmarks' fleets are
// loaded with at a time (testfleet.SampleOptions.ApplyConcurrency).
const benchLoadConcurrency = 32

// benchImage is the image of the generated Deployments, pinned by the
// kustomization.yaml of each namespace of generateLayout: a component of
// `kubectl c5c3 versions`.
const benchImage = "ghcr.io/c5c3/app"

// generateLayout writes a gitops tree over namespaces bench-001 ...
// bench-<namespaces>, perNamespace objects each (a Namespace, then
// ConfigMaps, Services, Deployments; apps/<namespace>), and one
// Kustomization per entry — ./groups/<entry>, made of its namespaces'
// paths, whose kustomization.yaml pins benchImage — applied through the
// entry's kubeconfig Secret by the hub Kustomization of
// ./clusters/management; c5c3.yaml declares them the environment "fleet".
// Every layout of the same namespaces makes the same objects: only their
// owner labels (the Kustomization applying them) differ.
func generateLayout(tb testing.TB, entries []benchEntry, groups [][]string, perNamespace int) string {
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
	for i, e := range entries {
		write("clusters/management/"+e.name+".yaml", fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 10m
  path: ./groups/%s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  kubeConfig:
    secretRef:
      name: %s-kubeconfig
`, e.name, e.name, e.cluster))
		mgmt = append(mgmt, "  - "+e.name+".yaml")
		var res []string
		for _, ns := range groups[i] {
			res = append(res, "  - ../../apps/"+ns)
			writeNamespace(write, ns, perNamespace)
		}
		write("groups/"+e.name+"/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"+strings.Join(res, "\n")+
			"\nimages:\n  - name: "+benchImage+"\n    newTag: v1\n")
	}
	write("clusters/management/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"+strings.Join(mgmt, "\n")+"\n")
	write("c5c3.yaml", "apiVersion: c5c3.cobaltcore.io/v1alpha1\nkind: Promotion\nenvironments:\n  - name: fleet\n    paths: [clusters/management, groups, apps]\n")
	return dir
}

// writeNamespace writes apps/<ns>: perNamespace objects in namespace ns,
// as generateEntries makes them.
func writeNamespace(write func(rel, content string), ns string, perNamespace int) {
	res := []string{"  - namespace.yaml"}
	write("apps/"+ns+"/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n")
	for i := 1; i < perNamespace; i++ {
		name := fmt.Sprintf("obj-%04d", i)
		write("apps/"+ns+"/"+name+".yaml", benchObject(ns, name, i))
		res = append(res, "  - "+name+".yaml")
	}
	write("apps/"+ns+"/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"+strings.Join(res, "\n")+"\n")
}

// benchSpokeObjects is the number of objects of each spoke entry of
// BenchmarkDiffClusters (one namespace each): issue 20's fleet is 100
// spokes of 200, 20,000 objects.
var benchSpokeObjects = flag.Int("bench.spoke-objects", 200, "objects per spoke entry (one namespace each) of BenchmarkDiffClusters")

// BenchmarkDiffClusters measures the cost of spokes and of objects on
// issue 20's fleet shape: entries (Kustomizations) of -bench.spoke-objects
// objects (10 % drifted) in a namespace of their own, each pointing at a
// kubeconfig Secret on the hub with a service account token of its own
// (for one of the test fleet's 3 spoke apiservers). With -bench.entries
// 4,100:
//
//   - small: 100 entries (20,000 objects by default) over 4 Secrets, that
//     is 4 spokes;
//   - large: the same entries and objects — the same loaded fleet, its
//     Kustomizations pointed at other Secrets (useSecrets) — over 100
//     spokes: (large − small) / 96 is the cost of an extra spoke alone
//     (target ≤ 10 ms wall), and large gives the peak RSS at 20,000
//     objects (target ≤ 400 MiB);
//   - half: 100 entries of half the objects over 100 spokes, a fleet of
//     its own — half vs large is the cost of the objects alone (linear:
//     at most 2× for twice the objects).
//
// For `diff`, `status`, `versions` and `trace` (the real binary, one after
// the other) it prints wall time, CPU time and peak RSS of each fleet, the
// ratios and the wall (and CPU) time per extra spoke, and diff's requests.
func BenchmarkDiffClusters(b *testing.B) {
	f := testfleet.Get(b)
	ctx := context.Background()
	bin := buildPlugin(b)
	var spokes []string
	for name := range f.Spokes {
		spokes = append(spokes, name)
	}
	sort.Strings(spokes)
	var counts []int
	for _, c := range strings.Split(*benchEntries, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			b.Fatalf("-bench.entries %q: want two counts such as 4,100", *benchEntries)
		}
		counts = append(counts, n)
	}
	if len(counts) != 2 || counts[0] >= counts[1] {
		b.Fatalf("-bench.entries %q: want two increasing counts, such as 4,100", *benchEntries)
	}
	per := *benchSpokeObjects
	if per < 12 {
		b.Fatalf("-bench.spoke-objects %d: want at least 12 (half of them keep a Deployment obj-0005)", per)
	}
	type measure struct {
		wall, cpu time.Duration
		rssKiB    int64
	}
	type config struct {
		name              string
		entries, perEntry int
		// secrets is the number of kubeconfig Secrets (spokes) the
		// entries point at; secret names entry i's.
		secrets  int
		secret   func(i int) string
		src      string
		s        *testfleet.Sample
		drifted  int
		cmds     map[string]*measure
		requests int
	}
	commands := []string{"diff", "status", "versions", "trace"}
	// Entry i's objects live on apiserver spokes[i%len(spokes)], whichever
	// fleet: large gives every entry a Secret of its own (spoke-<i+1>, an
	// alias of that apiserver); small points the same entries at the
	// first counts[0] of those Secrets, each entry at one whose apiserver
	// holds its objects (spoke-<k+1> with k ≡ i mod len(spokes), k <
	// counts[0]), so that only the number of spokes differs.
	own := func(i int) string { return fmt.Sprintf("spoke-%d", i+1) }
	shared := func(i int) string {
		var ks []int
		for k := i % len(spokes); k < counts[0]; k += len(spokes) {
			ks = append(ks, k)
		}
		return own(ks[(i/len(spokes))%len(ks)])
	}
	if counts[0] < len(spokes) {
		b.Fatalf("-bench.entries %q: the small fleet needs at least %d spokes (one per apiserver)", *benchEntries, len(spokes))
	}
	small := &config{name: "small", entries: counts[1], perEntry: per, secrets: counts[0], secret: shared}
	large := &config{name: "large", entries: counts[1], perEntry: per, secrets: counts[1], secret: own}
	half := &config{name: "half", entries: counts[1], perEntry: per / 2, secrets: counts[1], secret: own}
	configs := []*config{small, large, half}
	for _, c := range configs {
		c.cmds = map[string]*measure{}
		for _, cmd := range commands {
			c.cmds[cmd] = &measure{}
		}
		if c == small {
			continue // large's objects and Kustomizations, other Secrets (useSecrets)
		}
		var entries []benchEntry
		groups := make([][]string, c.entries)
		aliases := map[string]string{}
		for i := range c.entries {
			e := own(i)
			entries = append(entries, benchEntry{cluster: e, name: e})
			groups[i] = []string{clusterNamespace(c.entries, c.perEntry, i)}
			aliases[e] = spokes[i%len(spokes)]
		}
		c.src = generateLayout(b, entries, groups, c.perEntry)
		start := time.Now()
		s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(b), Source: c.src, NoFluxReport: true,
			SpokeAliases: aliases, ApplyConcurrency: benchLoadConcurrency})
		if err != nil {
			b.Fatal(err)
		}
		c.s = s
		c.drifted = driftTenPercent(b, c.s.RepoDir)
		b.Logf("%s: %d entries × %d objects loaded in %s", c.name, c.entries, c.perEntry, time.Since(start).Round(time.Second))
	}
	small.s, small.drifted = large.s, large.drifted
	// useSecrets points the Kustomizations of c's sample, in the hub and
	// in its checkout alike, at c's Secrets.
	current := map[*testfleet.Sample]*config{}
	useSecrets := func(c *config) {
		if current[c.s] == c || (current[c.s] == nil && c != small) {
			current[c.s] = c
			return
		}
		for i := range c.entries {
			name := own(i)
			// Applied whole, as the root Kustomization applies it, so
			// that the hub's object still matches the checkout's.
			ks := &unstructured.Unstructured{}
			ks.SetGroupVersionKind(kustomizev1.GroupVersion.WithKind(kustomizev1.KustomizationKind))
			if err := f.Hub.Client.Get(ctx, client.ObjectKey{Namespace: c.s.Namespace, Name: name}, ks); err != nil {
				b.Fatal(err)
			}
			ks.SetManagedFields(nil)
			ks.SetResourceVersion("")
			ks.SetUID("")
			ks.SetCreationTimestamp(metav1.Time{})
			ks.SetGeneration(0)
			delete(ks.Object, "status")
			if err := unstructured.SetNestedField(ks.Object, c.secret(i)+"-kubeconfig", "spec", "kubeConfig", "secretRef", "name"); err != nil {
				b.Fatal(err)
			}
			if err := f.Hub.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(ks), client.ForceOwnership, client.FieldOwner("kustomize-controller")); err != nil {
				b.Fatal(err)
			}
			// and reconciled: the status observes the new generation.
			live := &kustomizev1.Kustomization{}
			if err := f.Hub.Client.Get(ctx, client.ObjectKey{Namespace: c.s.Namespace, Name: name}, live); err != nil {
				b.Fatal(err)
			}
			patch := client.MergeFrom(live.DeepCopy())
			live.Status.ObservedGeneration = live.Generation
			if err := f.Hub.Client.Status().Patch(ctx, live, patch); err != nil {
				b.Fatal(err)
			}
			p := filepath.Join(c.s.RepoDir, "clusters", "management", name+".yaml")
			y, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			y = regexp.MustCompile(`(?m)^      name: spoke-[0-9]+-kubeconfig$`).ReplaceAll(y, []byte("      name: "+c.secret(i)+"-kubeconfig"))
			if err := os.WriteFile(p, y, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		current[c.s] = c
	}
	args := func(c *config, cmd string) []string {
		common := []string{"-n", c.s.Namespace, "--kubeconfig", f.HubKubeconfig}
		switch cmd {
		case "diff":
			return append([]string{"diff", "--helm=false", "--repo", c.s.RepoDir, "-o", "json"}, common...)
		case "status":
			return append([]string{"status", "--flux-namespace", c.s.Namespace, "-o", "json"}, common...)
		case "versions":
			return append([]string{"versions", "--repo", c.s.RepoDir, "--flux-namespace", c.s.Namespace, "-o", "json"}, common...)
		}
		// A Deployment of the first entry's namespace, on its spoke.
		return []string{"trace", "deployment/obj-0005", "-n", clusterNamespace(c.entries, c.perEntry, 0), "--cluster", "spoke-1",
			"--hub-namespace", c.s.Namespace, "--kubeconfig", f.HubKubeconfig, "-o", "json"}
	}
	check := func(c *config, name string, code int, err error, out, errb string) {
		switch name {
		case "diff":
			if code != 1 {
				b.Fatalf("diff of %s: exit %d (want 1: changes): %v\n%s", c.name, code, err, errb)
			}
			if got := strings.Count(out, `"action": "drifted"`); got != c.drifted {
				b.Fatalf("diff of %s found %d drifted objects, want %d", c.name, got, c.drifted)
			}
			if got := strings.Count(out, `"cluster": "spoke-`); got < c.entries {
				b.Fatalf("diff of %s reported %d spoke Kustomizations or objects, want at least %d", c.name, got, c.entries)
			}
		case "status":
			if code > 1 || strings.Count(out, `"spoke-`) < c.entries {
				b.Fatalf("status of %s: exit %d, %d spoke mentions: %v\n%s", c.name, code, strings.Count(out, `"spoke-`), err, errb)
			}
		case "versions":
			var m versions.Matrix
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				b.Fatalf("versions of %s: exit %d: %v\n%s", c.name, code, err, errb)
			}
			if code != 0 {
				b.Fatalf("versions of %s: exit %d (want 0: no skew): %v\n%s\n%+v", c.name, code, err, errb, m.Summary)
			}
			running := 0
			for _, comp := range m.Components {
				if comp.Key != "image/"+benchImage+"/newTag" {
					continue
				}
				for _, cell := range comp.Environments {
					for _, t := range cell.Targets {
						if len(t.Running) == 1 && t.Running[0] == "v1" && strings.HasPrefix(t.Cluster, "spoke-") {
							running++
						}
					}
				}
			}
			if running != c.entries {
				b.Fatalf("versions of %s: %d spoke targets running %s:v1, want one per entry (%d)", c.name, running, benchImage, c.entries)
			}
		case "trace":
			if code != 0 || !strings.Contains(out, "obj-0005") {
				b.Fatalf("trace on %s: exit %d: %v\n%s\n%s", c.name, code, err, out, errb)
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		for _, c := range configs {
			b.StopTimer()
			useSecrets(c)
			b.StartTimer()
			for _, name := range commands {
				m := c.cmds[name]
				cmd, rssOf := rssCommand(b, bin, args(c, name)...)
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				start := time.Now()
				err := cmd.Run()
				m.wall += time.Since(start)
				m.cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				m.rssKiB = max(m.rssKiB, rssOf())
				check(c, name, cmd.ProcessState.ExitCode(), err, out.String(), errb.String())
			}
			if c.requests == 0 {
				b.StopTimer()
				rc := testfleet.NewRequestCounter()
				fl, err := f.DiscoverCounted(ctx, c.s.Namespace, rc)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := diff.Run(ctx, fl, diff.Options{RepoDir: c.s.RepoDir, NoHelm: true}); err != nil {
					b.Fatal(err)
				}
				c.requests = rc.Total()
				b.StartTimer()
			}
		}
	}
	b.StopTimer()
	n := float64(b.N)
	extra := float64(large.secrets - small.secrets)
	fmt.Printf("\nspoke entries of %d objects each (a namespace each), 10 %% drifted, over %d apiservers: %s %d entries (%d objects) on %d spokes (kubeconfig Secrets), %s the same on %d, %s %d × %d (%d) on %d\n",
		per, len(spokes), small.name, small.entries, small.entries*per, small.secrets, large.name, large.secrets,
		half.name, half.entries, half.perEntry, half.entries*half.perEntry, half.secrets)
	for _, name := range commands {
		l, h, hf := small.cmds[name], large.cmds[name], half.cmds[name]
		perSpoke := (h.wall - l.wall).Seconds() / n / extra * 1e3
		fmt.Printf("  %-8s small: wall %5.2fs CPU %5.2fs RSS %4.0f MiB | large: wall %5.2fs CPU %5.2fs RSS %4.0f MiB (target ≤ 400) | half: wall %5.2fs CPU %5.2fs RSS %4.0f MiB\n",
			name, l.wall.Seconds()/n, l.cpu.Seconds()/n, float64(l.rssKiB)/1024,
			h.wall.Seconds()/n, h.cpu.Seconds()/n, float64(h.rssKiB)/1024,
			hf.wall.Seconds()/n, hf.cpu.Seconds()/n, float64(hf.rssKiB)/1024)
		fmt.Printf("  %-8s large/small wall %.2f×: %+.1f ms wall (%+.1f ms CPU) per extra spoke (target ≤ 10) | large/half (2× objects): wall %.2f×, CPU %.2f× (linear: ≤ 2)\n",
			"", float64(h.wall)/float64(l.wall), perSpoke, (h.cpu-l.cpu).Seconds()/n/extra*1e3,
			float64(h.wall)/float64(hf.wall), float64(h.cpu)/float64(hf.cpu))
		b.ReportMetric(perSpoke, "ms-per-spoke-"+name)
		b.ReportMetric(float64(h.wall)/float64(hf.wall), "x-2x-objects-"+name)
		b.ReportMetric(float64(h.rssKiB)/1024, "MiB-peak-rss-"+name)
	}
	fmt.Printf("  diff requests: small %d, large %d (%+.1f per extra spoke), half %d\n\n",
		small.requests, large.requests, float64(large.requests-small.requests)/extra, half.requests)
}

// clusterNamespace is the namespace of entry i of BenchmarkDiffClusters'
// fleet of entries × perEntry objects: every fleet has namespaces of its
// own, so that no LIST of one sees the objects of another.
func clusterNamespace(entries, perEntry, i int) string {
	return fmt.Sprintf("c%dx%d-%03d", entries, perEntry, i+1)
}

// BenchmarkDiffInProcess runs what `kubectl c5c3 diff -o json` runs on the
// BenchmarkDiffFleet fleet (-bench.objects objects, hub + 3 spokes, 10 %
// drifted), in process so that -benchmem and -memprofile see it: fleet
// discovery, diff.Run and the JSON rendering ("run"), and the builds alone
// ("build"); "run" minus "build" is the discovery, LIST and dry-run side.
// "select-name" and "select-path" diff one hub-local Kustomization chosen by
// NAMESPACE/NAME and by its path.
// Allocations do not depend on the machine's load, unlike time.
func BenchmarkDiffInProcess(b *testing.B) {
	f := testfleet.Get(b)
	ctx := context.Background()
	src := generateRepo(b, *benchObjects/len(benchClusters))
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(b), Source: src, NoFluxReport: true})
	if err != nil {
		b.Fatal(err)
	}
	drifted := driftTenPercent(b, s.RepoDir)
	hub, err := kube.NewClient(f.Hub.Config)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("run", func(b *testing.B) {
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			fl, err := fleet.Discover(ctx, hub, fleet.Options{Namespace: s.Namespace})
			if err != nil {
				b.Fatal(err)
			}
			r, err := diff.Run(ctx, fl, diff.Options{RepoDir: s.RepoDir, NoHelm: true})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.MarshalIndent(r, "", "  "); err != nil {
				b.Fatal(err)
			}
			if r.Summary.Drifted != drifted {
				b.Fatalf("diff found %d drifted objects, want %d", r.Summary.Drifted, drifted)
			}
		}
		b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "s-cpu/op")
	})
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			buildManifests(b, f, s)
		}
		b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "s-cpu/op")
	})
	// The same hub-local Kustomization selected by name and by its path: a
	// path argument builds every other Kustomization too, to learn which
	// files it reads (without contacting its cluster).
	for _, sel := range []struct{ name, target string }{{"select-name", s.Namespace + "/bench-management"}, {"select-path", "apps/bench-management"}} {
		b.Run(sel.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				fl, err := fleet.Discover(ctx, hub, fleet.Options{Namespace: s.Namespace})
				if err != nil {
					b.Fatal(err)
				}
				r, err := diff.Run(ctx, fl, diff.Options{RepoDir: s.RepoDir, NoHelm: true, Targets: []string{sel.target}})
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Kustomizations) != 1 || r.Kustomizations[0].Name != "bench-management" {
					b.Fatalf("%s selected %v, want only bench-management", sel.target, r.Kustomizations)
				}
			}
			b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "s-cpu/op")
		})
	}
}

// processCPU is the CPU time (user+sys) the test process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// buildPlugin builds the plugin binary for the benchmark as `make build`
// builds the one users get (CGO off, -trimpath, stripped: -s -w): an
// unstripped binary is larger and its start touches more pages, which
// the peak RSS figures would count.
func buildPlugin(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "kubectl-c5c3")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "github.com/c5c3/kubectl-c5c3/cmd/kubectl-c5c3")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the plugin: %v\n%s", err, out)
	}
	return bin
}

// fluxCLI returns the flux CLI `make flux-cli` builds into $FLUX_BIN
// (default bin/flux); a missing one fails the benchmark.
func fluxCLI(b *testing.B) string { return baselineCLI(b, "FLUX_BIN", "flux", "flux-cli") }

// baselineCLI returns the baseline binary name that `make target` builds
// into the directory $env names (default bin/<name>); a missing one fails
// the benchmark.
func baselineCLI(b *testing.B, env, name, target string) string {
	dir := os.Getenv(env)
	if dir == "" {
		dir = filepath.Join("..", "bin", name)
	}
	p, err := filepath.Abs(filepath.Join(dir, name))
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		b.Fatalf("the %s CLI baseline is missing (%v): run make %s", name, err, target)
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
