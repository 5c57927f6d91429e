package diff

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/helmrender"
	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// Options select and tune a diff run.
type Options struct {
	// RepoDir is the top of the gitops checkout.
	RepoDir string
	// Targets narrow the run: cluster names, NAMESPACE/KUSTOMIZATION, or
	// paths in the checkout. Empty means the whole fleet.
	Targets []string
	// Source names the GitRepository the checkout stands for
	// ("GitRepository/ns/name"); default: the one whose URL matches the
	// checkout's origin remote.
	Source string
	// Concurrency bounds the dry-runs in flight per cluster.
	Concurrency int
	// StrictSubstitute fails on postBuild variables without a value.
	StrictSubstitute bool
	// VerifyUnchanged sends every object to the server, including those the
	// local check finds certain to be unchanged.
	VerifyUnchanged bool
	// NoHelm turns off rendering the HelmReleases of the builds (--helm=false).
	NoHelm bool
	// Offline takes charts only from the chart cache and the checkout.
	Offline bool
	// Decrypt decrypts SOPS data in memory with the keys of each
	// Kustomization's spec.decryption Secret (Builder.WithDecrypt).
	Decrypt bool
	// Base, when set, is a revision of the checkout (branch, tag or
	// commit): only the Kustomizations and HelmReleases whose build, spec,
	// values or chart differ from it are diffed (base.go).
	Base string
	// NoLive compares base and head with each other and contacts no
	// cluster (RunOffline); needs Base.
	NoLive bool
	// BaseBuilt, when set, is called with the ID (namespace/name) of each
	// Kustomization built from the base tree (--base): the run's record
	// of which base builds it made and which it decided without building.
	BaseBuilt func(id string)
	// ChartCacheDir holds downloaded charts; default
	// helmrender.DefaultCacheDir() (~/.cache/kubectl-c5c3/charts).
	ChartCacheDir string
	// Progress, when set, is called as objects finish (from many
	// goroutines): cluster, objects done and known so far.
	Progress func(cluster string, done, total int)
	// ChartProgress, when set, is called as HelmReleases are found and
	// rendered (from many goroutines): charts done and known so far.
	ChartProgress func(done, total int)
}

// DefaultConcurrency is the default number of dry-runs in flight per cluster.
const DefaultConcurrency = 16

// ErrBadTarget is wrapped when an argument names nothing in the fleet.
var ErrBadTarget = errors.New("bad target")

// Run diffs the checkout against the fleet. A broken cluster, Kustomization
// or object is reported in the Result; Run returns an error only when
// nothing can be diffed at all (no checkout, no matching source, bad
// arguments).
func Run(ctx context.Context, f *fleet.Fleet, opts Options) (*Result, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	res := &Result{APIVersion: APIVersion, Kind: Kind, Repo: opts.RepoDir, Kustomizations: []KustomizationResult{}, Objects: []ObjectResult{}, Skipped: []SkippedKustomization{}, HelmReleases: []HelmReleaseResult{}, ResourceSets: []ResourceSetResult{}}
	sources, err := selectSources(f, opts)
	if err != nil {
		return nil, err
	}
	var srcNames []string
	for s := range sources {
		srcNames = append(srcNames, strings.TrimPrefix(s, "GitRepository/"))
	}
	sort.Strings(srcNames)
	res.Source = strings.Join(srcNames, ",")

	roots, skipped := checkoutRoots(f, sources)
	res.Skipped = append(res.Skipped, skipped...)
	b, ignores, err := newCheckoutBuilder(f, opts)
	if err != nil {
		return nil, err
	}
	sel, err := newSelector(f, opts, roots, func(rel string) (bool, error) { return ignores.inArtifact(sources, rel) })
	if err != nil {
		return nil, err
	}

	e := &engine{f: f, opts: opts, sources: sources, sel: sel, builder: b, runners: map[string]*runner{}, results: map[string]*ksState{},
		helm: &helmState{fetcher: &helmrender.Fetcher{CacheDir: opts.ChartCacheDir, Offline: opts.Offline},
			releases: make(chan struct{}, runtime.GOMAXPROCS(0))}}
	if opts.Base != "" {
		if e.scope, err = newBaseScope(ctx, f, opts, b, sources, roots, func(bb *Builder) {
			bb.WithSourceIgnore(checkoutSourceIgnore(newSourceIgnores(bb, f)))
			if opts.Decrypt {
				bb.WithDecrypt()
			}
		}); err != nil {
			return nil, err
		}
	}
	e.run(ctx, roots)
	e.collect(res)
	if e.scope != nil {
		e.scope.collect(res)
	}
	res.markGaps()
	res.Dangers, res.Images = lint(res, f), summariseImages(res.Objects)
	return res, nil
}

// checkoutRoots are the live Kustomizations whose source is the checkout
// (one of sources), sorted by ID, and the others, skipped.
func checkoutRoots(f *fleet.Fleet, sources map[string]bool) ([]*kustomizev1.Kustomization, []SkippedKustomization) {
	var roots []*kustomizev1.Kustomization
	var skipped []SkippedKustomization
	for _, c := range f.Clusters {
		for _, o := range c.Objects {
			ks := o.Kustomization
			if ks == nil {
				continue
			}
			if src := fleet.KustomizationSource(ks).String(); !sources[src] {
				skipped = append(skipped, SkippedKustomization{Namespace: ks.Namespace, Name: ks.Name, Reason: "source " + src + " is not this checkout"})
				continue
			}
			roots = append(roots, ks)
		}
	}
	sort.Slice(roots, func(i, j int) bool { return fleet.ID(roots[i]) < fleet.ID(roots[j]) })
	sort.Slice(skipped, func(i, j int) bool {
		return skipped[i].Namespace+"/"+skipped[i].Name < skipped[j].Namespace+"/"+skipped[j].Name
	})
	return roots, skipped
}

// newCheckoutBuilder is the Builder of the checkout's working tree, reading
// the hub, seeing what source-controller's artifact holds (the fleet's
// ignore rules) and decrypting with opts.Decrypt.
func newCheckoutBuilder(f *fleet.Fleet, opts Options) (*Builder, *sourceIgnores, error) {
	b, err := NewBuilder(opts.RepoDir, f.Hub().Client, opts.StrictSubstitute)
	if err != nil {
		return nil, nil, err
	}
	ignores := newSourceIgnores(b, f)
	b.WithSourceIgnore(checkoutSourceIgnore(ignores))
	if opts.Decrypt {
		b.WithDecrypt()
	}
	return b, ignores, nil
}

// selectSources returns the GitRepositories ("GitRepository/ns/name") the
// checkout stands for.
func selectSources(f *fleet.Fleet, opts Options) (map[string]bool, error) {
	if opts.Source != "" {
		parts := strings.Split(opts.Source, "/")
		if len(parts) != 3 || parts[0] != "GitRepository" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("%w: --source %q must be GitRepository/NAMESPACE/NAME", ErrBadTarget, opts.Source)
		}
		return map[string]bool{opts.Source: true}, nil
	}
	origin, err := gitrepo.RemoteURL(opts.RepoDir, "origin")
	if err != nil {
		return nil, err
	}
	if origin == "" {
		return nil, fmt.Errorf("checkout %s has no \"origin\" remote: pass --source GitRepository/NAMESPACE/NAME", opts.RepoDir)
	}
	want := gitrepo.NormalizeURL(origin)
	out := map[string]bool{}
	var seen []string
	for key, s := range f.Sources {
		if !strings.HasPrefix(key, "GitRepository/") {
			continue
		}
		u, _, _ := unstructured.NestedString(s.Object, "spec", "url")
		seen = append(seen, key+" ("+u+")")
		if gitrepo.NormalizeURL(u) == want {
			out[key] = true
		}
	}
	if len(out) == 0 {
		sort.Strings(seen)
		return nil, fmt.Errorf("no GitRepository in the hub has the checkout's origin URL %s (seen: %s); pass --source GitRepository/NAMESPACE/NAME",
			origin, strings.Join(seen, ", "))
	}
	return out, nil
}
