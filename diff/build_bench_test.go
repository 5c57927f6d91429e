package diff_test

import (
	"context"
	"path/filepath"
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

// BenchmarkBuildFleet builds the four Kustomizations (-bench.objects/4 objects each) of the
// BenchmarkDiffFleet tree in process, without any cluster.
func BenchmarkBuildFleet(b *testing.B) {
	repo := generateRepo(b, *benchObjects/len(benchClusters))
	bld, err := diff.NewBuilder(repo, nil, false)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, c := range benchClusters {
			ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "bench-" + c, Namespace: "flux-system"},
				Spec: kustomizev1.KustomizationSpec{Path: "./apps/bench-" + c, Prune: true, SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}}
			if _, err := bld.Build(context.Background(), ks); err != nil {
				b.Fatal(err)
			}
		}
	}
}
