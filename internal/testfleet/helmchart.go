package testfleet

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ServeHelmCharts plays source-controller's HelmChart reconciler for the
// HelmCharts in a hub namespace (helm-controller creates one for every
// HelmRelease with spec.chart) while the test runs: whenever a HelmChart's
// generation is not yet observed, it resolves spec.chart and spec.version
// in the index.yaml of its HelmRepository — which must be charts' HTTP
// repository — with Helm's own index lookup, serves the packaged archive
// from srv and writes the status source-controller writes: the
// HelmRepository's index artifact and Ready, and the HelmChart's artifact
// (path helmchart/<ns>/<name>/<chart>-<version>.tgz, revision the chart
// version, sha256 digest, size), url, observedGeneration,
// observedChartName, observedSourceArtifactRevision, Ready and
// ArtifactInStorage ("pulled '<chart>' chart with version '<version>'").
// A chart it cannot resolve gets Ready=False with the reason. It polls
// every 200 ms; errors writing a status (the first five) fail the test
// when it ends.
func (f *Fleet) ServeHelmCharts(t *testing.T, srv *ArtifactServer, namespace string, charts *ChartServers) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg   sync.WaitGroup
		errs []error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if err := f.reconcileHelmCharts(ctx, srv, namespace, charts); err != nil && ctx.Err() == nil && !apierrors.IsConflict(err) && len(errs) < 5 {
				errs = append(errs, err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Errorf("serving HelmCharts of %s: %v", namespace, err)
		}
	})
}

func (f *Fleet) reconcileHelmCharts(ctx context.Context, srv *ArtifactServer, namespace string, charts *ChartServers) error {
	hub := f.Hub.Client
	var list sourcev1.HelmChartList
	if err := hub.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return err
	}
	for i := range list.Items {
		hc := &list.Items[i]
		if hc.Generation == hc.Status.ObservedGeneration && hc.Status.Artifact != nil {
			continue
		}
		if err := f.reconcileHelmChart(ctx, srv, hc, charts); err != nil {
			return fmt.Errorf("HelmChart %s/%s: %w", hc.Namespace, hc.Name, err)
		}
	}
	return nil
}

func (f *Fleet) reconcileHelmChart(ctx context.Context, srv *ArtifactServer, hc *sourcev1.HelmChart, charts *ChartServers) error {
	hub := f.Hub.Client
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	notReady := func(reason, msg string) error {
		hc.Status.ObservedGeneration = hc.Generation
		apimeta.SetStatusCondition(&hc.Status.Conditions, metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionFalse,
			Reason: reason, Message: msg, ObservedGeneration: hc.Generation})
		return hub.Status().Update(ctx, hc)
	}
	if hc.Spec.SourceRef.Kind != sourcev1.HelmRepositoryKind {
		return notReady("UnsupportedSourceKind", "the test source serves only HelmRepository charts, not "+hc.Spec.SourceRef.Kind)
	}
	hr := &sourcev1.HelmRepository{}
	if err := hub.Get(ctx, client.ObjectKey{Namespace: hc.Namespace, Name: hc.Spec.SourceRef.Name}, hr); err != nil {
		if apierrors.IsNotFound(err) {
			return notReady("SourceUnavailable", err.Error())
		}
		return err
	}
	if hr.Spec.URL != charts.HTTP.URL() {
		return notReady("SourceUnavailable", fmt.Sprintf("HelmRepository %s/%s: the test source serves only %s, not %s", hr.Namespace, hr.Name, charts.HTTP.URL(), hr.Spec.URL))
	}

	// The HelmRepository's artifact: the index, as source-controller
	// stores it.
	indexPath := filepath.Join(charts.HTTP.Root(), "index.yaml")
	index, err := os.ReadFile(indexPath)
	if err != nil {
		return err
	}
	indexDigest := fmt.Sprintf("sha256:%x", sha256.Sum256(index))
	if a := hr.Status.Artifact; a == nil || a.Revision != indexDigest || hr.Status.ObservedGeneration != hr.Generation {
		path := fmt.Sprintf("helmrepository/%s/%s/index-%x.yaml", hr.Namespace, hr.Name, sha256.Sum256(index))
		size := int64(len(index))
		hr.Status.Artifact = &meta.Artifact{Path: path, URL: srv.Put(path, index), Revision: indexDigest, Digest: indexDigest, LastUpdateTime: now, Size: &size}
		hr.Status.URL = srv.Put(fmt.Sprintf("helmrepository/%s/%s/index.yaml", hr.Namespace, hr.Name), index)
		hr.Status.ObservedGeneration = hr.Generation
		msg := "stored artifact: revision '" + indexDigest + "'"
		apimeta.SetStatusCondition(&hr.Status.Conditions, metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue,
			Reason: meta.SucceededReason, Message: msg, ObservedGeneration: hr.Generation})
		apimeta.SetStatusCondition(&hr.Status.Conditions, metav1.Condition{Type: sourcev1.ArtifactInStorageCondition, Status: metav1.ConditionTrue,
			Reason: meta.SucceededReason, Message: msg, ObservedGeneration: hr.Generation})
		if err := hub.Status().Update(ctx, hr); err != nil {
			return err
		}
	}

	idx, err := repo.LoadIndexFile(indexPath)
	if err != nil {
		return err
	}
	cv, err := idx.Get(hc.Spec.Chart, hc.Spec.Version)
	if err != nil {
		return notReady("InvalidChartReference", fmt.Sprintf("invalid chart reference: failed to get chart version for remote reference: %s", err))
	}
	c := charts.Charts[cv.Name+"-"+cv.Version]
	if c == nil {
		return fmt.Errorf("index names %s-%s, which was not packaged", cv.Name, cv.Version)
	}
	data, err := os.ReadFile(c.Archive)
	if err != nil {
		return err
	}
	dir := fmt.Sprintf("helmchart/%s/%s/", hc.Namespace, hc.Name)
	path := dir + fmt.Sprintf("%s-%s.tgz", cv.Name, cv.Version)
	size := int64(len(data))
	hc.Status.Artifact = &meta.Artifact{Path: path, URL: srv.Put(path, data), Revision: cv.Version,
		Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(data)), LastUpdateTime: now, Size: &size}
	hc.Status.URL = srv.Put(dir+"latest.tar.gz", data)
	hc.Status.ObservedGeneration = hc.Generation
	hc.Status.ObservedChartName = cv.Name
	hc.Status.ObservedSourceArtifactRevision = indexDigest
	msg := fmt.Sprintf("pulled '%s' chart with version '%s'", cv.Name, cv.Version)
	apimeta.SetStatusCondition(&hc.Status.Conditions, metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue,
		Reason: sourcev1.ChartPullSucceededReason, Message: msg, ObservedGeneration: hc.Generation})
	apimeta.SetStatusCondition(&hc.Status.Conditions, metav1.Condition{Type: sourcev1.ArtifactInStorageCondition, Status: metav1.ConditionTrue,
		Reason: sourcev1.ChartPullSucceededReason, Message: msg, ObservedGeneration: hc.Generation})
	return hub.Status().Update(ctx, hc)
}
