package testfleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
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
func (f *Fleet) InstallRelease(ctx context.Context, r Release) error {
	helmFieldManager.Lock()
	defer helmFieldManager.Unlock()
	cfg, err := f.actionConfig(r, "helm-controller")
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
	helmFieldManager.Lock()
	defer helmFieldManager.Unlock()
	cfg, err := f.actionConfig(r, "helm")
	if err != nil {
		return err
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = r.Namespace
	up.WaitStrategy = kube.HookOnlyStrategy
	up.ServerSideApply, up.ForceConflicts = "auto", true
	up.Timeout = time.Minute
	if _, err := up.RunWithContext(ctx, r.Name, r.Chart, r.Values); err != nil {
		return fmt.Errorf("upgrading release %s/%s on %s: %w", r.StorageNamespace, r.Name, r.Target.Name, err)
	}
	return nil
}

// helmFieldManager is held while a Helm action runs: Helm's field manager
// (kube.ManagedFieldsManager) is a global of the process, and tests of a
// package install and upgrade releases in parallel.
var helmFieldManager sync.Mutex

// actionConfig is the Helm action configuration for r on its target, with
// fieldManager as the field manager of what Helm applies. Like
// helm-controller: objects without a namespace go to the release
// namespace, the release record to the storage namespace. The kubeconfig
// file is the action's own: one shared by parallel installs could be read
// while another rewrites it.
func (f *Fleet) actionConfig(r Release, fieldManager string) (*action.Configuration, error) {
	file, err := os.CreateTemp(f.Dir, r.Target.Name+"-*.helm.kubeconfig")
	if err != nil {
		return nil, err
	}
	kubeconfig := file.Name()
	_, err = file.Write(r.Target.Kubeconfig)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	releaseNS := r.Namespace
	getter := genericclioptions.NewConfigFlags(false)
	getter.KubeConfig, getter.Namespace = &kubeconfig, &releaseNS
	kube.ManagedFieldsManager = fieldManager
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.New(slog.NewTextHandler(io.Discard, nil)).Handler())
	if err := cfg.Init(getter, r.StorageNamespace, "secret"); err != nil {
		return nil, err
	}
	return cfg, nil
}
