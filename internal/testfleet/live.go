package testfleet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// LiveSample is the sample gitops repo reconciled by the real Flux
// kustomize-controller (not simulated as LoadSample does). The test serves
// the source artifact itself: source-controller is not run.
type LiveSample struct {
	*Sample
	// Controller is the kustomize-controller reconciling Namespace.
	Controller *Controller
	// Artifacts serves the GitRepository's artifacts.
	Artifacts *ArtifactServer
}

// LoadSampleWithController loads the sample gitops repo into a hub
// namespace and lets the real kustomize-controller reconcile it. It
// creates only what a bootstrap creates — the namespace, the spokes'
// kubeconfig Secrets, the GitRepository flux-system (its artifact served
// from a local HTTP server, status written as source-controller would) and
// the Kustomization flux-system for ./clusters/management — then starts the
// controller and waits until every Kustomization in the namespace is Ready
// at the commit. The controller creates the nested Kustomizations and
// applies them to the hub and, through the kubeconfig Secrets, to the
// spokes, honouring dependsOn and postBuild.substituteFrom.
//
// The sample's HelmReleases are applied to the hub but stay unreconciled:
// helm-controller does not run. No FluxReport is written (opts.NoFluxReport
// is implied). Close stops the controller and the artifact server.
func (f *Fleet) LoadSampleWithController(ctx context.Context, opts SampleOptions) (_ *LiveSample, err error) {
	if _, err := FluxBinDir(); err != nil {
		return nil, err
	}
	sample, err := f.newSample(ctx, opts)
	if err != nil {
		return nil, err
	}
	s := &LiveSample{Sample: sample}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	s.Artifacts = NewArtifactServer()
	repo := client.ObjectKey{Namespace: s.Namespace, Name: "flux-system"}
	ignore, err := f.sourceIgnore(ctx, repo)
	if err != nil {
		return nil, err
	}
	art, err := ArchiveCommit(s.RepoDir, strings.TrimPrefix(s.Revision, "main@sha1:"), ignore)
	if err != nil {
		return nil, err
	}
	if err := f.PublishArtifact(ctx, s.Artifacts, repo, art); err != nil {
		return nil, fmt.Errorf("publishing the source artifact: %w", err)
	}
	if err := s.createSync(ctx); err != nil {
		return nil, err
	}
	if s.Controller, err = f.StartController(s.Namespace, opts.ControllerArgs...); err != nil {
		return nil, err
	}
	if _, err := s.WaitReady(ctx, s.Revision); err != nil {
		return nil, err
	}
	return s, nil
}

// Publish commits everything in the checkout (as a push to main would) and
// publishes the commit as the GitRepository's new artifact, as
// source-controller does when it sees the push. It returns and records the
// new revision; the controller then reconciles (see WaitReady).
func (s *LiveSample) Publish(ctx context.Context, message string) (string, error) {
	repo, err := git.PlainOpen(s.RepoDir)
	if err != nil {
		return "", err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", err
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return "", err
	}
	sig := &object.Signature{Name: "c5c3 test", Email: "test@c5c3.example", When: time.Now().UTC().Truncate(time.Second)}
	h, err := wt.Commit(message, &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true})
	if err != nil {
		return "", err
	}
	key := client.ObjectKey{Namespace: s.Namespace, Name: "flux-system"}
	ignore, err := s.Fleet.sourceIgnore(ctx, key)
	if err != nil {
		return "", err
	}
	art, err := ArchiveCommit(s.RepoDir, h.String(), ignore)
	if err != nil {
		return "", err
	}
	if err := s.Fleet.PublishArtifact(ctx, s.Artifacts, key, art); err != nil {
		return "", err
	}
	s.Revision = art.Revision
	return s.Revision, nil
}

// WaitReady waits until the named Kustomizations of the namespace (all of
// them when none are named; at least flux-system) are Ready at revision:
// Ready=True for the current generation and lastAppliedRevision equal to
// revision. It polls until ctx ends and then reports, for each one that is
// not there, its last Ready condition, with the tail of the controller log.
func (s *LiveSample) WaitReady(ctx context.Context, revision string, names ...string) ([]kustomizev1.Kustomization, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	if len(names) == 0 {
		want["flux-system"] = true
	}
	var pending []string
	for {
		var list kustomizev1.KustomizationList
		err := s.Fleet.Hub.Client.List(ctx, &list, client.InNamespace(s.Namespace))
		if err == nil {
			pending = pending[:0]
			seen := map[string]bool{}
			var got []kustomizev1.Kustomization
			for _, ks := range list.Items {
				if len(names) > 0 && !want[ks.Name] {
					continue
				}
				seen[ks.Name] = true
				got = append(got, ks)
				if msg := notReadyAt(&ks, revision); msg != "" {
					pending = append(pending, ks.Name+": "+msg)
				}
			}
			for n := range want {
				if !seen[n] {
					pending = append(pending, n+": not created yet")
				}
			}
			if len(pending) == 0 {
				sort.Slice(got, func(i, j int) bool { return got[i].Name < got[j].Name })
				return got, nil
			}
			sort.Strings(pending)
		}
		if exit := s.Controller.Exited(); exit != nil {
			return nil, fmt.Errorf("%w; log %s:\n%s", exit, s.Controller.LogFile, s.Controller.LogTail(40))
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = errors.New(strings.Join(pending, "\n  "))
			}
			return nil, fmt.Errorf("Kustomizations in %s not Ready at %s (%v):\n  %w\nkustomize-controller log %s (tail):\n%s",
				s.Namespace, revision, ctx.Err(), err, s.Controller.LogFile, s.Controller.LogTail(40))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// notReadyAt says why ks is not Ready at revision, or "" when it is.
func notReadyAt(ks *kustomizev1.Kustomization, revision string) string {
	ready := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition)
	switch {
	case ready == nil:
		return "no Ready condition yet"
	case ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != ks.Generation || ks.Status.ObservedGeneration != ks.Generation:
		return fmt.Sprintf("Ready=%s %s: %s (generation %d, observed %d)", ready.Status, ready.Reason, ready.Message, ks.Generation, ks.Status.ObservedGeneration)
	case ks.Status.LastAppliedRevision != revision:
		return fmt.Sprintf("Ready at %q, not yet at the new revision", ks.Status.LastAppliedRevision)
	}
	return ""
}

// Close stops the controller and the artifact server. The hub objects
// stay (like those of LoadSample).
func (s *LiveSample) Close() error {
	var errs []error
	if s.Controller != nil {
		errs = append(errs, s.Controller.Stop())
	}
	if s.Artifacts != nil {
		s.Artifacts.Close()
	}
	return errors.Join(errs...)
}
