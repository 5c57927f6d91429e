// Command demo starts a local fleet — a hub and three spokes, each a real
// kube-apiserver + etcd — loads the sample gitops repo into it with some
// drift, one failing Kustomization and a spoke credential that expires
// soon, applies its staging and production environments, prints
// `kubectl c5c3 status`, `trace`, `diff`, `versions` and `promote
// --dry-run`, and keeps the fleet running until Ctrl-C. Run it with
// `make demo`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

func main() {
	plugin := flag.String("plugin", "bin/kubectl-c5c3", "kubectl-c5c3 binary to run")
	dir := flag.String("dir", ".demo", "where to write the hub kubeconfig")
	once := flag.Bool("once", false, "stop after printing the status instead of waiting for Ctrl-C")
	flag.Parse()
	if err := run(*plugin, *dir, *once); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(plugin, dir string, once bool) error {
	// SIGPIPE too: after Ctrl-C on `make demo | tee demo.log` the reader
	// is gone, and a write to the closed pipe would otherwise kill the demo
	// in the middle of stopping the fleet (a caught SIGPIPE turns into a
	// write error instead). SIGHUP for a closed terminal.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	defer stop()

	fmt.Fprintln(os.Stderr, "starting a hub and 3 spokes (kube-apiserver + etcd each)...")
	start := time.Now()
	f, err := testfleet.Start(ctx, testfleet.Options{NodesPerSpoke: 3})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(os.Stderr, "stopping the fleet...")
		if err := f.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "demo: stopping: %v\n", err)
		}
		_ = os.RemoveAll(dir)
	}()
	fmt.Fprintf(os.Stderr, "fleet up in %s; loading the sample gitops repo (testdata/gitops)...\n", time.Since(start).Round(time.Second))
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{})
	if err != nil {
		return err
	}
	if err := breakThings(ctx, f, s); err != nil {
		return err
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	kubeconfig, err := filepath.Abs(filepath.Join(dir, "hub.kubeconfig"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, f.Hub.Kubeconfig, 0o600); err != nil {
		return err
	}
	bin, err := filepath.Abs(plugin)
	if err != nil {
		return err
	}

	// A local edit in the checkout, as an operator would make before pushing.
	if err := editCheckout(s.RepoDir); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"status"},
		{"trace", "deploy/keystone-api", "-n", "openstack", "--cluster", "control-plane", "--diff", "--repo", s.RepoDir},
		// The sample's HelmRepositories point at the local chart
		// repository LoadSample serves testdata/charts from: diff renders
		// their HelmReleases on the spokes (the memcached bump among them).
		{"diff", "--repo", s.RepoDir},
		{"versions", "--repo", s.RepoDir},
		{"promote", "staging", "production", "--repo", s.RepoDir, "--dry-run"},
	} {
		if args[0] == "versions" {
			// The staging and production environments versions and
			// promote work with, reconciled into hub namespaces of their
			// own (both stand for hubs of their own, here the demo hub).
			if err := applyEnvironments(ctx, s); err != nil {
				return err
			}
		}
		fmt.Printf("$ kubectl c5c3 %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		err = cmd.Run()
		if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
			return err
		}
		fmt.Println()
	}
	fmt.Printf(`The fleet is running. In another shell:

  export KUBECONFIG=%s
  export PATH=%s:$PATH
  kubectl c5c3 status
  kubectl c5c3 status --failing -o table
  kubectl c5c3 status -w           # redraws on every change; Ctrl-C to stop
  kubectl c5c3 trace deploy/keystone-api -n openstack --cluster control-plane
  cd %s            # the sample gitops checkout the fleet runs
  kubectl c5c3 diff control-plane
  kubectl c5c3 diff control-plane -o markdown
  kubectl c5c3 versions -o markdown
  kubectl c5c3 promote staging production --dry-run

(staging and production are reconciled into the namespaces
flux-system-staging and flux-system-production of this one demo hub.)

`, kubeconfig, filepath.Dir(bin), s.RepoDir)
	if once {
		return nil
	}
	fmt.Println("Press Ctrl-C to stop it; nothing is left running afterwards.")
	<-ctx.Done()
	return nil
}

// applyEnvironments reconciles the sample's staging and production
// environments into the demo hub and makes the checkout look cloned, as
// promote wants it.
func applyEnvironments(ctx context.Context, s *testfleet.Sample) error {
	fmt.Fprintln(os.Stderr, "applying the staging and production environments...")
	for _, name := range []string{"staging", "production"} {
		if _, err := s.ApplyEnvironment(ctx, name); err != nil {
			return fmt.Errorf("environment %s: %w", name, err)
		}
	}
	return s.LookCloned()
}

// editCheckout makes the unpushed changes for `kubectl c5c3 diff` to show:
// the keystone image tag, and a chart bump of the memcached HelmRelease
// (7.4.16 → 7.5.0 of the test chart, which changes the image and adds a
// PodDisruptionBudget), rendered on the control-plane spoke.
func editCheckout(repo string) error {
	for _, e := range []struct{ path, old, new string }{
		{"clusters/control-plane/apps/kustomization.yaml", `newTag: "2025.1-p1"`, `newTag: "2025.1-p2"`},
		{"apps/management/helmreleases/memcached.yaml", `version: "7.4.16"`, `version: "7.5.0"`},
	} {
		p := filepath.Join(repo, filepath.FromSlash(e.path))
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), e.old) {
			return fmt.Errorf("%s: %q not found", e.path, e.old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), e.old, e.new, 1)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// breakThings adds the drift and failures that make the demo interesting:
// keystone-api scaled by hand on the control-plane spoke, the hypervisor
// Kustomization failing its health check, and the storage spoke's
// kubeconfig Secret holding a client certificate that expires in 20 days
// (an access warning).
func breakThings(ctx context.Context, f *testfleet.Fleet, s *testfleet.Sample) error {
	cp := f.Spokes["control-plane"].Client
	dep := &appsv1.Deployment{}
	if err := cp.Get(ctx, client.ObjectKey{Namespace: "openstack", Name: "keystone-api"}, dep); err != nil {
		return err
	}
	patch := client.MergeFrom(dep.DeepCopy())
	dep.Spec.Replicas = ptr.To[int32](5)
	if err := cp.Patch(ctx, dep, patch, client.FieldOwner("kubectl-edit")); err != nil {
		return err
	}
	if err := s.Fail(ctx, "Kustomization", "hypervisor-apps", "HealthCheckFailed",
		"timeout waiting for: [DaemonSet/nova-compute/nova-compute status: 'InProgress']"); err != nil {
		return err
	}
	now := time.Now()
	kc, err := f.Spokes["storage"].KubeconfigWithClientCert("storage-deployer", now.Add(-time.Hour), now.Add(20*24*time.Hour))
	if err != nil {
		return err
	}
	return s.SetKubeconfig(ctx, "storage", kc)
}
