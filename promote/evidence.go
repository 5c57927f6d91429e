package promote

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
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

// checkDelivery walks the inventories of the hub Kustomizations (and of the
// Kustomizations they apply to the hub) and checks every Kustomization and
// HelmRelease found there. The inventory is what kustomize-controller
// applied at the revision it reports, so nothing needs building.
func (r *run) checkDelivery(f *fleet.Fleet, kss []*kustomizev1.Kustomization) Gate {
	h := r.plan.HealthCheck
	all := map[string]fleet.Object{}
	for _, c := range f.Clusters {
		for _, o := range c.Objects {
			all[o.ID()] = o
		}
	}
	hubIndex := map[string]int{}
	for i, k := range h.Kustomizations {
		hubIndex[k.ID()] = i
	}
	envSources := map[string]bool{}
	seen := map[string]bool{}
	queue := append([]*kustomizev1.Kustomization(nil), kss...)
	for _, ks := range kss {
		envSources[fleet.KustomizationSource(ks).String()] = true
		seen[fleet.KindKustomization+"/"+fleet.ID(ks)] = true
	}
	var problems []string
	for len(queue) > 0 {
		ks := queue[0]
		queue = queue[1:]
		if !f.TargetOf(ks.Namespace, ks.Spec.KubeConfig).Hub {
			continue // objects on a spoke are not this hub's Flux objects
		}
		if ks.Status.Inventory == nil {
			c := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition)
			if c == nil || c.Status != metav1.ConditionTrue {
				continue // not Ready: said already
			}
			p := "has no status.inventory: cannot tell which Kustomizations and HelmReleases it delivers"
			if i, ok := hubIndex[fleet.ID(ks)]; ok {
				h.Kustomizations[i].Problems = append(h.Kustomizations[i].Problems, p)
			} else {
				for i := range h.Objects {
					if h.Objects[i].Kind == fleet.KindKustomization && h.Objects[i].ID() == fleet.ID(ks) {
						h.Objects[i].Problems = append(h.Objects[i].Problems, p)
					}
				}
			}
			problems = append(problems, "Kustomization "+fleet.ID(ks)+": "+p)
			continue
		}
		for _, e := range ks.Status.Inventory.Entries {
			ns, name, group, kind, ok := parseInventoryID(e.ID)
			if !ok {
				continue
			}
			isKs := group == kustomizev1.GroupVersion.Group && kind == kustomizev1.KustomizationKind
			isHr := group == helmv2.GroupVersion.Group && kind == helmv2.HelmReleaseKind
			if !isKs && !isHr {
				continue
			}
			id := kind + "/" + ns + "/" + name
			if seen[id] {
				continue
			}
			seen[id] = true
			o, found := all[id]
			var oh ObjectHealth
			switch {
			case !found:
				oh = ObjectHealth{Kind: kind, Namespace: ns, Name: name,
					Problems: []string{"in the inventory of Kustomization " + fleet.ID(ks) + ", but not on the hub"}}
			case o.Kustomization != nil:
				oh = nestedKustomizationHealth(f, o.Kustomization, h.Commit, envSources)
				queue = append(queue, o.Kustomization)
			default:
				oh = helmReleaseHealth(f, o)
			}
			oh.DeliveredBy = fleet.ID(ks)
			for _, p := range oh.Problems {
				problems = append(problems, oh.Kind+" "+oh.ID()+": "+p)
			}
			h.Objects = append(h.Objects, oh)
		}
	}
	nks, nhr := deliveryCounts(h)
	g := Gate{Name: GateDelivery, Problems: problems, Passed: len(problems) == 0,
		Evidence: fmt.Sprintf("%d %s and %d %s delivered by them: Ready, not suspended, at their sources' revisions",
			nks-len(kss), plural(nks-len(kss), "Kustomization", "Kustomizations"), nhr, plural(nhr, "HelmRelease", "HelmReleases"))}
	return g
}

// deliveryCounts counts the Kustomizations (hub ones included) and
// HelmReleases the gate checked.
func deliveryCounts(h *HealthCheck) (kustomizations, helmReleases int) {
	kustomizations = len(h.Kustomizations)
	for _, o := range h.Objects {
		if o.Kind == fleet.KindHelmRelease {
			helmReleases++
		} else {
			kustomizations++
		}
	}
	return kustomizations, helmReleases
}

// parseInventoryID splits a kustomize-controller inventory ID,
// "<namespace>_<name>_<group>_<kind>".
func parseInventoryID(id string) (ns, name, group, kind string, ok bool) {
	parts := strings.Split(id, "_")
	if len(parts) != 4 {
		return "", "", "", "", false
	}
	return parts[0], parts[1], parts[2], parts[3], true
}

// readiness fills Ready, Reason and Message and returns the problems of
// the Ready condition and the observed generation.
func readiness(oh *ObjectHealth, conds []metav1.Condition, generation, observed int64) []string {
	c := apimeta.FindStatusCondition(conds, meta.ReadyCondition)
	if c != nil {
		oh.Ready = c.Status == metav1.ConditionTrue
		oh.Reason, oh.Message = c.Reason, c.Message
	}
	switch {
	case c == nil:
		return []string{"has no Ready condition yet"}
	case !oh.Ready:
		return []string{fmt.Sprintf("not Ready: %s: %s", c.Reason, c.Message)}
	case observed < generation:
		return []string{fmt.Sprintf("not reconciled since its last change (observed generation %d < %d)", observed, generation)}
	}
	return nil
}

// nestedKustomizationHealth checks a Kustomization delivered by another:
// Ready, not suspended, at its source's revision and — when its source is
// the environment's — at the environment's commit.
func nestedKustomizationHealth(f *fleet.Fleet, ks *kustomizev1.Kustomization, commit string, envSources map[string]bool) ObjectHealth {
	o := fleet.Object{Kind: fleet.KindKustomization, Kustomization: ks}
	oh := ObjectHealth{Kind: fleet.KindKustomization, Namespace: ks.Namespace, Name: ks.Name,
		Cluster: f.TargetOf(ks.Namespace, ks.Spec.KubeConfig).Name, Suspended: ks.Spec.Suspend,
		Revision: ks.Status.LastAppliedRevision, SourceRevision: f.SourceRevision(o)}
	oh.Problems = readiness(&oh, ks.Status.Conditions, ks.Generation, ks.Status.ObservedGeneration)
	if oh.Suspended {
		oh.Problems = append(oh.Problems, "suspended")
	}
	switch {
	case oh.Revision == "":
		oh.Problems = append(oh.Problems, "has applied no revision yet")
	case oh.SourceRevision != "" && oh.Revision != oh.SourceRevision:
		oh.Problems = append(oh.Problems, fmt.Sprintf("applied revision %s, but its source is at %s: not reconciled to the latest revision", oh.Revision, oh.SourceRevision))
	case commit != "" && envSources[fleet.KustomizationSource(ks).String()]:
		if c, err := CommitOf(oh.Revision); err != nil || c != commit {
			oh.Problems = append(oh.Problems, fmt.Sprintf("applied revision %s, not commit %s that the environment's hub Kustomizations applied", oh.Revision, short(commit)))
		}
	}
	if oh.Ready {
		since := kustomizationSince(ks)
		oh.ReadySince = &since
	}
	return oh
}

// kustomizationSince is when a Ready Kustomization started running its
// applied revision: the later of the Ready condition's transition and the
// first reconciliation of that revision in status.history (what
// kustomize-controller ≥ 1.7 records; without it the Ready transition
// alone is used).
func kustomizationSince(ks *kustomizev1.Kustomization) metav1.Time {
	var since metav1.Time
	if c := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition); c != nil {
		since = c.LastTransitionTime
	}
	for _, s := range ks.Status.History {
		if s.LastReconciledStatus == meta.ReconciliationSucceededReason && s.Metadata["revision"] == ks.Status.LastAppliedRevision {
			if s.FirstReconciled.After(since.Time) {
				since = s.FirstReconciled
			}
			break
		}
	}
	return since
}

// helmReleaseHealth checks a HelmRelease: Ready, not suspended, a deployed
// release at its source's chart version, not Drifted, tests not failed.
func helmReleaseHealth(f *fleet.Fleet, o fleet.Object) ObjectHealth {
	hr := o.HelmRelease
	oh := ObjectHealth{Kind: fleet.KindHelmRelease, Namespace: hr.Namespace, Name: hr.Name,
		Cluster: f.TargetOf(hr.Namespace, hr.Spec.KubeConfig).Name, Suspended: hr.Spec.Suspend, SourceRevision: f.SourceRevision(o)}
	if hr.Spec.Chart != nil {
		oh.Chart = hr.Spec.Chart.Spec.Chart
	}
	oh.Problems = readiness(&oh, hr.Status.Conditions, hr.Generation, hr.Status.ObservedGeneration)
	if oh.Suspended {
		oh.Problems = append(oh.Problems, "suspended")
	}
	latest := hr.Status.History.Latest()
	if latest == nil || latest.Status != "deployed" {
		oh.Problems = append(oh.Problems, "has no deployed release in status.history")
	} else {
		oh.Revision = latest.ChartVersion
		if a := hr.Status.LastAttemptedRevision; a != "" && a != latest.ChartVersion {
			oh.Problems = append(oh.Problems, fmt.Sprintf("last attempted chart version %s, but %s is deployed", a, latest.ChartVersion))
		}
		src := fleet.SourceOf(o)
		switch {
		case oh.SourceRevision == "":
		case src.Kind == "HelmChart" && oh.SourceRevision != latest.ChartVersion:
			oh.Problems = append(oh.Problems, fmt.Sprintf("runs chart version %s, but its %s is at %s", latest.ChartVersion, src, oh.SourceRevision))
		case src.Kind == "OCIRepository" && latest.OCIDigest != "" && strings.Contains(oh.SourceRevision, "@") && !strings.HasSuffix(oh.SourceRevision, "@"+latest.OCIDigest):
			oh.Problems = append(oh.Problems, fmt.Sprintf("runs %s, but its %s is at %s", latest.OCIDigest, src, oh.SourceRevision))
		}
	}
	if c := apimeta.FindStatusCondition(hr.Status.Conditions, helmv2.DriftedCondition); c != nil && c.Status == metav1.ConditionTrue {
		oh.Problems = append(oh.Problems, "Drifted: "+c.Message)
	}
	if c := apimeta.FindStatusCondition(hr.Status.Conditions, helmv2.TestSuccessCondition); c != nil && c.Status == metav1.ConditionFalse {
		oh.Problems = append(oh.Problems, "tests failed: "+c.Message)
	}
	if oh.Ready && latest != nil {
		since := metav1.Time{}
		if c := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition); c != nil {
			since = c.LastTransitionTime
		}
		if latest.LastDeployed.After(since.Time) {
			since = latest.LastDeployed
		}
		oh.ReadySince = &since
	}
	return oh
}

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
		if c := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition); c != nil && c.Status == metav1.ConditionTrue {
			since := kustomizationSince(ks)
			k.ReadySince = &since
		}
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
		g.Evidence = fmt.Sprintf("no minimum (--min-soak, minSoak in %s); least soaked: %s, Ready at its revision since %s", ConfigFile, h.LeastSoaked, leastSince)
	default:
		g.Evidence = fmt.Sprintf("least soaked: %s, Ready at its revision for %s (since %s); --min-soak %s", h.LeastSoaked, h.Soaked, leastSince, h.MinSoak)
	}
	h.Problems = append(h.Problems, g.Problems...)
	g.Passed = len(g.Problems) == 0
	return g
}

// checkSpokes is the spokes gate: every cluster the environment's objects
// apply to, other than the hub, must be reachable through its kubeconfig
// Secret.
func checkSpokes(ctx context.Context, f *fleet.Fleet, h *HealthCheck, kss []*kustomizev1.Kustomization) Gate {
	targets := []*fleet.Cluster{}
	seen := map[*fleet.Cluster]bool{}
	add := func(c *fleet.Cluster) {
		if !seen[c] {
			seen[c] = true
			targets = append(targets, c)
		}
	}
	add(f.Clusters[0])
	for _, ks := range kss {
		add(f.TargetOf(ks.Namespace, ks.Spec.KubeConfig))
	}
	for _, o := range h.Objects {
		if c := f.Cluster(o.Cluster); c != nil {
			add(c)
		} else if obj := findObject(f, o); obj != nil {
			add(f.TargetOf(o.Namespace, obj.KubeConfig()))
		}
	}
	spokes := append([]*fleet.Cluster(nil), targets[1:]...)
	sort.SliceStable(spokes, func(i, j int) bool { return spokes[i].Name < spokes[j].Name })
	probes := f.Probe(ctx, spokes)
	g := Gate{Name: GateSpokes}
	h.Clusters = []ClusterHealth{{Name: f.Clusters[0].Name, Hub: true, Reachable: true}}
	var names []string
	for _, c := range spokes {
		ch := ClusterHealth{Name: c.Name, Reachable: true}
		if err := probes[c.Name].Err; err != nil {
			ch.Reachable = false
			ch.Error = strings.TrimPrefix(err.Error(), "cluster "+c.Name+" is unreachable: ")
			via := ""
			if c.KubeConfig != nil {
				via = " (kubeconfig " + c.KubeConfig.String() + ")"
			}
			g.Problems = append(g.Problems, fmt.Sprintf("spoke %s%s is unreachable: %s", c.Name, via, ch.Error))
		}
		names = append(names, c.Name)
		h.Clusters = append(h.Clusters, ch)
	}
	if len(spokes) == 0 {
		g.Evidence = "no spoke: everything applies to the hub"
	} else if len(g.Problems) == 0 {
		g.Evidence = strings.Join(names, ", ") + " reachable"
	} else {
		g.Evidence = fmt.Sprintf("%d of %d spokes unreachable", len(g.Problems), len(spokes))
	}
	h.Problems = append(h.Problems, g.Problems...)
	g.Passed = len(g.Problems) == 0
	return g
}

func findObject(f *fleet.Fleet, oh ObjectHealth) *fleet.Object {
	for _, c := range f.Clusters {
		for i, o := range c.Objects {
			if o.Kind == oh.Kind && o.Meta().GetNamespace() == oh.Namespace && o.Meta().GetName() == oh.Name {
				return &c.Objects[i]
			}
		}
	}
	return nil
}

// checkCharts completes the delivery gate once From's pins are read: each
// HelmRelease must run the chart version From's git pins for it
// (HelmRelease/<name>/<chart>; a version constraint must be satisfied).
// It returns a *HealthError when that makes the gate refuse.
func (r *run) checkCharts(pins []Pin) error {
	h := r.plan.HealthCheck
	if h == nil || len(h.Gates) == 0 {
		return nil
	}
	values := map[string]map[string]bool{}
	for _, p := range pins {
		if p.Kind == KindHelmRelease {
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
		vs := values[KindHelmRelease+"/"+o.Name+"/"+o.Chart]
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

// formatDuration writes d to the minute past an hour ("2h13m"), to the
// minute past a minute ("45m"), else in seconds ("42s"); time.ParseDuration
// reads all of them.
func formatDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// formatLeft is formatDuration rounded up, so that waiting that long is
// enough.
func formatLeft(d time.Duration) string {
	if d >= time.Minute && d%time.Minute != 0 {
		d = d.Truncate(time.Minute) + time.Minute
	} else if d < time.Minute && d%time.Second != 0 {
		d = d.Truncate(time.Second) + time.Second
	}
	return formatDuration(d)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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
