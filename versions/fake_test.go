package versions

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/fakefleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// TestAppliedOnFakes reads what staging's spoke applied through the
// Dialer seam, without apiservers: the HelmRelease memcached that the hub
// Kustomization staging applies to control-plane, at the chart version git
// pins, at another, or on a spoke that cannot be reached.
func TestAppliedOnFakes(t *testing.T) {
	dir := repo(t, map[string]string{"c5c3.yaml": testConfig, "staging/hr.yaml": release("7.5.0"), "production/hr.yaml": release("7.4.16")})
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSpace(string(out))
	for _, tc := range []struct {
		name    string
		running string
		down    error
		want    string
	}{{
		name:    "applied as pinned",
		running: "7.5.0",
		want:    "control-plane HelmRelease/apps/memcached applied 7.5.0 reachable skew []",
	}, {
		name:    "applied another version",
		running: "7.4.16",
		want:    "control-plane HelmRelease/apps/memcached applied 7.4.16 reachable skew [" + SkewGitApplied + "]",
	}, {
		name: "spoke unreachable",
		down: errors.New("connection refused"),
		want: "control-plane HelmRelease/apps/memcached applied  unreachable: cluster control-plane: connection refused skew []",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "staging"},
				Spec: kustomizev1.KustomizationSpec{Path: "./staging",
					KubeConfig: &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "control-plane-kubeconfig"}},
					SourceRef:  kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}}
			ks.Status.LastAppliedRevision = "main@sha1:" + head
			ks.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: "ReconciliationSucceeded"}}
			ks.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{{ID: "apps_memcached_helm.toolkit.fluxcd.io_HelmRelease", Version: "v2"}}}
			hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "memcached"}}
			hr.Status.History = helmv2.Snapshots{{ChartName: "memcached", ChartVersion: tc.running, Status: "deployed"}}
			d := &fakefleet.Dialer{Spokes: map[string]*kube.Client{"control-plane": fakefleet.Client("v1.37.2", hr)}}
			if tc.down != nil {
				d.Errors = map[string]error{"control-plane": tc.down}
			}
			hub := fakefleet.Client("v1.37.2", ks)
			m, err := Build(context.Background(), Options{RepoDir: dir, Environments: []string{"staging"},
				Fleet: func(ctx context.Context, _ *pipeline.Environment) (*fleet.Fleet, error) {
					return fakefleet.Discover(ctx, hub, d)
				}})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Components) != 1 || len(m.Components[0].Environments) != 1 || len(m.Components[0].Environments[0].Targets) != 1 {
				t.Fatalf("want one component with one target in staging: %+v", m.Components)
			}
			tg := m.Components[0].Environments[0].Targets[0]
			reach := "reachable"
			if !tg.Reachable {
				reach = "unreachable: " + tg.Error
			}
			if got := fmt.Sprintf("%s %s applied %s %s skew %v", tg.Cluster, tg.Object, tg.Applied, reach, tg.Skew); got != tc.want {
				t.Fatalf("target:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
