package diff

import (
	"context"
	"sort"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/helmrender"
)

// Checkout is what the working tree of the checkout makes a diff run
// apply, per target cluster, without contacting a target: every
// Kustomization Run would build (the live roots from this checkout and,
// in BFS order, the nested Kustomizations their hub builds apply) and the
// HelmReleases of those builds, rendered. Package rbac turns it into the
// rights a diff of this checkout needs.
type Checkout struct {
	Builds       []CheckoutBuild
	HelmReleases []CheckoutHelmRelease
}

// CheckoutBuild is one Kustomization built from the checkout, with the
// spec it was built with. Err is set when it does not build.
type CheckoutBuild struct {
	Cluster       *fleet.Cluster
	Kustomization *kustomizev1.Kustomization
	Objects       []*unstructured.Unstructured
	Err           error
}

// CheckoutHelmRelease is a HelmRelease of a CheckoutBuild: Home is the
// cluster it is applied to (where its valuesFrom and chart source are
// read), Target the cluster its chart is installed on (spec.kubeConfig),
// Objects what its chart renders. Rendering takes what no build holds
// from the live hub, the chart from the checkout, the chart cache or its
// repository, and Helm's default capabilities (as `helm template`); Err
// is set when it could not be rendered (Target may then be nil).
type CheckoutHelmRelease struct {
	Home, Target *fleet.Cluster
	HelmRelease  *helmv2.HelmRelease
	Objects      []*unstructured.Unstructured
	Err          error
}

// CheckoutObjects builds the checkout's working tree as Run with opts
// would (RepoDir, Source, StrictSubstitute, Decrypt, NoHelm, Offline,
// ChartCacheDir; Targets, Base and the dry-run options are not used: the
// whole fleet's builds are made) and renders the HelmReleases of the
// builds. It returns an error only when nothing can be built (no
// checkout, no matching source).
func CheckoutObjects(ctx context.Context, f *fleet.Fleet, opts Options) (*Checkout, error) {
	sources, err := selectSources(f, opts)
	if err != nil {
		return nil, err
	}
	roots, _ := checkoutRoots(f, sources)
	b, _, err := newCheckoutBuilder(f, opts)
	if err != nil {
		return nil, err
	}
	s := buildSide(ctx, f, b, sources, roots, nil, false, nil, nil)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := &Checkout{}
	for _, sb := range s.builds {
		out.Builds = append(out.Builds, CheckoutBuild{Cluster: sb.cluster, Kustomization: sb.ks, Objects: sb.objects, Err: sb.err})
	}
	if opts.NoHelm {
		return out, nil
	}
	h := &offlineHelm{f: f, sources: sources, repo: opts.RepoDir, unresolved: &unresolvedInputs{}, hub: f.Hub().Client,
		fetcher: &helmrender.Fetcher{CacheDir: opts.ChartCacheDir, Offline: opts.Offline}}
	defer h.close()
	hubValues, hubSrcs := s.hubValues(), hubSources(s)
	hrs := helmReleasesOf(s)
	keys := make([]string, 0, len(hrs))
	for k := range hrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := hrs[k]
		r := h.render(ctx, s, x, hubValues, hubSrcs, opts.RepoDir)
		out.HelmReleases = append(out.HelmReleases, CheckoutHelmRelease{Home: x.sb.cluster, Target: r.target, HelmRelease: x.hr, Objects: r.objects, Err: r.err})
	}
	return out, nil
}
