package testfleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// Release is a Helm release to install on a test cluster.
type Release struct {
	// Target is the cluster (Fleet.Hub or a spoke).
	Target *Cluster
	// Name, Namespace (the release namespace) and StorageNamespace.
	Name, Namespace, StorageNamespace string
	// CreateNamespace is install.createNamespace.
	CreateNamespace bool
	// DisableTakeOwnership is install.disableTakeOwnership: unset, the
	// install takes over objects that exist already (a cluster-scoped CRD
	// another sample's release installed), as helm-controller's does.
	DisableTakeOwnership bool
	Chart                *chart.Chart
	Values               map[string]any
	// OriginNamespace and OriginName name the HelmRelease whose origin
	// labels helm-controller puts on every object.
	OriginNamespace, OriginName string
}

// SampleChart loads the packaged test chart name at exactly version (from
// testdata/charts).
func (f *Fleet) SampleChart(name, version string) (*chart.Chart, error) {
	repo, err := f.sampleCharts()
	if err != nil {
		return nil, err
	}
	return repo.load(name, version)
}

// InstallRelease installs r with the Helm v4 SDK the way helm-controller's
// install does: field manager helm-controller, server-side apply,
// install.createNamespace, helm-controller's origin labels added by a
// post-renderer, taking ownership of existing objects unless
// r.DisableTakeOwnership, no waiting (no kubelet: nothing becomes ready). A
// release of the same name already there is uninstalled first.
//
// Unlike helm-controller's default, the manifest is not validated on the
// client (install.disableOpenAPIValidation): kubectl's check whether the
// server supports strict field validation decodes the OpenAPI v3 document
// of the object's group-version for every object of every install (8 s of
// the plugin package's CPU). The test charts are valid, so nothing is
// applied differently (the API server still checks each object against
// its schema).
func (f *Fleet) InstallRelease(ctx context.Context, r Release) error {
	defer useFieldManager("helm-controller")()
	cfg, err := f.actionConfig(r)
	if err != nil {
		return err
	}
	un := action.NewUninstall(cfg)
	un.WaitStrategy = kube.HookOnlyStrategy
	if _, err := un.Run(r.Name); err != nil && !errors.Is(err, driver.ErrReleaseNotFound) && !strings.Contains(err.Error(), "not found") {
		return fmt.Errorf("uninstalling the earlier release %s/%s on %s: %w", r.StorageNamespace, r.Name, r.Target.Name, err)
	}
	inst := action.NewInstall(cfg)
	inst.ReleaseName, inst.Namespace = r.Name, r.Namespace
	inst.CreateNamespace = r.CreateNamespace
	inst.TakeOwnership = !r.DisableTakeOwnership
	inst.WaitStrategy = kube.HookOnlyStrategy
	inst.ServerSideApply, inst.ForceConflicts = true, true
	inst.Timeout = time.Minute
	inst.DisableOpenAPIValidation = true
	inst.PostRenderer = originLabeler{"helm.toolkit.fluxcd.io/name": r.OriginName, "helm.toolkit.fluxcd.io/namespace": r.OriginNamespace}
	if _, err := inst.RunWithContext(ctx, r.Chart, r.Values); err != nil {
		return fmt.Errorf("installing release %s/%s on %s: %w", r.Namespace, r.Name, r.Target.Name, err)
	}
	return nil
}

// UpgradeRelease upgrades the existing release r with the Helm v4 SDK as
// `helm upgrade --force-conflicts` run by hand would (field manager helm,
// the last release's apply method, no waiting): Helm's storage gets the
// next revision, which the HelmRelease's status.history does not know.
func (f *Fleet) UpgradeRelease(ctx context.Context, r Release) error {
	defer useFieldManager("helm")()
	cfg, err := f.actionConfig(r)
	if err != nil {
		return err
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = r.Namespace
	up.WaitStrategy = kube.HookOnlyStrategy
	up.ServerSideApply, up.ForceConflicts = "auto", true
	up.Timeout = time.Minute
	up.DisableOpenAPIValidation = true // as InstallRelease
	if _, err := up.RunWithContext(ctx, r.Name, r.Chart, r.Values); err != nil {
		return fmt.Errorf("upgrading release %s/%s on %s: %w", r.StorageNamespace, r.Name, r.Target.Name, err)
	}
	return nil
}

// Helm's process-wide kube.ManagedFieldsManager is read by the Helm SDK
// while it applies, and samples loaded by parallel tests install at the
// same time: helmManagerMu guards it, helmManagerUsers counts the actions
// running with it, helmManagerFree is signalled when none is left.
var (
	helmManagerMu    sync.Mutex
	helmManagerFree  = sync.NewCond(&helmManagerMu)
	helmManagerUsers int
)

// useFieldManager makes name Helm's field manager for one Helm action and
// returns its release. Actions with the same field manager run together;
// one with another waits until they are done.
func useFieldManager(name string) (release func()) {
	helmManagerMu.Lock()
	for helmManagerUsers > 0 && kube.ManagedFieldsManager != name {
		helmManagerFree.Wait()
	}
	if helmManagerUsers == 0 { // no action is reading it
		kube.ManagedFieldsManager = name
	}
	helmManagerUsers++
	helmManagerMu.Unlock()
	return func() {
		helmManagerMu.Lock()
		if helmManagerUsers--; helmManagerUsers == 0 {
			helmManagerFree.Broadcast()
		}
		helmManagerMu.Unlock()
	}
}

// actionConfig is the Helm action configuration for r on its target. Like
// helm-controller: objects without a namespace go to the release
// namespace, the release record to the storage namespace. The target's
// kubeconfig file is replaced atomically: a parallel test's Helm may be
// reading it.
func (f *Fleet) actionConfig(r Release) (*action.Configuration, error) {
	kubeconfig := filepath.Join(f.Dir, r.Target.Name+".helm.kubeconfig")
	if err := writeFileAtomic(kubeconfig, r.Target.Kubeconfig); err != nil {
		return nil, err
	}
	releaseNS := r.Namespace
	getter := genericclioptions.NewConfigFlags(false)
	getter.KubeConfig, getter.Namespace = &kubeconfig, &releaseNS
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.New(slog.NewTextHandler(io.Discard, nil)).Handler())
	if err := cfg.Init(getter, r.StorageNamespace, "secret"); err != nil {
		return nil, err
	}
	return cfg, nil
}

// writeFileAtomic writes b to path (mode 0600) through a temporary file
// renamed over it, so that a reader sees the old or the new content, never
// a part.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}
