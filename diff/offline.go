package diff

import (
	"sort"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// unresolvedInputs records the inputs a run without a hub leaves out:
// they are only in the hub.
type unresolvedInputs struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (u *unresolvedInputs) add(s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[string]bool{}
	}
	u.seen[s] = true
}

func (u *unresolvedInputs) list() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]string, 0, len(u.seen))
	for s := range u.seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// withoutHubInputs returns ks as a Builder without a hub builds it: its
// postBuild.substituteFrom ConfigMaps and Secrets (only the hub holds
// them) are left out and recorded, so their variables take the same
// placeholder — their ${VAR:=default}, else empty — on both sides.
func (b *Builder) withoutHubInputs(ks *kustomizev1.Kustomization) *kustomizev1.Kustomization {
	if b.unresolved == nil || ks.Spec.PostBuild == nil || len(ks.Spec.PostBuild.SubstituteFrom) == 0 {
		return ks
	}
	for _, r := range ks.Spec.PostBuild.SubstituteFrom {
		b.unresolved.add(r.Kind + "/" + ks.Namespace + "/" + r.Name + " (postBuild.substituteFrom of Kustomization " + fleet.ID(ks) + ")")
	}
	c := ks.DeepCopy()
	c.Spec.PostBuild.SubstituteFrom = nil
	return c
}
