package diff_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// BenchmarkDiffBase is the pull-request check on the 2,000-object bench
// fleet (hub + 3 spokes) where the change touches one spoke's path (one
// ConfigMap of bench-storage): the full diff (the baseline, same run),
// --base HEAD (only bench-storage live-diffed) and --base HEAD --no-live
// (no cluster contacted). Compare s-cpu/op and ns/op with "full".
func BenchmarkDiffBase(b *testing.B) {
	f := testfleet.Get(b)
	ctx := context.Background()
	src := generateRepo(b, *benchObjects/len(benchClusters))
	// The hub's FluxInstance, outside every build, for --no-live's root.
	if err := os.MkdirAll(filepath.Join(src, "bootstrap"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "bootstrap", "flux-instance.yaml"), []byte("apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n  namespace: flux-system\nspec:\n  sync:\n    kind: GitRepository\n    url: https://github.com/c5c3/c5c3-gitops.git\n    ref: refs/heads/main\n    path: clusters/management\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(b), Source: src, NoFluxReport: true})
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(s.RepoDir, "apps", "bench-storage", "obj-0002.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), `value: "v1"`, `value: "v2"`, 1)), 0o644); err != nil {
		b.Fatal(err)
	}
	hub, err := kube.NewClient(f.Hub.Config)
	if err != nil {
		b.Fatal(err)
	}
	source := "GitRepository/" + s.Namespace + "/flux-system"
	live := func(b *testing.B, opts diff.Options) *diff.Result {
		fl, err := fleet.Discover(ctx, hub, fleet.Options{Namespace: s.Namespace})
		if err != nil {
			b.Fatal(err)
		}
		r, err := diff.Run(ctx, fl, opts)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	check := func(b *testing.B, r *diff.Result) {
		if r.Summary.Drifted != 1 || r.HasErrors() {
			b.Fatalf("want the one changed ConfigMap drifted: %+v %+v", r.Summary, r.Kustomizations)
		}
	}
	cases := []struct {
		name string
		run  func(b *testing.B) *diff.Result
	}{
		{"full", func(b *testing.B) *diff.Result {
			return live(b, diff.Options{RepoDir: s.RepoDir, NoHelm: true})
		}},
		{"base", func(b *testing.B) *diff.Result {
			r := live(b, diff.Options{RepoDir: s.RepoDir, NoHelm: true, Base: "HEAD"})
			if len(r.Kustomizations) != 1 || r.Kustomizations[0].Name != "bench-storage" {
				b.Fatalf("--base diffed %+v, want only bench-storage", r.Kustomizations)
			}
			return r
		}},
		{"no-live", func(b *testing.B) *diff.Result {
			r, err := diff.RunOffline(ctx, fleet.Offline(""), diff.Options{RepoDir: s.RepoDir, Base: "HEAD", NoLive: true, Source: source})
			if err != nil {
				b.Fatal(err)
			}
			return r
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				check(b, c.run(b))
			}
			b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "s-cpu/op")
		})
	}
	if out, err := exec.Command("git", "-C", s.RepoDir, "status", "--porcelain").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "M apps/bench-storage/obj-0002.yaml" {
		b.Fatalf("the checkout changed: %v %s", err, out)
	}
}
