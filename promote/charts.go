package promote

import (
	"fmt"

	"github.com/Masterminds/semver/v3"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// checkCharts completes the delivery gate once From's pins are read: each
// HelmRelease must run the chart version From's git pins for it
// (HelmRelease/<name>/<chart>; a version constraint must be satisfied).
// It returns a *HealthError when that makes the gate refuse.
func (r *run) checkCharts(pins []pipeline.Pin) error {
	h := r.plan.HealthCheck
	if h == nil || len(h.Gates) == 0 {
		return nil
	}
	values := map[string]map[string]bool{}
	for _, p := range pins {
		if p.Kind == pipeline.KindHelmRelease {
			if values[p.Key] == nil {
				values[p.Key] = map[string]bool{}
			}
			values[p.Key][p.Value] = true
		}
	}
	g := &h.Gates[1]
	checked := 0
	for i := range h.Objects {
		o := &h.Objects[i]
		if o.Kind != fleet.KindHelmRelease || o.Chart == "" {
			continue
		}
		vs := values[pipeline.KindHelmRelease+"/"+o.Name+"/"+o.Chart]
		if len(vs) != 1 {
			continue // not pinned in From's files, or conflicting (reported as such)
		}
		for v := range vs {
			o.PinnedVersion = v
		}
		checked++
		if o.Revision == "" || chartMatches(o.PinnedVersion, o.Revision) {
			continue
		}
		p := fmt.Sprintf("runs chart %s %s, but %s pins %s at %s", o.Chart, o.Revision, r.fromEnv.Name, o.PinnedVersion, short(r.plan.From.Commit))
		o.Problems = append(o.Problems, p)
		g.Problems = append(g.Problems, o.Kind+" "+o.ID()+": "+p)
	}
	if checked > 0 {
		g.Evidence += fmt.Sprintf("; %d %s at the chart version pinned in git", checked, plural(checked, "HelmRelease", "HelmReleases"))
	}
	g.Passed = len(g.Problems) == 0
	h.Healthy = len(h.AllProblems()) == 0
	if !h.Healthy && !r.o.SkipHealthCheck {
		return &HealthError{Check: h}
	}
	return nil
}

// chartMatches reports whether the deployed chart version satisfies the
// pinned version or constraint (compared as text when either is no semver).
func chartMatches(pinned, deployed string) bool {
	if pinned == deployed {
		return true
	}
	c, err := semver.NewConstraint(pinned)
	if err != nil {
		return false
	}
	v, err := semver.NewVersion(deployed)
	if err != nil {
		return false
	}
	return c.Check(v)
}
