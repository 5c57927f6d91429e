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
	"github.com/c5c3/kubectl-c5c3/health"
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

// nestedKustomizationHealth checks a Kustomization delivered by another:
// Ready, not suspended, at its source's revision and — when its source is
// the environment's — at the environment's commit.
func nestedKustomizationHealth(f *fleet.Fleet, ks *kustomizev1.Kustomization, commit string, envSources map[string]bool) ObjectHealth {
	o := fleet.Object{Kind: fleet.KindKustomization, Kustomization: ks}
	h := health.Evaluate(o, f.SourceRevision(o), nil)
	oh := objectHealth(o, h, f.TargetOf(ks.Namespace, ks.Spec.KubeConfig).Name)
	oh.Revision = h.Revision
	if len(h.RevisionProblems) == 0 && commit != "" && envSources[fleet.KustomizationSource(ks).String()] {
		if c, err := fleet.CommitOf(oh.Revision); err != nil || c != commit {
			oh.Problems = append(oh.Problems, fmt.Sprintf("applied revision %s, not commit %s that the environment's hub Kustomizations applied", oh.Revision, short(commit)))
		}
	}
	return oh
}

// helmReleaseHealth checks a HelmRelease: Ready, not suspended, a deployed
// release at its source's chart version, not Drifted, tests not failed.
func helmReleaseHealth(f *fleet.Fleet, o fleet.Object) ObjectHealth {
	hr := o.HelmRelease
	h := health.Evaluate(o, f.SourceRevision(o), nil)
	oh := objectHealth(o, h, f.TargetOf(hr.Namespace, hr.Spec.KubeConfig).Name)
	if hr.Spec.Chart != nil {
		oh.Chart = hr.Spec.Chart.Spec.Chart
	}
	if h.Deployed {
		oh.Revision = h.Revision
	}
	return oh
}

// objectHealth is what the delivery gate reports of o on cluster from its
// health h.
func objectHealth(o fleet.Object, h health.Health, cluster string) ObjectHealth {
	m := o.Meta()
	return ObjectHealth{Kind: o.Kind, Namespace: m.GetNamespace(), Name: m.GetName(), Cluster: cluster,
		Ready: h.IsReady(), Reason: h.Reason, Message: h.Message, Suspended: h.Suspended, SourceRevision: h.SourceRevision,
		ReadySince: h.ReadySince, Problems: h.Problems()}
}
