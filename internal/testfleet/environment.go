package testfleet

import (
	"context"
	"fmt"
	"strings"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ReconcileEnvironment reconciles one of the EnvironmentKustomizations
// (after AddEnvironments) as kustomize-controller would: its build is
// applied to the hub — creating the environment's sources, HelmReleases and
// nested Kustomizations, listed in its inventory — then each Kustomization
// it created is reconciled onto its cluster, and the HelmReleases are
// marked installed. Only one environment of a sample may be reconciled:
// staging and production name their hub objects alike.
func (s *Sample) ReconcileEnvironment(ctx context.Context, name string) error {
	if err := s.Reconcile(ctx, name); err != nil {
		return err
	}
	ks := &kustomizev1.Kustomization{}
	if err := s.Fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, ks); err != nil {
		return err
	}
	for _, e := range ks.Status.Inventory.Entries {
		parts := strings.Split(e.ID, "_")
		if len(parts) == 4 && parts[2] == kustomizev1.GroupVersion.Group && parts[3] == kustomizev1.KustomizationKind {
			if err := s.Reconcile(ctx, parts[1]); err != nil {
				return err
			}
		}
	}
	return s.markHelmReleasesInstalled(ctx, false) // two environments would share one release on a spoke
}

// SetReadySince records that a Kustomization or HelmRelease has run Ready
// at its current revision since the given time, as its controller would
// have: the Ready condition's lastTransitionTime and — for a Kustomization —
// a status.history snapshot of its lastAppliedRevision first reconciled
// then (kustomize-controller ≥ 1.7), for a HelmRelease the deployed
// release's firstDeployed/lastDeployed.
func (s *Sample) SetReadySince(ctx context.Context, kind, name string, since time.Time) error {
	obj, conds, err := s.object(ctx, kind, name)
	if err != nil {
		return err
	}
	c := apimeta.FindStatusCondition(*conds, meta.ReadyCondition)
	if c == nil || c.Status != metav1.ConditionTrue {
		return fmt.Errorf("%s %s is not Ready", kind, name)
	}
	at := metav1.NewTime(since.Truncate(time.Second))
	c.LastTransitionTime = at
	switch o := obj.(type) {
	case *kustomizev1.Kustomization:
		rev := o.Status.LastAppliedRevision
		o.Status.History = meta.History{{
			Digest: digest(o.Name + rev), FirstReconciled: at, LastReconciled: metav1.NewTime(time.Now().Truncate(time.Second)),
			LastReconciledDuration: metav1.Duration{Duration: time.Second}, LastReconciledStatus: meta.ReconciliationSucceededReason,
			TotalReconciliations: 1, Metadata: map[string]string{"revision": rev},
		}}
	case *helmv2.HelmRelease:
		if len(o.Status.History) == 0 {
			return fmt.Errorf("HelmRelease %s has no release in status.history", name)
		}
		o.Status.History[0].FirstDeployed, o.Status.History[0].LastDeployed = at, at
	}
	return s.Fleet.Hub.Client.Status().Update(ctx, obj)
}
