package diff_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/diff"
)

// BenchmarkBuild builds one ~10-object Kustomization of the sample repo
// (management-apps) in process: the build alone, without any cluster.
func BenchmarkBuild(b *testing.B) {
	repo, _ := filepath.Abs("../testdata/gitops")
	bld, err := diff.NewBuilder(repo, nil, false)
	if err != nil {
		b.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "management-apps", Namespace: "flux-system"},
		Spec: kustomizev1.KustomizationSpec{Path: "./apps/management", Prune: true, SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}}
	for b.Loop() {
		if _, err := bld.Build(context.Background(), ks); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildFleet builds the four Kustomizations (-bench.objects/4
// objects each) of the BenchmarkDiffFleet tree in process, without any
// cluster: one after the other ("serial") and from two goroutines
// ("parallel2", which the build lock serialises today), with the CPU time
// (user+sys) per run.
func BenchmarkBuildFleet(b *testing.B) {
	repo := generateRepo(b, *benchObjects/len(benchClusters))
	bld, err := diff.NewBuilder(repo, nil, false)
	if err != nil {
		b.Fatal(err)
	}
	var kss []*kustomizev1.Kustomization
	for _, c := range benchClusters {
		kss = append(kss, &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "bench-" + c, Namespace: "flux-system"},
			Spec: kustomizev1.KustomizationSpec{Path: "./apps/bench-" + c, Prune: true, SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}})
	}
	for _, workers := range []int{1, 2} {
		name := "serial"
		if workers > 1 {
			name = fmt.Sprintf("parallel%d", workers)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				next := make(chan *kustomizev1.Kustomization)
				errs := make(chan error, len(kss))
				var wg sync.WaitGroup
				for range workers {
					wg.Go(func() {
						for ks := range next {
							if _, err := bld.Build(context.Background(), ks); err != nil {
								errs <- err
							}
						}
					})
				}
				for _, ks := range kss {
					next <- ks
				}
				close(next)
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
			}
			b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "s-cpu/op")
		})
	}
}
