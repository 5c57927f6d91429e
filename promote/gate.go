package promote

import (
	"fmt"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/health"
	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// KustomizationHealth is what the health gate saw of one hub Kustomization.
type KustomizationHealth struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	Ready     bool   `json:"ready"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message,omitempty"`
	Suspended bool   `json:"suspended"`
	// AppliedRevision is status.lastAppliedRevision; Commit its git commit.
	AppliedRevision string `json:"appliedRevision"`
	Commit          string `json:"commit,omitempty"`
	// SourceRevision is the artifact revision of its source.
	SourceRevision string `json:"sourceRevision,omitempty"`
	// ReadySince is when it started running Ready at its applied revision
	// (Ready condition, status.history); Soaked how long ago that is.
	ReadySince *metav1.Time `json:"readySince,omitempty"`
	Soaked     string       `json:"soaked,omitempty"`
	// Problems say why it does not pass the gate (empty: it passes).
	Problems []string `json:"problems,omitempty"`
}

// ID is "namespace/name".
func (k KustomizationHealth) ID() string { return k.Namespace + "/" + k.Name }

// HealthCheck is the health gate's verdict on an environment.
type HealthCheck struct {
	Environment    string                `json:"environment"`
	Kustomizations []KustomizationHealth `json:"kustomizations"`
	// Commit is the commit every Kustomization has applied ("" when they
	// disagree or one has applied none).
	Commit string `json:"commit,omitempty"`
	// Problems that concern the environment as a whole (commits, soak,
	// unreachable spokes).
	Problems []string `json:"problems,omitempty"`
	// Healthy is true when nothing has a problem.
	Healthy bool `json:"healthy"`
	// Gates are the checks one by one (revision, delivery, soak, spokes),
	// each passed or not, with its evidence.
	Gates []Gate `json:"gates,omitempty"`
	// Objects are the Kustomizations and HelmReleases the Kustomizations
	// deliver (their inventories, recursively).
	Objects []ObjectHealth `json:"objects,omitempty"`
	// Clusters are the clusters all of them apply to, the hub first.
	Clusters []ClusterHealth `json:"clusters,omitempty"`
	// MinSoak is the soak required; Soaked the least soak found, by
	// LeastSoaked ("Kind ns/name").
	MinSoak     string `json:"minSoak,omitempty"`
	Soaked      string `json:"soaked,omitempty"`
	LeastSoaked string `json:"leastSoaked,omitempty"`
}

// AllProblems lists every problem, prefixed with its Kustomization or
// HelmRelease.
func (h *HealthCheck) AllProblems() []string {
	var out []string
	for _, k := range h.Kustomizations {
		for _, p := range k.Problems {
			out = append(out, "Kustomization "+k.ID()+": "+p)
		}
	}
	for _, o := range h.Objects {
		for _, p := range o.Problems {
			out = append(out, o.Kind+" "+o.ID()+": "+p)
		}
	}
	return append(out, h.Problems...)
}

// HealthError is returned when the health gate refuses a promotion.
type HealthError struct {
	Check *HealthCheck
}

func (e *HealthError) Error() string {
	return fmt.Sprintf("%s is not healthy, refusing to promote from it (--skip-health-check overrides):\n  %s",
		e.Check.Environment, strings.Join(e.Check.AllProblems(), "\n  "))
}

// checkHealth is the health gate: every Kustomization must be Ready for its
// current generation and not suspended. With live set (promoting what runs)
// each must also have applied its source's current revision, and all the
// same commit — that commit is HealthCheck.Commit.
func checkHealth(f *fleet.Fleet, env *pipeline.Environment, kss []*kustomizev1.Kustomization, live bool) *HealthCheck {
	h := &HealthCheck{Environment: env.Name, Kustomizations: []KustomizationHealth{}}
	commits := map[string][]string{}
	for _, ks := range kss {
		o := fleet.Object{Kind: fleet.KindKustomization, Kustomization: ks}
		oh := health.Evaluate(o, f.SourceRevision(o), nil)
		k := KustomizationHealth{
			Namespace: ks.Namespace, Name: ks.Name, Path: ks.Spec.Path, Suspended: oh.Suspended,
			AppliedRevision: oh.Revision, SourceRevision: oh.SourceRevision,
			Ready: oh.IsReady(), Reason: oh.Reason, Message: oh.Message,
			Problems: oh.StateProblems,
		}
		// Only a live promotion needs what runs to be current and at one
		// commit.
		if k.AppliedRevision == "" {
			if live {
				k.Problems = append(k.Problems, oh.RevisionProblems...)
			}
		} else if c, err := fleet.CommitOf(k.AppliedRevision); err != nil {
			if live {
				k.Problems = append(k.Problems, err.Error())
			}
		} else {
			k.Commit = c
			commits[c] = append(commits[c], k.ID())
		}
		if live && k.AppliedRevision != "" {
			k.Problems = append(k.Problems, oh.RevisionProblems...)
		}
		h.Kustomizations = append(h.Kustomizations, k)
	}
	if len(commits) == 1 {
		for c := range commits {
			h.Commit = c
		}
	} else if live && len(commits) > 1 {
		var parts []string
		for c, ids := range commits {
			parts = append(parts, fmt.Sprintf("%s at %s", strings.Join(ids, ", "), short(c)))
		}
		sort.Strings(parts)
		h.Problems = append(h.Problems, "the Kustomizations of "+env.Name+" applied different commits: "+strings.Join(parts, "; "))
	}
	h.Healthy = len(h.AllProblems()) == 0
	return h
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
