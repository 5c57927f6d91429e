package promote

import (
	"context"
	"fmt"
	"strings"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// The gates of the health check, in the order they are listed.
const (
	// GateRevision: the environment's hub Kustomizations are Ready, not
	// suspended, current and (live) at one commit.
	GateRevision = "revision"
	// GateDelivery: every Kustomization and HelmRelease they deliver is
	// Ready, not suspended and at its source's revision; HelmReleases run
	// the chart version the source environment's git pins.
	GateDelivery = "delivery"
	// GateSoak: everything has run Ready at its revision for --min-soak.
	GateSoak = "soak"
	// GateSpokes: every spoke they apply to is reachable.
	GateSpokes = "spokes"
)

// Gate is one check of the health gate and what it saw.
type Gate struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Evidence says what was checked and found, in one line.
	Evidence string `json:"evidence"`
	// Problems say why it failed (prefixed with the object).
	Problems []string `json:"problems,omitempty"`
}

// ObjectHealth is what the gate saw of one Kustomization or HelmRelease
// that a hub Kustomization of the environment delivers (found in its
// status.inventory, recursively through Kustomizations applied to the hub).
type ObjectHealth struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Cluster is the cluster it applies to (spec.kubeConfig).
	Cluster string `json:"cluster,omitempty"`
	// DeliveredBy is the Kustomization ("ns/name") whose inventory has it.
	DeliveredBy string `json:"deliveredBy"`
	Ready       bool   `json:"ready"`
	Reason      string `json:"reason,omitempty"`
	Message     string `json:"message,omitempty"`
	Suspended   bool   `json:"suspended"`
	// Revision is a Kustomization's status.lastAppliedRevision, or the
	// chart version of a HelmRelease's deployed release.
	Revision string `json:"revision,omitempty"`
	// SourceRevision is the artifact revision of its source.
	SourceRevision string `json:"sourceRevision,omitempty"`
	// Chart and PinnedVersion: a HelmRelease's chart and the version the
	// source environment's git pins for it.
	Chart         string `json:"chart,omitempty"`
	PinnedVersion string `json:"pinnedVersion,omitempty"`
	// ReadySince is when it started running Ready at its revision; Soaked
	// how long ago that is.
	ReadySince *metav1.Time `json:"readySince,omitempty"`
	Soaked     string       `json:"soaked,omitempty"`
	Problems   []string     `json:"problems,omitempty"`
}

// ID is "namespace/name".
func (o ObjectHealth) ID() string { return o.Namespace + "/" + o.Name }

// ClusterHealth is a cluster the environment's objects apply to.
type ClusterHealth struct {
	Name string `json:"name"`
	Hub  bool   `json:"hub,omitempty"`
	// Reachable is false when its kubeconfig Secret is unusable or its API
	// server does not answer; Error says why.
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
}

// checkEvidence runs the gates beyond the hub Kustomizations' own state on
// r.plan.HealthCheck (made by checkHealth from kss): delivery, soak and
// spokes; the chart versions are checked by checkCharts once From's pins
// are read.
func (r *run) checkEvidence(ctx context.Context, f *fleet.Fleet, kss []*kustomizev1.Kustomization) {
	h := r.plan.HealthCheck
	now := time.Now
	if r.o.Now != nil {
		now = r.o.Now
	}
	minSoak := r.fromEnv.SoakMinimum()
	if r.o.MinSoak != nil {
		minSoak = *r.o.MinSoak
	}
	revision := Gate{Name: GateRevision, Problems: h.AllProblems()}
	revision.Passed = len(revision.Problems) == 0
	revision.Evidence = fmt.Sprintf("%d hub %s: Ready, not suspended, at the source's revision", len(kss), plural(len(kss), "Kustomization", "Kustomizations"))
	if h.Commit != "" {
		revision.Evidence += ", all at " + short(h.Commit)
	}

	delivery := r.checkDelivery(f, kss)
	soak := checkSoak(h, kss, now(), minSoak)
	spokes := checkSpokes(ctx, f, h, kss)
	h.Gates = []Gate{revision, delivery, soak, spokes}
	h.Healthy = len(h.AllProblems()) == 0
}

// verifiedTrailers are the evidence trailers of the commit — "Soaked:
// 2h13m" and "Verified: 3 Kustomizations, 1 HelmReleases on management,
// control-plane" — written only when every gate passed and what runs is the
// commit promoted.
func verifiedTrailers(p *Plan) []string {
	h := p.HealthCheck
	if h == nil || !h.Healthy || len(h.Gates) == 0 || h.Commit == "" || h.Commit != p.From.Commit {
		return nil
	}
	nks, nhr := deliveryCounts(h)
	clusters := make([]string, len(h.Clusters))
	for i, c := range h.Clusters {
		clusters[i] = c.Name
	}
	out := []string{fmt.Sprintf("Verified: %d Kustomizations, %d HelmReleases on %s", nks, nhr, strings.Join(clusters, ", "))}
	if h.Soaked != "" {
		out = append([]string{"Soaked: " + h.Soaked}, out...)
	}
	return out
}
