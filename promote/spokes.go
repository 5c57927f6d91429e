package promote

import (
	"context"
	"fmt"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

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
