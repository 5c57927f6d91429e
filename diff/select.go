package diff

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"sigs.k8s.io/yaml"

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
// and paths inside the checkout; anything else is ErrBadTarget, and so is a
// path of the checkout that inArtifact (nil: everything is) says the
// source artifact leaves out — Flux never builds from it.
func newSelector(f *fleet.Fleet, opts Options, roots []*kustomizev1.Kustomization, inArtifact func(rel string) (bool, error)) (*selector, error) {
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
			rel = filepath.Clean(rel)
			if inArtifact != nil {
				in, err := inArtifact(filepath.ToSlash(rel))
				if err != nil {
					return nil, err
				}
				if !in {
					return nil, fmt.Errorf("%w: %q is not in the artifact source-controller makes of %s: .sourceignore, the source's spec.ignore or the default exclusions leave it out", ErrBadTarget, t, opts.RepoDir)
				}
			}
			s.paths = append(s.paths, rel)
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
	p := filepath.FromSlash(fleet.ArtifactPath(ks.Spec.Path))
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
// built. A path argument needs its build inputs to decide: those are
// bounded without building by possibleInputs, and only a Kustomization
// that may read a file under a path argument is built to find out.
func (s *selector) mayWant(repo, cluster string, ks *kustomizev1.Kustomization) bool {
	if s.wants(cluster, ks, nil) {
		return true
	}
	if len(s.paths) == 0 {
		return false
	}
	files, ok := possibleInputs(repo, ks)
	return !ok || s.wants(cluster, ks, files)
}

// possibleInputs returns, relative to repo, files and directories of the
// checkout that include every file a build of ks reads (what
// Builder.BuildWithInputs reports), found without building: everything
// under spec.path, and for every kustomization file met, whatever its
// strings (resources, components, patches, generator files, "key=file"
// forms) name in the checkout, recursively (a name that is missing too:
// deleting a file a kustomization still names changes its build into an
// error); spec.components too. It may name more than the build reads,
// never less. ok is false when the files
// cannot be bounded that way: a kustomization with generators,
// transformers, validators or helmCharts, whose own configuration names
// further files.
func possibleInputs(repo string, ks *kustomizev1.Kustomization) (files []string, ok bool) {
	root := filepath.Join(repo, filepath.FromSlash(fleet.ArtifactPath(ks.Spec.Path)))
	out := map[string]bool{}
	visited := map[string]bool{}
	ok = true
	var add func(p string)
	var addEntry func(p string, isDir bool)
	kustomizationFile := func(dir string, data []byte) {
		var doc map[string]any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			ok = false
			return
		}
		for _, k := range []string{"generators", "transformers", "validators", "helmCharts", "helmChartInflationGenerator"} {
			if v, found := doc[k]; found && v != nil {
				ok = false
			}
		}
		var walk func(v any)
		walk = func(v any) {
			switch t := v.(type) {
			case map[string]any:
				for _, c := range t {
					walk(c)
				}
			case []any:
				for _, c := range t {
					walk(c)
				}
			case string:
				if t == "" || strings.Contains(t, "\n") || strings.Contains(t, "://") {
					return
				}
				add(filepath.Join(dir, t))
				if _, after, found := strings.Cut(t, "="); found && after != "" {
					add(filepath.Join(dir, after))
				}
			}
		}
		walk(doc)
	}
	add = func(p string) {
		if visited[filepath.Clean(p)] {
			return
		}
		fi, err := os.Stat(p)
		addEntry(p, err == nil && fi.IsDir())
	}
	// addEntry adds p, a directory when isDir (else a file or missing).
	addEntry = func(p string, isDir bool) {
		p = filepath.Clean(p)
		rel, err := filepath.Rel(repo, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || visited[p] {
			return // outside the checkout: the build cannot read it
		}
		visited[p] = true
		out[rel] = true // also when missing: a change that adds or deletes it matters
		if !isDir {
			return
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			ok = false
			return
		}
		// The entries first, their types known from the listing, then
		// what the kustomization files name (mostly those entries).
		var kfiles []string
		for _, e := range entries {
			c := filepath.Join(p, e.Name())
			switch n := e.Name(); {
			case e.IsDir():
				addEntry(c, true)
				continue
			case n == "kustomization.yaml" || n == "kustomization.yml" || n == "Kustomization":
				kfiles = append(kfiles, c)
			}
			if e.Type()&fs.ModeSymlink != 0 {
				add(c) // a link to a directory is one
				continue
			}
			addEntry(c, false)
		}
		for _, c := range kfiles {
			data, err := os.ReadFile(c)
			if err != nil {
				ok = false
				continue
			}
			kustomizationFile(p, data)
		}
	}
	add(root)
	for _, c := range ks.Spec.Components {
		add(filepath.Join(root, c))
	}
	files = make([]string, 0, len(out))
	for f := range out {
		files = append(files, f)
	}
	sort.Strings(files)
	return files, ok
}
