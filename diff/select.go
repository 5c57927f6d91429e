package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// selector decides which Kustomizations the user asked for: everything
// (no arguments), or those of the named clusters, the named
// NAMESPACE/NAMEs and those a path argument reaches.
type selector struct {
	all      bool
	clusters map[string]bool
	ks       map[string]bool
	paths    []string
}

// newSelector sorts the arguments into clusters, Kustomizations (of roots)
// and paths inside the checkout; anything else is ErrBadTarget.
func newSelector(f *fleet.Fleet, opts Options, roots []*kustomizev1.Kustomization) (*selector, error) {
	s := &selector{clusters: map[string]bool{}, ks: map[string]bool{}}
	if len(opts.Targets) == 0 {
		s.all = true
		return s, nil
	}
	known := map[string]bool{}
	for _, r := range roots {
		known[fleet.ID(r)] = true
	}
	for _, t := range opts.Targets {
		switch {
		case f.Cluster(t) != nil:
			s.clusters[t] = true
		case known[t]:
			s.ks[t] = true
		default:
			p := t
			if !filepath.IsAbs(p) {
				if _, err := os.Stat(filepath.Join(opts.RepoDir, p)); err == nil {
					p = filepath.Join(opts.RepoDir, p)
				}
			}
			abs, _ := filepath.Abs(p)
			rel, err := filepath.Rel(opts.RepoDir, abs)
			if _, serr := os.Stat(abs); serr != nil || err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return nil, fmt.Errorf("%w: %q is neither a cluster, a NAMESPACE/KUSTOMIZATION of this checkout, nor a path in %s", ErrBadTarget, t, opts.RepoDir)
			}
			s.paths = append(s.paths, filepath.Clean(rel))
		}
	}
	return s, nil
}

// wants reports whether a Kustomization was asked for. A path selects the
// Kustomizations whose spec.path is at, under or above it, and those whose
// build read a file under it (a base in apps/ selects every overlay using it).
func (s *selector) wants(cluster string, ks *kustomizev1.Kustomization, inputs []string) bool {
	if s.all || s.clusters[cluster] || s.ks[fleet.ID(ks)] {
		return true
	}
	sep := string(filepath.Separator)
	p := filepath.Clean(strings.TrimPrefix(ks.Spec.Path, "./"))
	for _, want := range s.paths {
		if want == "." || p == want || strings.HasPrefix(p, want+sep) || strings.HasPrefix(want, p+sep) {
			return true
		}
		for _, in := range inputs {
			if in == want || strings.HasPrefix(in, want+sep) {
				return true
			}
		}
	}
	return false
}

// mayWant reports whether a Kustomization can be selected before it is
// built: only path arguments need its build inputs to decide.
func (s *selector) mayWant(cluster string, ks *kustomizev1.Kustomization) bool {
	return len(s.paths) > 0 || s.wants(cluster, ks, nil)
}
