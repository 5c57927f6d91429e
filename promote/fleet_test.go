package promote

import (
	"context"
	"errors"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// envFleet is the sample loaded into a fresh hub namespace, with its own
// workload namespaces (e.s.SpokeNamespace), hub Kustomizations for the
// staging and production environments that applied the sample's commit
// (testfleet's AddEnvironments), and a checkout set up as a user's.
type envFleet struct {
	s      *testfleet.Sample
	repo   *testRepo
	hub    *kube.Client
	commit string // what the environments applied
}

// loadEnvironments loads an envFleet of the test's own: the test may edit
// the sample, its checkout and its objects in the hub and on the spokes.
func loadEnvironments(t *testing.T) *envFleet {
	t.Helper()
	f := testfleet.Get(t)
	ctx := ctxT(t)
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(t), OwnNamespaces: true})
	if err != nil {
		t.Fatalf("loading sample: %v", err)
	}
	expect.NoError(t, s.AddEnvironments(ctx))
	return newEnvFleet(t, s, s.RepoDir)
}

// sharedEnv is the sample of sharedEnvironments, loaded once per run.
var sharedEnv = testfleet.SharedSample{Setup: func(ctx context.Context, s *testfleet.Sample) error { return s.AddEnvironments(ctx) }}

// sharedEnvironments is an envFleet on the package's one shared sample
// (testfleet.SharedSample), for a test that calls t.Parallel first and
// only reads the fleet: its checkout is a clone of the sample's of its
// own, which it may edit.
func sharedEnvironments(t *testing.T) *envFleet {
	t.Helper()
	s := sharedEnv.Get(t)
	dir := filepath.Join(t.TempDir(), "c5c3-gitops")
	gitT(t, "", "clone", "--quiet", s.RepoDir, dir)
	gitT(t, dir, "remote", "set-url", "origin", testfleet.SampleURL)
	return newEnvFleet(t, s, dir)
}

// newEnvFleet makes dir, a checkout of s, a user's (committer, main
// tracking origin/main).
func newEnvFleet(t *testing.T, s *testfleet.Sample, dir string) *envFleet {
	t.Helper()
	hub, err := kube.NewClient(s.Fleet.Hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	e := &envFleet{s: s, hub: hub, commit: strings.TrimPrefix(s.Revision, "main@sha1:")}
	gitT(t, dir, "config", "user.name", "Dana Operator")
	gitT(t, dir, "config", "user.email", "dana@c5c3.example")
	setUpstream(t, dir)
	e.repo = &testRepo{Dir: dir, Commit: e.commit}
	return e
}

// addKustomization creates a hub Kustomization from the sample's
// GitRepository, Ready at revision, as kustomize-controller reports it.
func (e *envFleet) addKustomization(t *testing.T, name, path, revision string) {
	t.Helper()
	ctx := ctxT(t)
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.s.Namespace},
		Spec: kustomizev1.KustomizationSpec{
			Interval: metav1.Duration{Duration: 10 * time.Minute}, Path: path, Prune: true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"},
		},
	}
	if err := e.hub.Client.Create(ctx, ks); err != nil {
		t.Fatal(err)
	}
	ks.Status.ObservedGeneration = ks.Generation
	ks.Status.LastAppliedRevision, ks.Status.LastAttemptedRevision = revision, revision
	ks.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}} // nothing applied
	apimeta.SetStatusCondition(&ks.Status.Conditions, metav1.Condition{
		Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.ReconciliationSucceededReason,
		Message: "Applied revision: " + revision, ObservedGeneration: ks.Generation,
	})
	if err := e.hub.Client.Status().Update(ctx, ks); err != nil {
		t.Fatal(err)
	}
}

// options promote staging → production from what runs, reading the hub.
func (e *envFleet) options() Options {
	return Options{RepoDir: e.repo.Dir, From: "staging", To: "production", DryRun: true,
		Fleet: func(ctx context.Context, _ *pipeline.Environment) (*fleet.Fleet, error) {
			return fleet.Discover(ctx, e.hub, fleet.Options{Namespace: e.s.Namespace})
		}}
}

func TestPromoteGatePasses(t *testing.T) {
	t.Parallel()
	e := sharedEnvironments(t)
	before := snapshot(t, e.repo.Dir)
	p, err := Run(ctxT(t), e.options())
	if err != nil {
		t.Fatal(err)
	}
	h := p.HealthCheck
	if h == nil || !h.Healthy || h.Commit != e.commit || len(h.Kustomizations) != 1 || h.Kustomizations[0].ID() != e.s.Namespace+"/staging-apps" {
		t.Fatalf("health check %+v", h)
	}
	if p.From.Revision != RevisionLive || p.From.Commit != e.commit || p.Summary.Changes != 5 {
		t.Fatalf("from %+v summary %+v", p.From, p.Summary)
	}
	assertUntouched(t, e.repo.Dir, before)
}

// TestPromoteLiveReadsAppliedCommit: HEAD moved on after staging applied;
// live promotes what staging runs, HEAD what is committed.
func TestPromoteLiveReadsAppliedCommit(t *testing.T) {
	t.Parallel()
	e := sharedEnvironments(t)
	head := replaceInFile(t, e.repo.Dir, "clusters/staging/keystone-memcached.yaml", `version: "7.5.0"`, `version: "7.6.0"`, "staging: memcached 7.6.0")
	setUpstream(t, e.repo.Dir)
	newVersion := func(p *Plan) string {
		for _, c := range p.Changes {
			if c.Key == "HelmRelease/keystone-memcached/memcached" {
				return c.New
			}
		}
		return ""
	}
	p, err := Run(ctxT(t), e.options())
	if err != nil {
		t.Fatal(err)
	}
	if p.From.Commit != e.commit || newVersion(p) != "7.5.0" || p.To.BaseCommit != head {
		t.Fatalf("live: from %+v to %+v, memcached → %q; want the applied %s and 7.5.0", p.From, p.To, newVersion(p), e.commit)
	}
	o := e.options()
	o.FromRevision = RevisionHEAD
	p, err = Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if p.From.Commit != head || newVersion(p) != "7.6.0" || p.HealthCheck == nil || !p.HealthCheck.Healthy {
		t.Fatalf("HEAD: from %+v, memcached → %q, health %+v", p.From, newVersion(p), p.HealthCheck)
	}
	o.FromRevision = e.commit[:10]
	if p, err = Run(ctxT(t), o); err != nil || p.From.Commit != e.commit || newVersion(p) != "7.5.0" {
		t.Fatalf("<sha>: %v %+v", err, p)
	}
}

func TestPromoteGateRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		break_    func(t *testing.T, e *envFleet) string
		want      string
		skippable bool
	}{
		{name: "not ready", break_: func(t *testing.T, e *envFleet) string {
			expect.NoError(t, e.s.Fail(ctxT(t), "Kustomization", "staging-apps", "HealthCheckFailed", "timeout waiting for: [Deployment/openstack/keystone-api status: 'InProgress']"))
			return ""
		}, want: "staging-apps: not Ready: HealthCheckFailed: timeout waiting for: [Deployment/openstack/keystone-api status: 'InProgress']", skippable: true},
		{name: "suspended", break_: func(t *testing.T, e *envFleet) string {
			expect.NoError(t, e.s.Suspend(ctxT(t), "Kustomization", "staging-apps"))
			return ""
		}, want: "staging-apps: suspended", skippable: true},
		{name: "applied revision older than the source", break_: func(t *testing.T, e *envFleet) string {
			head := replaceInFile(t, e.repo.Dir, "clusters/staging/keystone-memcached.yaml", `version: "7.5.0"`, `version: "7.6.0"`, "staging: memcached 7.6.0")
			expect.NoError(t, e.s.AdvanceSource(ctxT(t), "main@sha1:"+head, "staging-apps"))
			return head
		}, want: "staging-apps: applied revision main@sha1:", skippable: true},
		{name: "two Kustomizations applied different commits", break_: func(t *testing.T, e *envFleet) string {
			head := replaceInFile(t, e.repo.Dir, "apps/keystone/staging/release.yaml", "canary", "canary2", "x")
			e.addKustomization(t, "staging-keystone", "./apps/keystone/staging", "main@sha1:"+head)
			return head
		}, want: "the Kustomizations of staging applied different commits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := loadEnvironments(t)
			tc.break_(t, e)
			before := snapshot(t, e.repo.Dir)
			o := e.options()
			o.DryRun = false
			p, err := Run(ctxT(t), o)
			var he *HealthError
			if !errors.As(err, &he) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--skip-health-check") {
				t.Fatalf("error %v, want a HealthError with %q", err, tc.want)
			}
			if p == nil || p.HealthCheck == nil || p.HealthCheck.Healthy || p.Result != nil {
				t.Fatalf("plan %+v", p)
			}
			assertUntouched(t, e.repo.Dir, before)

			o.SkipHealthCheck, o.DryRun = true, true
			p, err = Run(ctxT(t), o)
			if !tc.skippable {
				if err == nil || !strings.Contains(err.Error(), "cannot tell which commit staging runs") {
					t.Fatalf("--skip-health-check: %v", err)
				}
				return
			}
			if err != nil || p.From.Commit != e.commit || p.HealthCheck.Healthy {
				t.Fatalf("--skip-health-check: %v %+v", err, p)
			}
		})
	}
}

func TestPromoteHubSelection(t *testing.T) {
	t.Parallel()
	e := sharedEnvironments(t)
	ns := e.s.Namespace

	// Explicit kustomizations: in c5c3.yaml.
	replaceInFile(t, e.repo.Dir, "c5c3.yaml", "    paths: [clusters/staging, apps/*/staging]\n",
		"    paths: [clusters/staging, apps/*/staging]\n    kustomizations: ["+ns+"/staging-apps, "+ns+"/management-apps]\n", "explicit")
	setUpstream(t, e.repo.Dir)
	p, err := Run(ctxT(t), e.options())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.HealthCheck.Kustomizations) != 2 || p.HealthCheck.Kustomizations[1].Name != "management-apps" {
		t.Fatalf("explicit: %+v", p.HealthCheck.Kustomizations)
	}

	replaceInFile(t, e.repo.Dir, "c5c3.yaml", ns+"/management-apps", ns+"/nope", "missing")
	setUpstream(t, e.repo.Dir)
	if _, err := Run(ctxT(t), e.options()); err == nil || !strings.Contains(err.Error(), "environment staging: Kustomization "+ns+"/nope (from c5c3.yaml) not found on its hub") {
		t.Fatalf("missing explicit Kustomization: %v", err)
	}

	// By path, but from another repository: not this environment.
	replaceInFile(t, e.repo.Dir, "c5c3.yaml", "    kustomizations: ["+ns+"/staging-apps, "+ns+"/nope]\n", "", "by path")
	setUpstream(t, e.repo.Dir)
	gitT(t, e.repo.Dir, "remote", "set-url", "origin", "git@github.com:someone/fork.git")
	if _, err := Run(ctxT(t), e.options()); err == nil || !strings.Contains(err.Error(), "no Kustomization on its hub deploys clusters/staging, apps/*/staging from this repository") {
		t.Fatalf("other repository: %v", err)
	}
}
