package pipeline

import (
	"fmt"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

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

// PushRemote is the git remote promote pushes to.
const PushRemote = "origin"
