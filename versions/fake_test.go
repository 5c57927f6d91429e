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
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/fakefleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// TestAppliedOnFakes reads what staging's spoke applied through the
// Dialer seam, without apiservers: the HelmRelease memcached that the hub
// Kustomization staging applies to control-plane, at the chart version git
// pins, at another, with an upgrade under way, or on a spoke that cannot be
// reached; and a HelmRelease kept on the hub (deploying to control-plane
// through its kubeConfig), read from the hub while its spoke is down.
func TestAppliedOnFakes(t *testing.T) {
	dir := repo(t, map[string]string{"c5c3.yaml": testConfig, "staging/hr.yaml": release("7.5.0"), "production/hr.yaml": release("7.4.16")})
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSpace(string(out))
	for _, tc := range []struct {
		name      string
		running   string
		attempted string
		onHub     bool // the Kustomization applies the HelmRelease to the hub
		down      error
		want      string
	}{{
		name:    "applied as pinned",
		running: "7.5.0",
		want:    "control-plane HelmRelease/apps/memcached applied 7.5.0 reachable skew []",
	}, {
		name:    "applied another version",
		running: "7.4.16",
		want:    "control-plane HelmRelease/apps/memcached applied 7.4.16 reachable skew [" + SkewGitApplied + "]",
	}, {
		name:      "an upgrade under way",
		running:   "7.5.0",
		attempted: "7.6.0",
		want:      "control-plane HelmRelease/apps/memcached applied 7.5.0 (attempted 7.6.0) reachable skew []",
	}, {
		name: "spoke unreachable",
		down: errors.New("connection refused"),
		want: "control-plane HelmRelease/apps/memcached applied  unreachable: cluster control-plane: connection refused skew []",
	}, {
		name:      "a HelmRelease on the hub is read there while its spoke is down",
		running:   "7.5.0",
		attempted: "7.6.0",
		onHub:     true,
		down:      errors.New("connection refused"),
		want:      "control-plane HelmRelease/apps/memcached applied 7.5.0 (attempted 7.6.0) reachable skew []",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			toControlPlane := &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "control-plane-kubeconfig"}}
			ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "staging"},
				Spec: kustomizev1.KustomizationSpec{Path: "./staging", KubeConfig: toControlPlane,
					SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}}
			ks.Status.LastAppliedRevision = "main@sha1:" + head
			ks.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: "ReconciliationSucceeded"}}
			ks.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{{ID: "apps_memcached_helm.toolkit.fluxcd.io_HelmRelease", Version: "v2"}}}
			hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "memcached"}}
			hr.Status.History = helmv2.Snapshots{{ChartName: "memcached", ChartVersion: tc.running, Status: "deployed"}}
			hr.Status.LastAttemptedRevision = tc.attempted
			hubObjs, spokeObjs := []client.Object{ks}, []client.Object{hr}
			if tc.onHub {
				ks.Spec.KubeConfig, hr.Spec.KubeConfig = nil, toControlPlane
				hubObjs, spokeObjs = append(hubObjs, hr), nil
			}
			d := &fakefleet.Dialer{Spokes: map[string]*kube.Client{"control-plane": fakefleet.Client("v1.37.2", spokeObjs...)}}
			if tc.down != nil {
				d.Errors = map[string]error{"control-plane": tc.down}
			}
			hub := fakefleet.Client("v1.37.2", hubObjs...)
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
			applied := tg.Applied
			if tg.Attempted != "" {
				applied += " (attempted " + tg.Attempted + ")"
			}
			if got := fmt.Sprintf("%s %s applied %s %s skew %v", tg.Cluster, tg.Object, applied, reach, tg.Skew); got != tc.want {
				t.Fatalf("target:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestImagesOnFakes reads the running images of what staging applied: the
// image git pins in staging's kustomization.yaml, applied at the commit
// the Kustomization reports, against the Deployments of its inventory on
// control-plane — as applied, changed by hand on the spoke, or on a spoke
// that cannot be reached (the applied value still read from git).
func TestImagesOnFakes(t *testing.T) {
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml]\nimages:\n  - name: ghcr.io/c5c3/keystone\n    newTag: 2025.1-p2\n"
	dir := repo(t, map[string]string{"c5c3.yaml": testConfig, "staging/kustomization.yaml": kustomization, "staging/deployment.yaml": "{}\n"})
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
		name:    "running as applied",
		running: "ghcr.io/c5c3/keystone:2025.1-p2",
		want:    "control-plane applied 2025.1-p2 running [2025.1-p2] in [Deployment/openstack/keystone-api] reachable skew []",
	}, {
		name:    "changed by hand on the spoke",
		running: "ghcr.io/c5c3/keystone:2025.1-p3-hotfix",
		want:    "control-plane applied 2025.1-p2 running [2025.1-p3-hotfix] in [Deployment/openstack/keystone-api] reachable skew [" + SkewAppliedRunning + "]",
	}, {
		name: "spoke unreachable",
		down: errors.New("connection refused"),
		want: "control-plane applied 2025.1-p2 running [] in [] unreachable: cluster control-plane: connection refused skew []",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "staging"},
				Spec: kustomizev1.KustomizationSpec{Path: "./staging",
					KubeConfig: &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "control-plane-kubeconfig"}},
					SourceRef:  kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}}
			ks.Status.LastAppliedRevision = "main@sha1:" + head
			ks.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: "ReconciliationSucceeded"}}
			ks.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{{ID: "openstack_keystone-api_apps_Deployment", Version: "v1"}}}
			dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "openstack", Name: "keystone-api"},
				Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: tc.running}}}}}}
			d := &fakefleet.Dialer{Spokes: map[string]*kube.Client{"control-plane": fakefleet.Client("v1.37.2", dep)}}
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
			var cell *Cell
			for i, c := range m.Components {
				if c.Key == "image/ghcr.io/c5c3/keystone/newTag" && len(c.Environments) == 1 {
					cell = &m.Components[i].Environments[0]
				}
			}
			if cell == nil {
				t.Fatalf("no staging cell for image/ghcr.io/c5c3/keystone/newTag in %+v", m.Components)
			}
			if len(cell.Targets) != 1 {
				t.Fatalf("targets %+v, want one", cell.Targets)
			}
			tg := cell.Targets[0]
			reach := "reachable"
			if !tg.Reachable {
				reach = "unreachable: " + tg.Error
			}
			if got := fmt.Sprintf("%s applied %s running %v in %v %s skew %v", tg.Cluster, tg.Applied, tg.Running, tg.Workloads, reach, tg.Skew); got != tc.want {
				t.Fatalf("target:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
