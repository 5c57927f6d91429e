package testfleet

import (
	"context"
	"fmt"
	"strings"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// Environment is one promotion environment of the sample (clusters/<name>
// and the apps/*/<name> overlays its Kustomizations apply) reconciled into
// a hub namespace of its own, standing for that environment's own hub.
type Environment struct {
	// Name is the environment's name in c5c3.yaml.
	Name string
	// Namespace holds its Flux objects in the hub, and its workloads on
	// the spokes.
	Namespace string
	// Sample the environment belongs to; its commit is what it applied.
	Sample *Sample
}

// ApplyEnvironment reconciles environment name of the sample at the
// sample's commit, the way its hub's Flux would: a hub Kustomization
// "<name>-apps" (./clusters/<name>, targetNamespace <sample ns>-<name>)
// applies the environment's Flux objects, then each Kustomization that
// created is reconciled with its workloads put in the same namespace on its
// spoke (so that two environments on the one test fleet never share an
// object). The kubeconfig Secrets and the cluster-vars ConfigMap are copied
// from the sample's namespace. Sources, HelmReleases and the FluxInstance
// get the status their controllers write once they applied what is pinned:
// OCIRepository/GitRepository artifacts at their spec.ref tag, HelmReleases
// installed at their chart version, the FluxInstance at the distribution
// version (an x in it read as 0; FluxVersion for the management hub's).
func (s *Sample) ApplyEnvironment(ctx context.Context, name string) (*Environment, error) {
	env := &Environment{Name: name, Namespace: s.Namespace + "-" + name, Sample: s}
	es := &Sample{Fleet: s.Fleet, Namespace: env.Namespace, RepoDir: s.RepoDir, Revision: s.Revision, URL: s.URL}
	hub := s.Fleet.Hub.Client
	if err := hub.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: env.Namespace}}); client.IgnoreAlreadyExists(err) != nil {
		return nil, err
	}
	for spoke, c := range s.Fleet.Spokes {
		if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: env.Namespace}}); client.IgnoreAlreadyExists(err) != nil {
			return nil, fmt.Errorf("namespace %s on %s: %w", env.Namespace, spoke, err)
		}
		if err := s.copyObject(ctx, &corev1.Secret{}, spoke+"-kubeconfig", env.Namespace); err != nil {
			return nil, err
		}
	}
	if err := s.copyObject(ctx, &corev1.ConfigMap{}, "cluster-vars", env.Namespace); err != nil {
		return nil, err
	}
	root := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-apps", Namespace: env.Namespace},
		Spec: kustomizev1.KustomizationSpec{
			Interval: metav1.Duration{Duration: 10 * time.Minute}, Path: "./clusters/" + name, Prune: true,
			TargetNamespace: env.Namespace,
			SourceRef:       kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "flux-system", Namespace: s.Namespace},
		},
	}
	if err := hub.Create(ctx, root); err != nil {
		return nil, err
	}
	if err := es.Reconcile(ctx, root.Name); err != nil {
		return nil, err
	}
	var list kustomizev1.KustomizationList
	if err := hub.List(ctx, &list, client.InNamespace(env.Namespace)); err != nil {
		return nil, err
	}
	for i := range list.Items {
		ks := &list.Items[i]
		if ks.Name == root.Name {
			continue
		}
		ks.Spec.TargetNamespace = env.Namespace
		ks.Spec.SourceRef.Namespace = s.Namespace
		if err := hub.Update(ctx, ks); err != nil {
			return nil, err
		}
		if err := es.Reconcile(ctx, ks.Name); err != nil {
			return nil, err
		}
	}
	if err := es.markHelmReleasesInstalled(ctx, false); err != nil {
		return nil, err
	}
	if err := es.markSourcesFetched(ctx); err != nil {
		return nil, err
	}
	return env, es.markFluxInstanceApplied(ctx)
}

// copyObject copies the Secret or ConfigMap name from the sample's
// namespace to ns.
func (s *Sample) copyObject(ctx context.Context, obj client.Object, name, ns string) error {
	hub := s.Fleet.Hub.Client
	if err := hub.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, obj); err != nil {
		return err
	}
	obj.SetNamespace(ns)
	obj.SetResourceVersion("")
	obj.SetUID("")
	obj.SetCreationTimestamp(metav1.Time{})
	obj.SetManagedFields(nil)
	obj.SetOwnerReferences(nil)
	obj.SetLabels(nil)
	return client.IgnoreAlreadyExists(hub.Create(ctx, obj))
}

// markSourcesFetched gives the OCIRepositories and GitRepositories of the
// namespace the artifact source-controller stores for their spec.ref tag.
func (s *Sample) markSourcesFetched(ctx context.Context) error {
	hub := s.Fleet.Hub.Client
	var ocis sourcev1.OCIRepositoryList
	if err := hub.List(ctx, &ocis, client.InNamespace(s.Namespace)); err != nil {
		return err
	}
	for i := range ocis.Items {
		o := &ocis.Items[i]
		if o.Spec.Reference == nil || o.Spec.Reference.Tag == "" {
			continue
		}
		if err := s.setArtifact(ctx, o, o.Spec.Reference.Tag+"@"+digest(o.Name+o.Spec.Reference.Tag)); err != nil {
			return err
		}
	}
	var gits sourcev1.GitRepositoryList
	if err := hub.List(ctx, &gits, client.InNamespace(s.Namespace)); err != nil {
		return err
	}
	for i := range gits.Items {
		g := &gits.Items[i]
		if g.Spec.Reference == nil || g.Spec.Reference.Tag == "" {
			continue
		}
		sum := strings.TrimPrefix(digest(g.Name+g.Spec.Reference.Tag), "sha256:")[:40]
		if err := s.setArtifact(ctx, g, g.Spec.Reference.Tag+"@sha1:"+sum); err != nil {
			return err
		}
	}
	return nil
}

// FluxInstanceGVK is the Flux Operator's FluxInstance, written as
// unstructured data (the operator's Go packages are AGPL and never
// imported).
var FluxInstanceGVK = fleet.FluxReportGVK.GroupVersion().WithKind("FluxInstance")

// markFluxInstanceApplied writes the status the Flux Operator writes once
// it installed the distribution of the namespace's FluxInstance "flux".
func (s *Sample) markFluxInstanceApplied(ctx context.Context) error {
	hub := s.Fleet.Hub.Client
	fi := &unstructured.Unstructured{}
	fi.SetGroupVersionKind(FluxInstanceGVK)
	if err := hub.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: "flux"}, fi); err != nil {
		return client.IgnoreNotFound(err)
	}
	version, _, _ := unstructured.NestedString(fi.Object, "spec", "distribution", "version")
	applied := "v" + strings.ReplaceAll(strings.TrimPrefix(version, "v"), "x", "0")
	rev := applied + "@" + digest("flux"+applied)
	status := map[string]any{
		"lastAppliedRevision": rev, "lastAttemptedRevision": rev, "observedGeneration": fi.GetGeneration(),
		"conditions": []any{map[string]any{"type": meta.ReadyCondition, "status": "True", "reason": meta.ReconciliationSucceededReason,
			"message": "Reconciliation finished in 2s", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}},
	}
	if err := unstructured.SetNestedField(fi.Object, status, "status"); err != nil {
		return err
	}
	return hub.Status().Update(ctx, fi)
}

// ApplyPipeline applies the sample's staging and production environments
// (ApplyEnvironment) and commits a c5c3.yaml to the checkout naming their
// root Kustomizations, pipeline staging → production: the shared test hub
// holds other tests' environments too.
func (s *Sample) ApplyPipeline(ctx context.Context) (map[string]*Environment, error) {
	envs := map[string]*Environment{}
	for _, name := range []string{"staging", "production"} {
		e, err := s.ApplyEnvironment(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("applying environment %s: %w", name, err)
		}
		envs[name] = e
	}
	cfg := `apiVersion: c5c3.cobaltcore.io/v1alpha1
kind: Promotion
environments:
  - name: staging
    paths: [clusters/staging, apps/*/staging]
    kustomizations: [` + envs["staging"].Namespace + `/staging-apps]
  - name: production
    paths: [clusters/production, apps/*/production]
    kustomizations: [` + envs["production"].Namespace + `/production-apps]
pipeline: [staging, production]
`
	if err := commitFile(s.RepoDir, "c5c3.yaml", cfg, "c5c3.yaml: the test's environment namespaces"); err != nil {
		return nil, fmt.Errorf("committing c5c3.yaml: %w", err)
	}
	return envs, nil
}
