package diff

import "fmt"

// Gap is a Kustomization or HelmRelease of a plan that could not be built,
// rendered or diffed: what applying it would change is unknown.
type Gap struct {
	// Kind is Kustomization, HelmRelease or ResourceSet.
	Kind      string `json:"kind"`
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Chart is a HelmRelease's chart, from its spec when it did not load.
	Chart  string `json:"chart,omitempty"`
	Reason string `json:"reason"`
}

// String is "Kind/ns/name on cluster C: reason".
func (g Gap) String() string {
	s := fmt.Sprintf("%s/%s/%s on cluster %s", g.Kind, g.Namespace, g.Name, g.Cluster)
	if g.Chart != "" {
		s += " (chart " + g.Chart + ")"
	}
	return s + ": " + g.Reason
}

// markGaps sets Complete and Incomplete from the Kustomizations and
// HelmReleases that failed.
func (r *Result) markGaps() {
	r.Incomplete = []Gap{}
	for _, k := range r.Kustomizations {
		if k.Error != "" {
			r.Incomplete = append(r.Incomplete, Gap{Kind: "Kustomization", Cluster: k.Cluster, Namespace: k.Namespace, Name: k.Name, Reason: k.Error})
		}
	}
	for _, h := range r.HelmReleases {
		if h.Error != "" {
			r.Incomplete = append(r.Incomplete, Gap{Kind: "HelmRelease", Cluster: h.Cluster, Namespace: h.Namespace, Name: h.Name, Chart: h.Chart, Reason: h.Error})
		}
	}
	for _, s := range r.ResourceSets {
		if s.Error != "" {
			r.Incomplete = append(r.Incomplete, Gap{Kind: "ResourceSet", Cluster: s.Cluster, Namespace: s.Namespace, Name: s.Name, Reason: s.Error})
		}
	}
	r.Complete = len(r.Incomplete) == 0
}

// IncompleteNote is the one-line warning of a plan with gaps: how many
// Kustomizations and HelmReleases could not be rendered or diffed.
func IncompleteNote(gaps []Gap) string {
	if len(gaps) == 1 {
		return "plan incomplete: 1 Kustomization or HelmRelease could not be rendered or diffed; what it would change is unknown"
	}
	return fmt.Sprintf("plan incomplete: %d Kustomizations or HelmReleases could not be rendered or diffed; what they would change is unknown", len(gaps))
}
