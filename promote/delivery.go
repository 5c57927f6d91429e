package promote

import (
	"fmt"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

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
		if c, err := fleet.CommitOf(oh.Revision); err != nil || c != commit {
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
