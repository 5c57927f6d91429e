package promote

import (
	"context"
	"fmt"

	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// liveStates reads the hub of every environment promoted to and marks the
// promotions its Kustomizations run.
func (r *run) liveStates(ctx context.Context, h *History) {
	envs := map[string]bool{}
	for _, p := range h.Promotions {
		envs[p.To] = true
	}
	if h.Environment != "" {
		envs[h.Environment] = true
	}
	for _, e := range r.cfg.Environments {
		if !envs[e.Name] {
			continue
		}
		env := e
		st := r.liveState(ctx, &env)
		current := false
		for i := range h.Promotions {
			p := &h.Promotions[i]
			if p.To != env.Name {
				continue
			}
			if st.applied == nil {
				continue // unknown: the problem says why
			}
			p.Live = &PromotionLive{}
			p.Live.Running = r.runs(ctx, p.Commit, st.applied)
			p.Live.Healthy = p.Live.Running && st.Healthy
			if p.Live.Running && !current {
				p.Live.Current, current = true, true
				st.Running = p.Commit
			}
		}
		h.Environments = append(h.Environments, st.EnvironmentState)
		for _, pr := range st.Problems {
			h.Problems = append(h.Problems, "environment "+env.Name+": "+pr)
		}
	}
}

// envLive is an environment's live state and the commits its
// Kustomizations applied (nil when they cannot tell).
type envLive struct {
	EnvironmentState
	applied []string
}

func (r *run) liveState(ctx context.Context, env *pipeline.Environment) envLive {
	st := envLive{EnvironmentState: EnvironmentState{Name: env.Name, Kustomizations: []KustomizationHealth{}}}
	f, err := r.fleetOf(ctx, env)
	if err != nil {
		st.Problems = append(st.Problems, err.Error())
		return st
	}
	kss, err := pipeline.SelectKustomizations(f, env, r.origin)
	if err != nil {
		st.Problems = append(st.Problems, err.Error())
		return st
	}
	hc := checkHealth(f, env, kss, false)
	st.Kustomizations, st.Healthy = hc.Kustomizations, hc.Healthy
	applied := []string{}
	for _, k := range hc.Kustomizations {
		switch {
		case k.Commit == "":
			st.Problems = append(st.Problems, fmt.Sprintf("Kustomization %s has applied no git commit (%q)", k.ID(), k.AppliedRevision))
			return st
		case !r.git.HasCommit(ctx, k.Commit):
			st.Problems = append(st.Problems, fmt.Sprintf("Kustomization %s applied %s, which the checkout does not have: git fetch", k.ID(), short(k.Commit)))
			return st
		}
		applied = append(applied, k.Commit)
	}
	st.applied = applied
	return st
}

// runs reports whether every applied commit is commit or a descendant.
func (r *run) runs(ctx context.Context, commit string, applied []string) bool {
	if len(applied) == 0 {
		return false
	}
	for _, a := range applied {
		if ok, err := r.git.IsAncestor(ctx, commit, a); err != nil || !ok {
			return false
		}
	}
	return true
}
