package testfleet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/ssa"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Sample is the sample gitops repo loaded into one hub namespace.
type Sample struct {
	// Fleet it was loaded into.
	Fleet *Fleet
	// Namespace in the hub holding the Flux objects (flux-system in the repo).
	Namespace string
	// RepoDir is the git checkout the fleet was reconciled from: a copy of
	// testdata/gitops with flux-system renamed to Namespace, committed.
	RepoDir string
	// Revision is what Flux reports: "main@sha1:<commit>".
	Revision string
	// URL is the GitRepository URL of the sample.
	URL string
	// aliases are SampleOptions.SpokeAliases.
	aliases map[string]string
	// installCharts: ReconcileAll installs the HelmReleases for real.
	installCharts bool
	// helmController: ReconcileAll leaves the HelmReleases alone.
	helmController bool
	// namespaces maps the sample's workload namespaces to this sample's
	// own (SampleOptions.OwnNamespaces); nil keeps them.
	namespaces map[string]string
	// applyConcurrency is SampleOptions.ApplyConcurrency.
	applyConcurrency int
	// shared holds, while ReconcileAll runs with applyConcurrency, the
	// artifact of the sample's GitRepository, extracted once for all its
	// Kustomizations (Build).
	shared map[client.ObjectKey]string
}

// SampleOptions for LoadSample.
type SampleOptions struct {
	// Namespace in the hub for the Flux objects; default "flux-system".
	Namespace string
	// Source is the gitops tree to load; default testdata/gitops. Only the
	// default tree's HelmReleases are installed on the spokes (from
	// testdata/charts); another tree's get their status only, unless
	// InstallCharts is set.
	Source string
	// InstallCharts installs the HelmReleases of Source for real, as for
	// the default tree: their charts (chart.spec.chart at exactly
	// chart.spec.version) must be in testdata/charts, and their
	// HelmRepository's URL one of SampleChartURLs (pointed at the local
	// chart repository in the checkout).
	InstallCharts bool
	// NoFluxReport leaves the FluxReport out (Flux without the operator).
	NoFluxReport bool
	// HelmController leaves the HelmReleases to the real helm-controller
	// (StartHelmController): no HelmChart, no HelmRelease status, nothing
	// installed by the fleet.
	HelmController bool
	// SourceIgnore is the spec.ignore of the GitRepository flux-system
	// (nil: unset), which the artifacts are packed with.
	SourceIgnore *string
	// SpokeAliases adds kubeconfig Secrets "<alias>-kubeconfig" for an
	// existing spoke (alias → spoke name): more spoke entries in the hub
	// than there are apiservers. Each holds credentials of its own — a
	// token of the service account <hub namespace>-<alias> in the spoke's
	// namespace "default", bound to cluster-admin — so that no two entries
	// have the same kubeconfig, as no two clusters of a real fleet do.
	SpokeAliases map[string]string
	// ApplyConcurrency, when positive, applies each Kustomization's objects
	// that many at a time without ssa's read and dry-run of each object
	// first (applyConcurrently): for loading large benchmark fleets fast.
	ApplyConcurrency int
	// OwnNamespaces gives the sample's workload namespaces (SampleNamespaces:
	// openstack, memcached, nova-compute, ... on the spokes and the hub)
	// names of this sample's own, "<name>-<suffix of Namespace>" (openstack
	// → openstack-t0042 for fleet-t0042), so that two samples in one fleet
	// share no object and their tests can run in parallel; so do its
	// cluster-scoped objects (SampleClusterObjects). The checkout
	// carries the new names; Sample.SpokeNamespace maps a sample name to
	// its new one, and golden.Normalize maps them back.
	OwnNamespaces bool
	// ControllerArgs are extra kustomize-controller flags
	// (LoadSampleWithController).
	ControllerArgs []string
}

// SampleNamespaces are the namespaces the sample's objects live in, on the
// spokes (openstack, memcached, nova-compute, rook-ceph) and the hub
// (c5c3-system, c5c3-tenants), which SampleOptions.OwnNamespaces renames.
var SampleNamespaces = []string{"openstack", "memcached", "nova-compute", "rook-ceph", "c5c3-system", "c5c3-tenants"}

// SampleClusterObjects are the names of the sample's cluster-scoped objects
// (the hub's ClusterRole and ClusterRoleBinding c5c3-operator), which
// SampleOptions.OwnNamespaces renames like its namespaces: a cluster-scoped
// object shared by two samples would be taken over by the latest load.
var SampleClusterObjects = []string{"c5c3-operator"}

// SpokeNamespace is the name the sample's namespace name has in this
// sample: its own with SampleOptions.OwnNamespaces, else name itself. Any
// other name is returned as it is.
func (s *Sample) SpokeNamespace(name string) string {
	if n, ok := s.namespaces[name]; ok {
		return n
	}
	return name
}

// ownNamespaces maps each of SampleNamespaces (and SampleClusterObjects)
// to its name for the hub namespace ns: the suffix of a test namespace (fleet-t0042 → "-t0042"),
// else "-" + ns.
func ownNamespaces(ns string) map[string]string {
	suffix := "-" + ns
	if rest, ok := strings.CutPrefix(ns, "fleet-"); ok {
		suffix = "-" + rest
	}
	m := map[string]string{}
	for _, n := range append(append([]string{}, SampleNamespaces...), SampleClusterObjects...) {
		m[n] = n + suffix
	}
	return m
}

// SampleURL is the origin URL of the sample repo.
const SampleURL = "https://github.com/c5c3/c5c3-gitops.git"

// kustomizeOwner is the SSA field manager and label prefix Flux uses.
var kustomizeOwner = ssa.Owner{Field: "kustomize-controller", Group: kustomizev1.GroupVersion.Group}

// LoadSample puts the sample gitops repo into the fleet the way Flux would,
// with every Kustomization and HelmRelease Ready at the repo's commit.
func (f *Fleet) LoadSample(ctx context.Context, opts SampleOptions) (*Sample, error) {
	s, err := f.newSample(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := s.SetSourceRevision(ctx, s.Revision); err != nil {
		return nil, err
	}
	if err := s.createSync(ctx); err != nil {
		return nil, err
	}
	if err := s.ReconcileAll(ctx); err != nil {
		return nil, err
	}
	if !opts.NoFluxReport {
		if err := s.WriteFluxReport(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// newSample does what bootstrapping does before any controller runs: the
// committed checkout (a copy of opts.Source with flux-system renamed to the
// namespace), the hub namespace, one kubeconfig Secret per spoke and the
// GitRepository flux-system (without an artifact yet).
func (f *Fleet) newSample(ctx context.Context, opts SampleOptions) (*Sample, error) {
	if opts.Namespace == "" {
		opts.Namespace = "flux-system"
	}
	installCharts := opts.Source == "" || opts.InstallCharts
	if opts.Source == "" {
		root, err := ModuleRoot()
		if err != nil {
			return nil, err
		}
		opts.Source = filepath.Join(root, "testdata", "gitops")
	}
	s := &Sample{Fleet: f, Namespace: opts.Namespace, URL: SampleURL, aliases: opts.SpokeAliases, installCharts: installCharts,
		helmController: opts.HelmController, applyConcurrency: opts.ApplyConcurrency}
	if opts.OwnNamespaces {
		s.namespaces = ownNamespaces(opts.Namespace)
	}
	var err error
	if s.RepoDir, err = os.MkdirTemp(f.Dir, "gitops-"+opts.Namespace+"-"); err != nil {
		return nil, err
	}
	charts, err := f.SampleChartRepo()
	if err != nil {
		return nil, fmt.Errorf("starting the sample's chart repository: %w", err)
	}
	if err := copyTree(opts.Source, s.RepoDir, opts.Namespace, chartURLReplacements(charts), s.namespaces); err != nil {
		return nil, err
	}
	commit, err := commitAll(s.RepoDir, "c5c3-gitops: sample fleet")
	if err != nil {
		return nil, err
	}
	s.Revision = "main@sha1:" + commit

	hub := f.Hub.Client
	if err := hub.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.Namespace}}); client.IgnoreAlreadyExists(err) != nil {
		return nil, err
	}
	secrets := map[string][]byte{}
	for name, spoke := range f.Spokes {
		secrets[name] = spoke.Kubeconfig
	}
	for alias, name := range opts.SpokeAliases {
		if f.Spokes[name] == nil || secrets[alias] != nil {
			return nil, fmt.Errorf("spoke alias %s: no spoke %q, or the name is taken", alias, name)
		}
		kc, err := f.Spokes[name].serviceAccountKubeconfig(ctx, s.Namespace+"-"+alias)
		if err != nil {
			return nil, fmt.Errorf("spoke alias %s: %w", alias, err)
		}
		secrets[alias] = kc
	}
	for name, kc := range secrets {
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-kubeconfig", Namespace: s.Namespace},
			Data:       map[string][]byte{"value": kc},
		}
		if err := hub.Create(ctx, sec); err != nil {
			return nil, fmt.Errorf("creating kubeconfig Secret for %s: %w", name, err)
		}
	}
	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "flux-system", Namespace: s.Namespace},
		Spec: sourcev1.GitRepositorySpec{
			URL:       SampleURL,
			Interval:  metav1.Duration{Duration: time.Minute},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
			Ignore:    opts.SourceIgnore,
		},
	}
	if err := hub.Create(ctx, repo); err != nil {
		return nil, err
	}
	return s, nil
}

// createSync creates the Kustomization flux-system that syncs
// ./clusters/management, as the FluxInstance's sync does.
func (s *Sample) createSync(ctx context.Context) error {
	sync := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "flux-system", Namespace: s.Namespace},
		Spec: kustomizev1.KustomizationSpec{
			Interval:  metav1.Duration{Duration: 10 * time.Minute},
			Path:      "./clusters/management",
			Prune:     true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "flux-system"},
		},
	}
	return s.Fleet.Hub.Client.Create(ctx, sync)
}

// ReconcileAll reconciles every Kustomization of the sample in dependsOn
// order (the flux-system sync first: it creates the others), then marks the
// HelmReleases installed.
//
// With SampleOptions.ApplyConcurrency the artifact of the sample's
// GitRepository is extracted once for all the Kustomizations (each build
// puts back the kustomization file the generator rewrites) rather than
// once per Kustomization: a checkout of 20,000 files is not packed 100
// times.
func (s *Sample) ReconcileAll(ctx context.Context) error {
	if s.applyConcurrency > 0 {
		key := client.ObjectKey{Namespace: s.Namespace, Name: "flux-system"}
		work, err := s.extractArtifact(ctx, key)
		if err != nil {
			return err
		}
		s.shared = map[client.ObjectKey]string{key: work}
		defer func() {
			s.shared = nil
			_ = os.RemoveAll(work)
		}()
	}
	done := map[string]bool{}
	for range 10 { // new Kustomizations appear as their parents apply
		var list kustomizev1.KustomizationList
		if err := s.Fleet.Hub.Client.List(ctx, &list, client.InNamespace(s.Namespace)); err != nil {
			return err
		}
		sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
		progressed, err := s.reconcileRound(ctx, list.Items, done)
		if err != nil {
			return err
		}
		if !progressed {
			break
		}
	}
	if s.helmController {
		return nil
	}
	return s.markHelmReleasesInstalled(ctx, s.installCharts)
}

// reconcileRound reconciles the Kustomizations of items whose
// dependencies are done, in order, marking them done. In bulk mode
// (SampleOptions.ApplyConcurrency) those ready at the start of the round
// are reconciled bulkReconcileConcurrency at a time, so that one's build
// overlaps another's applies.
func (s *Sample) reconcileRound(ctx context.Context, items []kustomizev1.Kustomization, done map[string]bool) (bool, error) {
	progressed := false
	if s.applyConcurrency == 0 {
		for i := range items {
			ks := &items[i]
			if done[ks.Name] || !depsDone(ks, done) {
				continue
			}
			if err := s.Reconcile(ctx, ks.Name); err != nil {
				return progressed, err
			}
			done[ks.Name], progressed = true, true
		}
		return progressed, nil
	}
	var ready []string
	// A build rewrites the kustomization file of its path in the shared
	// artifact: Kustomizations of one path take turns.
	paths := map[string]*sync.Mutex{}
	pathOf := map[string]*sync.Mutex{}
	for i := range items {
		if ks := &items[i]; !done[ks.Name] && depsDone(ks, done) {
			ready = append(ready, ks.Name)
			p := filepath.Clean(ks.Spec.Path)
			if paths[p] == nil {
				paths[p] = &sync.Mutex{}
			}
			pathOf[ks.Name] = paths[p]
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(bulkReconcileConcurrency)
	for _, name := range ready {
		g.Go(func() error {
			pathOf[name].Lock()
			defer pathOf[name].Unlock()
			return s.Reconcile(gctx, name)
		})
	}
	if err := g.Wait(); err != nil {
		return false, err
	}
	for _, name := range ready {
		done[name] = true
	}
	return len(ready) > 0, nil
}

// bulkReconcileConcurrency is how many Kustomizations ReconcileAll
// reconciles at once with SampleOptions.ApplyConcurrency.
const bulkReconcileConcurrency = 4

func depsDone(ks *kustomizev1.Kustomization, done map[string]bool) bool {
	for _, d := range ks.Spec.DependsOn {
		if !done[d.Name] {
			return false
		}
	}
	return true
}

// Reconcile does what kustomize-controller does for one Kustomization:
// build its path from RepoDir, substitute postBuild variables (read from the
// hub), server-side apply into the target cluster, and write the status.
func (s *Sample) Reconcile(ctx context.Context, name string) error {
	hub := s.Fleet.Hub.Client
	ks := &kustomizev1.Kustomization{}
	if err := hub.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, ks); err != nil {
		return err
	}
	objects, err := s.Build(ctx, ks)
	if err != nil {
		return fmt.Errorf("building Kustomization %s: %w", name, err)
	}
	target, err := s.target(ks)
	if err != nil {
		return err
	}
	inv, err := s.apply(ctx, target, objects)
	if err != nil {
		return fmt.Errorf("applying Kustomization %s to %s: %w", name, target.Name, err)
	}
	sort.Slice(inv.Entries, func(i, j int) bool { return inv.Entries[i].ID < inv.Entries[j].ID })

	if err := hub.Get(ctx, client.ObjectKeyFromObject(ks), ks); err != nil {
		return err
	}
	ks.Status.ObservedGeneration = ks.Generation
	ks.Status.LastAppliedRevision = s.Revision
	ks.Status.LastAttemptedRevision = s.Revision
	ks.Status.Inventory = inv
	apimeta.SetStatusCondition(&ks.Status.Conditions, metav1.Condition{
		Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.ReconciliationSucceededReason,
		Message: "Applied revision: " + s.Revision, ObservedGeneration: ks.Generation,
	})
	apimeta.SetStatusCondition(&ks.Status.Conditions, metav1.Condition{
		Type: meta.HealthyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: "Health check passed", ObservedGeneration: ks.Generation,
	})
	return hub.Status().Update(ctx, ks)
}

// apply applies the objects of a Kustomization to target and returns the
// inventory: as kustomize-controller does (ssa.ApplyAllStaged), or
// concurrently with SampleOptions.ApplyConcurrency.
func (s *Sample) apply(ctx context.Context, target *Cluster, objects []*unstructured.Unstructured) (*kustomizev1.ResourceInventory, error) {
	if s.applyConcurrency > 0 {
		return applyConcurrently(ctx, target, objects, s.applyConcurrency)
	}
	poller := polling.NewStatusPoller(target.Client, target.Client.RESTMapper(), polling.Options{})
	rm := ssa.NewResourceManager(target.Client, poller, kustomizeOwner)
	cs, err := rm.ApplyAllStaged(ctx, objects, ssa.DefaultApplyOptions())
	if err != nil {
		return nil, err
	}
	inv := &kustomizev1.ResourceInventory{}
	for _, e := range cs.Entries {
		inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: e.ObjMetadata.String(), Version: versionOf(e.GroupVersion)})
	}
	return inv, nil
}

func versionOf(gv string) string {
	if i := strings.LastIndex(gv, "/"); i >= 0 {
		return gv[i+1:]
	}
	return gv
}

// target returns the cluster a Kustomization applies to.
func (s *Sample) target(ks *kustomizev1.Kustomization) (*Cluster, error) {
	if ks.Spec.KubeConfig == nil || ks.Spec.KubeConfig.SecretRef == nil {
		return s.Fleet.Hub, nil
	}
	name := strings.TrimSuffix(ks.Spec.KubeConfig.SecretRef.Name, "-kubeconfig")
	if spoke, ok := s.aliases[name]; ok {
		name = spoke
	}
	c := s.Fleet.Spokes[name]
	if c == nil {
		return nil, fmt.Errorf("Kustomization %s targets unknown spoke %q", ks.Name, name)
	}
	return c, nil
}

// markHelmReleasesInstalled writes, for every HelmRelease of the sample,
// the HelmChart source-controller would make and the status helm-controller
// writes after an install. With install, the chart is installed for real
// on the HelmRelease's target first (helmInstall: Helm storage and the
// chart's objects on the spoke) and the history records its values
// digest; without, no Helm runs and the spokes get no chart objects.
func (s *Sample) markHelmReleasesInstalled(ctx context.Context, install bool) error {
	hub := s.Fleet.Hub.Client
	var list helmv2.HelmReleaseList
	if err := hub.List(ctx, &list, client.InNamespace(s.Namespace)); err != nil {
		return err
	}
	for i := range list.Items {
		hr := &list.Items[i]
		if hr.Spec.Chart == nil {
			continue
		}
		chart := &sourcev1.HelmChart{
			ObjectMeta: metav1.ObjectMeta{Name: s.Namespace + "-" + hr.Name, Namespace: s.Namespace},
			Spec: sourcev1.HelmChartSpec{
				Chart:     hr.Spec.Chart.Spec.Chart,
				Version:   hr.Spec.Chart.Spec.Version,
				SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: hr.Spec.Chart.Spec.SourceRef.Kind, Name: hr.Spec.Chart.Spec.SourceRef.Name},
				Interval:  metav1.Duration{Duration: 10 * time.Minute},
			},
		}
		if err := hub.Create(ctx, chart); client.IgnoreAlreadyExists(err) != nil {
			return err
		}
		if err := s.setArtifact(ctx, chart, hr.Spec.Chart.Spec.Version); err != nil {
			return err
		}
		version, configDigest := hr.Spec.Chart.Spec.Version, digest(hr.Name)
		var inventory *helmv2.ResourceInventory
		if install {
			var err error
			if version, configDigest, inventory, err = s.helmInstall(ctx, hr); err != nil {
				return err
			}
		}
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		target := hr.Spec.TargetNamespace
		if target == "" {
			target = hr.Namespace
		}
		hr.Status.ObservedGeneration = hr.Generation
		hr.Status.HelmChart = s.Namespace + "/" + chart.Name
		hr.Status.LastAttemptedRevision = version
		hr.Status.LastAttemptedReleaseAction = helmv2.ReleaseActionInstall
		// As helm-controller records them: the storage namespace and the
		// release name of the HelmRelease.
		hr.Status.StorageNamespace = hr.GetStorageNamespace()
		hr.Status.Inventory = inventory
		hr.Status.History = helmv2.Snapshots{{
			Name: releaseName(hr), Namespace: target, Version: 1, Status: "deployed",
			ChartName: hr.Spec.Chart.Spec.Chart, ChartVersion: version,
			Digest: digest(hr.Name + version), ConfigDigest: configDigest,
			FirstDeployed: now, LastDeployed: now,
		}}
		apimeta.SetStatusCondition(&hr.Status.Conditions, metav1.Condition{
			Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: helmv2.InstallSucceededReason,
			Message: fmt.Sprintf("Helm install succeeded for release %s/%s.v1 with chart %s@%s", target, hr.Name, hr.Spec.Chart.Spec.Chart, version),
		})
		if err := hub.Status().Update(ctx, hr); err != nil {
			return err
		}
	}
	return nil
}

func digest(s string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s)))
}

// SetSourceRevision sets the artifact revision of the sample's
// GitRepository, as source-controller does after fetching a new commit.
func (s *Sample) SetSourceRevision(ctx context.Context, revision string) error {
	repo := &sourcev1.GitRepository{}
	if err := s.Fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: "flux-system"}, repo); err != nil {
		return err
	}
	return s.setArtifact(ctx, repo, revision)
}

type artifactSetter interface {
	client.Object
	SetConditions([]metav1.Condition)
	GetConditions() []metav1.Condition
}

func (s *Sample) setArtifact(ctx context.Context, obj artifactSetter, revision string) error {
	hub := s.Fleet.Hub.Client
	if err := hub.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return err
	}
	kind := strings.ToLower(obj.GetObjectKind().GroupVersionKind().Kind)
	if kind == "" {
		kind = "source"
	}
	art := &meta.Artifact{
		Path:           fmt.Sprintf("%s/%s/%s/%s.tar.gz", kind, obj.GetNamespace(), obj.GetName(), strings.ReplaceAll(revision, ":", "-")),
		URL:            "http://source-controller.flux-system.svc.cluster.local./" + obj.GetName(),
		Revision:       revision,
		Digest:         digest(revision),
		LastUpdateTime: metav1.NewTime(time.Now().Truncate(time.Second)),
	}
	switch o := obj.(type) {
	case *sourcev1.GitRepository:
		o.Status.Artifact = art
		o.Status.ObservedGeneration = o.Generation
	case *sourcev1.HelmChart:
		o.Status.Artifact = art
		o.Status.ObservedGeneration = o.Generation
	case *sourcev1.OCIRepository:
		o.Status.Artifact = art
		o.Status.ObservedGeneration = o.Generation
	}
	conds := obj.GetConditions()
	apimeta.SetStatusCondition(&conds, metav1.Condition{
		Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: "stored artifact for revision '" + revision + "'",
	})
	obj.SetConditions(conds)
	return hub.Status().Update(ctx, obj)
}

// copyTree copies src to dst; when ns is set, every "namespace: flux-system"
// in YAML files (.yaml, .yml) becomes "namespace: <ns>" so that a test's Flux objects live
// in its own hub namespace. Each key of replace in a YAML file becomes its
// value (the chart repository URLs). Each namespace named by a key of
// namespaces becomes its value (renameNamespaces).
func copyTree(src, dst, ns string, replace, namespaces map[string]string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		yml := strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")
		if ns != "" && ns != "flux-system" && yml {
			b = []byte(strings.ReplaceAll(string(b), "namespace: flux-system", "namespace: "+ns))
		}
		if yml {
			for old, new := range replace {
				b = []byte(strings.ReplaceAll(string(b), old, new))
			}
			b = renameNamespaces(b, namespaces)
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}

// commitAll makes dir a git repository on branch main with one commit of
// everything in it and returns the commit hash.
func commitAll(dir, msg string) (string, error) {
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: "refs/heads/main"},
	})
	if err != nil {
		return "", err
	}
	if _, err := repo.CreateRemote(&gitconfigRemote); err != nil {
		return "", err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", err
	}
	if err := wt.AddGlob("."); err != nil {
		return "", err
	}
	sig := &object.Signature{Name: "c5c3 test", Email: "test@c5c3.example", When: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// commitFile writes file (slash-separated, relative to the checkout dir)
// and commits it on the checked-out branch.
func commitFile(dir, file, content, msg string) error {
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(file)), []byte(content), 0o644); err != nil {
		return err
	}
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	if _, err := wt.Add(file); err != nil {
		return err
	}
	sig := &object.Signature{Name: "c5c3 test", Email: "test@c5c3.example", When: time.Now()}
	_, err = wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	return err
}
