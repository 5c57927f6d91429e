package promote

import (
	"errors"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// loadStaging is loadEnvironments with staging reconciled for real:
// staging-apps applied clusters/staging to the hub (its sources, the
// HelmRelease keystone-memcached and the Kustomization keystone-staging,
// both for the control-plane spoke), keystone-staging applied
// apps/keystone/staging to control-plane, and the HelmRelease is installed.
// Everything has run Ready since soakedSince; the clock of the options is
// at now.
func loadStaging(t *testing.T, soakedSince, now time.Time) (*envFleet, Options) {
	t.Helper()
	e := loadEnvironments(t)
	ctx := ctxT(t)
	expect.NoError(t, e.s.ReconcileEnvironment(ctx, "staging-apps"))
	for kind, names := range map[string][]string{"Kustomization": {"staging-apps", "keystone-staging"}, "HelmRelease": {"keystone-memcached"}} {
		for _, n := range names {
			expect.NoError(t, e.s.SetReadySince(ctx, kind, n, soakedSince))
		}
	}
	o := e.options()
	o.Now = func() time.Time { return now }
	return e, o
}

func TestPromoteEvidenceGatesPass(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Second)
	e, o := loadStaging(t, now.Add(-3*time.Hour), now)
	two := 2 * time.Hour
	o.MinSoak = &two
	before := snapshot(t, e.repo.Dir)
	p, err := Run(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	h := p.HealthCheck
	if !h.Healthy || len(h.Gates) != 4 || h.Soaked != "3h0m" || h.MinSoak != "2h0m" {
		t.Fatalf("health %+v", h)
	}
	for i, name := range []string{GateRevision, GateDelivery, GateSoak, GateSpokes} {
		if g := h.Gates[i]; g.Name != name || !g.Passed || g.Evidence == "" {
			t.Errorf("gate %d: %+v, want %s passed with evidence", i, g, name)
		}
	}
	// keystone-staging's path is under staging's paths: it is one of the
	// environment's own Kustomizations; the HelmRelease is delivered.
	ns := e.s.Namespace
	if len(h.Kustomizations) != 2 || h.Kustomizations[0].Name != "keystone-staging" || h.Kustomizations[0].Soaked != "3h0m" || h.Kustomizations[1].Name != "staging-apps" {
		t.Fatalf("kustomizations %+v", h.Kustomizations)
	}
	hr := h.Objects[0]
	if len(h.Objects) != 1 || hr.Kind != "HelmRelease" || hr.Name != "keystone-memcached" || hr.DeliveredBy != ns+"/staging-apps" || hr.Cluster != "control-plane" ||
		hr.Revision != "7.5.0" || hr.PinnedVersion != "7.5.0" || hr.Chart != "memcached" || !hr.Ready || hr.Soaked != "3h0m" {
		t.Fatalf("objects %+v", h.Objects)
	}
	if !strings.Contains(h.Gates[1].Evidence, "1 HelmRelease at the chart version pinned in git") || h.Gates[3].Evidence != "control-plane reachable" {
		t.Errorf("evidence %q / %q", h.Gates[1].Evidence, h.Gates[3].Evidence)
	}
	if len(h.Clusters) != 2 || h.Clusters[1].Name != "control-plane" || !h.Clusters[1].Reachable {
		t.Errorf("clusters %+v", h.Clusters)
	}
	assertUntouched(t, e.repo.Dir, before)

	// The commit carries the evidence as trailers, exactly.
	o.DryRun = false
	if _, err := Run(ctxT(t), o); err != nil {
		t.Fatal(err)
	}
	branch := "promote/staging-to-production-" + e.commit[:7]
	msg := gitT(t, e.repo.Dir, "log", "-1", "--format=%B", branch)
	want := "\n\nPromoted-From: staging@" + e.commit + "\nPromoted-To: production\nSoaked: 3h0m\nVerified: 2 Kustomizations, 1 HelmReleases on management, control-plane"
	if !strings.HasSuffix(msg, want) {
		t.Fatalf("commit message does not end in the trailers %q:\n%s", want, msg)
	}
	for key, value := range map[string]string{"Soaked": "3h0m", "Verified": "2 Kustomizations, 1 HelmReleases on management, control-plane", "Promoted-To": "production"} {
		if got := gitT(t, e.repo.Dir, "log", "-1", "--format=%(trailers:key="+key+",valueonly)", branch); got != value {
			t.Errorf("git reads trailer %s as %q, want %q", key, got, value)
		}
	}
	assertUntouched(t, e.repo.Dir, before, "refs/heads/"+branch)
}

// TestPromoteEvidenceGatesRefuse: each gate refuses (exit 1 in the CLI)
// naming what failed, and leaves the checkout as it was.
func TestPromoteEvidenceGatesRefuse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		gate    string
		breakIt func(t *testing.T, e *envFleet, now time.Time)
		want    []string
	}{
		{name: "soak not reached", gate: GateSoak, breakIt: func(t *testing.T, e *envFleet, now time.Time) {
			expect.NoError(t, e.s.SetReadySince(ctxT(t), "HelmRelease", "keystone-memcached", now.Add(-30*time.Minute)))
		}, want: []string{"not soaked: HelmRelease " + "NS/keystone-memcached has run Ready at its revision for 30m", "--min-soak is 2h0m: 1h30m left"}},
		{name: "spoke HelmRelease not Ready", gate: GateDelivery, breakIt: func(t *testing.T, e *envFleet, _ time.Time) {
			expect.NoError(t, e.s.Fail(ctxT(t), "HelmRelease", "keystone-memcached", "UpgradeFailed", "Helm upgrade failed: timed out waiting for the condition"))
		}, want: []string{"HelmRelease NS/keystone-memcached: not Ready: UpgradeFailed: Helm upgrade failed: timed out waiting for the condition"}},
		{name: "spoke Kustomization suspended", gate: GateRevision, breakIt: func(t *testing.T, e *envFleet, _ time.Time) {
			expect.NoError(t, e.s.Suspend(ctxT(t), "Kustomization", "keystone-staging"))
		}, want: []string{"Kustomization NS/keystone-staging: suspended"}},
		{name: "HelmRelease drifted", gate: GateDelivery, breakIt: func(t *testing.T, e *envFleet, _ time.Time) {
			hr := e.hubHelmRelease(t, "keystone-memcached")
			apimeta.SetStatusCondition(&hr.Status.Conditions, metav1.Condition{Type: helmv2.DriftedCondition, Status: metav1.ConditionTrue,
				Reason: helmv2.DriftDetectedReason, Message: "Cluster state of release openstack/keystone-memcached.v1 has drifted from the desired state"})
			expect.NoError(t, e.hub.Client.Status().Update(ctxT(t), hr))
		}, want: []string{"HelmRelease NS/keystone-memcached: Drifted: Cluster state of release openstack/keystone-memcached.v1 has drifted"}},
		{name: "HelmRelease tests failed", gate: GateDelivery, breakIt: func(t *testing.T, e *envFleet, _ time.Time) {
			hr := e.hubHelmRelease(t, "keystone-memcached")
			apimeta.SetStatusCondition(&hr.Status.Conditions, metav1.Condition{Type: helmv2.TestSuccessCondition, Status: metav1.ConditionFalse,
				Reason: helmv2.TestFailedReason, Message: "Helm test failed for release openstack/keystone-memcached.v1 with chart memcached@7.5.0: pod keystone-memcached-test failed"})
			expect.NoError(t, e.hub.Client.Status().Update(ctxT(t), hr))
		}, want: []string{"HelmRelease NS/keystone-memcached: tests failed: Helm test failed for release openstack/keystone-memcached.v1 with chart memcached@7.5.0: pod keystone-memcached-test failed"}},
		{name: "spoke down", gate: GateSpokes, breakIt: func(t *testing.T, e *envFleet, _ time.Time) {
			expect.NoError(t, e.s.BreakKubeconfig(ctxT(t), "control-plane", testfleet.FaultUnreachable))
		}, want: []string{"spoke control-plane (kubeconfig Secret/NS/control-plane-kubeconfig) is unreachable", "127.0.0.1:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := time.Now().Truncate(time.Second)
			e, o := loadStaging(t, now.Add(-3*time.Hour), now)
			two := 2 * time.Hour
			o.MinSoak, o.DryRun = &two, false
			tc.breakIt(t, e, now)
			bare := servedOrigin(t, e.repo, "")
			o.Push = true
			before := snapshot(t, e.repo.Dir)
			p, err := Run(ctxT(t), o)
			var he *HealthError
			if !errors.As(err, &he) {
				t.Fatalf("error %v, want a HealthError", err)
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "NS", e.s.Namespace); !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "unreachable-token") {
				t.Errorf("the kubeconfig's token is in the error: %v", err)
			}
			failed := 0
			for _, g := range p.HealthCheck.Gates {
				if !g.Passed {
					failed++
					if g.Name != tc.gate || len(g.Problems) == 0 {
						t.Errorf("gate %+v failed, want only %s", g, tc.gate)
					}
				}
			}
			if failed != 1 || p.Result != nil {
				t.Errorf("%d gates failed; result %+v", failed, p.Result)
			}
			assertUntouched(t, e.repo.Dir, before)
			if refs := gitT(t, bare, "for-each-ref", "--format=%(refname)"); refs != "refs/heads/main" {
				t.Errorf("the remote changed: %s", refs)
			}
		})
	}
}

// TestPromoteMinSoakFromConfig: c5c3.yaml's minSoak is the default;
// --min-soak 0 lifts it.
func TestPromoteMinSoakFromConfig(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Second)
	e, o := loadStaging(t, now.Add(-time.Hour), now)
	replaceInFile(t, e.repo.Dir, "c5c3.yaml", "    paths: [clusters/staging, apps/*/staging]\n",
		"    paths: [clusters/staging, apps/*/staging]\n    minSoak: 90m\n", "staging soaks 90m")
	setUpstream(t, e.repo.Dir)
	_, err := Run(ctxT(t), o)
	var he *HealthError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "--min-soak is 1h30m: 30m left") || he.Check.MinSoak != "1h30m" {
		t.Fatalf("minSoak from c5c3.yaml: %v", err)
	}
	zero := time.Duration(0)
	o.MinSoak = &zero
	if p, err := Run(ctxT(t), o); err != nil || !p.HealthCheck.Healthy || p.HealthCheck.Soaked != "1h0m" {
		t.Fatalf("--min-soak 0: %v", err)
	}
}

// TestPromoteChartNotAsPinned: the HelmRelease runs another chart version
// than FROM's git pins.
func TestPromoteChartNotAsPinned(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Second)
	e, o := loadStaging(t, now.Add(-3*time.Hour), now)
	// The release in Helm storage is still 7.4.16 (an upgrade that never
	// happened while helm-controller reported Ready).
	hr := e.hubHelmRelease(t, "keystone-memcached")
	hr.Status.History[0].ChartVersion = "7.4.16"
	hr.Status.LastAttemptedRevision = "7.4.16"
	expect.NoError(t, e.hub.Client.Status().Update(ctxT(t), hr))
	chart := &sourcev1.HelmChart{}
	ns, name, _ := strings.Cut(hr.Status.HelmChart, "/")
	expect.NoError(t, e.hub.Client.Get(ctxT(t), client.ObjectKey{Namespace: ns, Name: name}, chart))
	chart.Status.Artifact.Revision = "7.4.16"
	expect.NoError(t, e.hub.Client.Status().Update(ctxT(t), chart))
	before := snapshot(t, e.repo.Dir)
	_, err := Run(ctxT(t), o)
	var he *HealthError
	if !errors.As(err, &he) {
		t.Fatalf("error %v", err)
	}
	for _, w := range []string{"HelmRelease " + e.s.Namespace + "/keystone-memcached: runs chart memcached 7.4.16, but staging pins 7.5.0 at " + e.commit[:7]} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	assertUntouched(t, e.repo.Dir, before)
}

func (e *envFleet) hubHelmRelease(t *testing.T, name string) *helmv2.HelmRelease {
	t.Helper()
	hr := &helmv2.HelmRelease{}
	expect.NoError(t, e.hub.Client.Get(ctxT(t), client.ObjectKey{Namespace: e.s.Namespace, Name: name}, hr))
	return hr
}
