package promote

import (
	"fmt"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/health"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// checkSoak is the soak gate: every hub Kustomization and delivered object
// that is Ready must have run Ready at its revision for minSoak (one that
// is not Ready fails the revision or delivery gate). It records each one's
// soak and the least in h.
func checkSoak(h *HealthCheck, kss []*kustomizev1.Kustomization, now time.Time, minSoak time.Duration) Gate {
	h.MinSoak = formatDuration(minSoak)
	type entry struct {
		what   string
		since  *metav1.Time
		soaked *string
	}
	var entries []entry
	for i, ks := range kss {
		k := &h.Kustomizations[i]
		k.ReadySince = health.Evaluate(fleet.Object{Kind: fleet.KindKustomization, Kustomization: ks}, "", nil).ReadySince
		entries = append(entries, entry{"Kustomization " + k.ID(), k.ReadySince, &k.Soaked})
	}
	for i := range h.Objects {
		o := &h.Objects[i]
		entries = append(entries, entry{o.Kind + " " + o.ID(), o.ReadySince, &o.Soaked})
	}
	g := Gate{Name: GateSoak}
	least, leastSince := time.Duration(-1), ""
	for _, e := range entries {
		if e.since == nil {
			continue // not Ready: the revision or delivery gate says so
		}
		d := max(now.Sub(e.since.Time), 0)
		*e.soaked = formatDuration(d)
		if least < 0 || d < least {
			least, h.LeastSoaked, leastSince = d, e.what, e.since.UTC().Format(time.RFC3339)
		}
		if d < minSoak {
			g.Problems = append(g.Problems, fmt.Sprintf("not soaked: %s has run Ready at its revision for %s (since %s); --min-soak is %s: %s left",
				e.what, formatDuration(d), e.since.UTC().Format(time.RFC3339), formatDuration(minSoak), formatLeft(minSoak-d)))
		}
	}
	if least >= 0 {
		h.Soaked = formatDuration(least)
	}
	switch {
	case least < 0:
		g.Evidence = "nothing runs Ready at its revision"
	case minSoak == 0:
		g.Evidence = fmt.Sprintf("no minimum (--min-soak, minSoak in %s); least soaked: %s, Ready at its revision since %s", pipeline.ConfigFile, h.LeastSoaked, leastSince)
	default:
		g.Evidence = fmt.Sprintf("least soaked: %s, Ready at its revision for %s (since %s); --min-soak %s", h.LeastSoaked, h.Soaked, leastSince, h.MinSoak)
	}
	h.Problems = append(h.Problems, g.Problems...)
	g.Passed = len(g.Problems) == 0
	return g
}
