package promote

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
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

// SelectKustomizations returns the hub Kustomizations that deploy env:
// those named in env.Kustomizations (missing ones are an error), else
// those whose spec.path is under env.Paths and whose source is a
// GitRepository of this repository (originURL, compared ignoring ssh/https
// spelling; a source the hub does not have is not excluded).
func SelectKustomizations(f *fleet.Fleet, env *Environment, originURL string) ([]*kustomizev1.Kustomization, error) {
	all := map[string]*kustomizev1.Kustomization{}
	for _, c := range f.Clusters {
		for _, o := range c.Objects {
			if ks := o.Kustomization; ks != nil {
				all[fleet.ID(ks)] = ks
			}
		}
	}
	var out []*kustomizev1.Kustomization
	if len(env.Kustomizations) > 0 {
		for _, id := range env.Kustomizations {
			ks := all[id]
			if ks == nil {
				return nil, fmt.Errorf("environment %s: Kustomization %s (from %s) not found on its hub", env.Name, id, ConfigFile)
			}
			out = append(out, ks)
		}
		return out, nil
	}
	for _, ks := range all {
		p := fleet.ArtifactPath(ks.Spec.Path)
		if p == "." || !env.Under(p) {
			continue
		}
		ref := fleet.KustomizationSource(ks)
		if ref.Kind != "GitRepository" {
			continue
		}
		if src := f.Sources[ref.String()]; src != nil && originURL != "" {
			url, _, _ := unstructured.NestedString(src.Object, "spec", "url")
			if gitrepo.NormalizeURL(url) != gitrepo.NormalizeURL(originURL) {
				continue
			}
		}
		out = append(out, ks)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("environment %s: no Kustomization on its hub deploys %s from this repository; list them under kustomizations: in %s",
			env.Name, strings.Join(env.Paths, ", "), ConfigFile)
	}
	sort.Slice(out, func(i, j int) bool {
		return fleet.ID(out[i]) < fleet.ID(out[j])
	})
	return out, nil
}

// checkHealth is the health gate: every Kustomization must be Ready for its
// current generation and not suspended. With live set (promoting what runs)
// each must also have applied its source's current revision, and all the
// same commit — that commit is HealthCheck.Commit.
func checkHealth(f *fleet.Fleet, env *Environment, kss []*kustomizev1.Kustomization, live bool) *HealthCheck {
	h := &HealthCheck{Environment: env.Name, Kustomizations: []KustomizationHealth{}}
	commits := map[string][]string{}
	for _, ks := range kss {
		k := KustomizationHealth{
			Namespace: ks.Namespace, Name: ks.Name, Path: ks.Spec.Path, Suspended: ks.Spec.Suspend,
			AppliedRevision: ks.Status.LastAppliedRevision,
			SourceRevision:  f.SourceRevision(fleet.Object{Kind: fleet.KindKustomization, Kustomization: ks}),
		}
		if c := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition); c != nil {
			k.Ready = c.Status == "True"
			k.Reason, k.Message = c.Reason, c.Message
		}
		switch {
		case k.Reason == "" && !k.Ready:
			k.Problems = append(k.Problems, "has no Ready condition yet")
		case !k.Ready:
			k.Problems = append(k.Problems, fmt.Sprintf("not Ready: %s: %s", k.Reason, k.Message))
		case ks.Status.ObservedGeneration < ks.Generation:
			k.Problems = append(k.Problems, fmt.Sprintf("not reconciled since its last change (observed generation %d < %d)", ks.Status.ObservedGeneration, ks.Generation))
		}
		if k.Suspended {
			k.Problems = append(k.Problems, "suspended")
		}
		if k.AppliedRevision == "" {
			if live {
				k.Problems = append(k.Problems, "has applied no revision yet")
			}
		} else if c, err := CommitOf(k.AppliedRevision); err != nil {
			if live {
				k.Problems = append(k.Problems, err.Error())
			}
		} else {
			k.Commit = c
			commits[c] = append(commits[c], k.ID())
		}
		if live && k.SourceRevision != "" && k.AppliedRevision != "" && k.AppliedRevision != k.SourceRevision {
			k.Problems = append(k.Problems, fmt.Sprintf("applied revision %s, but its source is at %s: not reconciled to the latest revision", k.AppliedRevision, k.SourceRevision))
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

var hexRE = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// CommitOf extracts the git commit from a Flux revision:
// "main@sha1:<hash>", "sha1:<hash>", "refs/tags/v1@sha256:<hash>" or the
// legacy "main/<hash>".
func CommitOf(revision string) (string, error) {
	r := revision
	if i := strings.LastIndex(r, "@"); i >= 0 {
		r = r[i+1:]
	}
	if algo, h, ok := strings.Cut(r, ":"); ok && (algo == "sha1" || algo == "sha256") && hexRE.MatchString(h) {
		return h, nil
	}
	if i := strings.LastIndex(r, "/"); i >= 0 && hexRE.MatchString(r[i+1:]) {
		return r[i+1:], nil
	}
	if hexRE.MatchString(r) {
		return r, nil
	}
	return "", fmt.Errorf("applied revision %q names no git commit", revision)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
