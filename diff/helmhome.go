package diff

import (
	"context"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// helmHome is the cluster a HelmRelease lives on — the cluster its
// Kustomization applies it to, where the helm-controller reconciling it
// runs: the hub, or a spoke. Its chart sources, valuesFrom ConfigMaps and
// Secrets and source credentials are read there (after the build's own).
type helmHome struct {
	cluster *fleet.Cluster
	// reader reads that cluster with its plain client.
	reader client.Client
	// config is the REST config of reader (for the service proxy).
	config *rest.Config
}

// home is the cluster st's build is applied to, as a helmHome.
func (e *engine) home(ctx context.Context, st *ksState) (*helmHome, error) {
	if st.cluster.Hub {
		return &helmHome{cluster: st.cluster, reader: e.f.Hub().Client, config: e.f.Hub().Config}, nil
	}
	kc, err := e.f.Client(ctx, st.cluster, "")
	if err != nil {
		return nil, err
	}
	return &helmHome{cluster: st.cluster, reader: kc.Client, config: kc.Config}, nil
}

// helmTarget is the cluster hr's objects are applied to: from the hub,
// spec.kubeConfig's spoke (through the hub Secret), else the hub; from a
// spoke, that spoke. A spoke's HelmRelease with its own spec.kubeConfig
// (a Secret on the spoke) is not followed.
func helmTarget(f *fleet.Fleet, home *fleet.Cluster, hr *helmv2.HelmRelease) (*fleet.Cluster, error) {
	if home.Hub {
		return f.TargetOf(hr.Namespace, hr.Spec.KubeConfig), nil
	}
	if kc := hr.Spec.KubeConfig; kc != nil && (kc.SecretRef != nil || kc.ConfigMapRef != nil) {
		return nil, fmt.Errorf("it lives on spoke %s and has spec.kubeConfig: a target reached through a Secret on a spoke is not supported", home.Name)
	}
	return home, nil
}

// adoptLive gives hr, built from the checkout, the status helm-controller
// recorded on the live HelmRelease on its home cluster and the generation
// it will have after the push: the live one, one more when the spec
// changes. Without a live HelmRelease hr is left as built (generation 0,
// no status).
func (e *engine) adoptLive(ctx context.Context, home *helmHome, hr *helmv2.HelmRelease) error {
	var live *helmv2.HelmRelease
	if home.cluster.Hub {
		live = e.liveHelmRelease(fleet.ID(hr))
	} else {
		live = &helmv2.HelmRelease{}
		err := home.reader.Get(ctx, client.ObjectKeyFromObject(hr), live)
		switch {
		case apierrors.IsNotFound(err) || kube.IsNoMatch(err):
			live = nil
		case err != nil:
			return fmt.Errorf("reading the live HelmRelease on %s: %s", home.cluster.Name, cleanError(err))
		}
	}
	if live == nil {
		return nil
	}
	hr.Status = live.Status
	hr.Generation = live.Generation
	if specChanged(hr.Spec, live.Spec) {
		hr.Generation++
	}
	return nil
}

// specChanged compares a spec from the checkout with the live one as the
// apiserver does for the generation: values by content, and the CRD's
// defaults (chart.spec.version "*", reconcileStrategy ChartVersion,
// verify.provider cosign, uninstall.deletionPropagation background)
// filled in on the checkout's side.
func specChanged(build, live helmv2.HelmReleaseSpec) bool {
	b, l := *build.DeepCopy(), *live.DeepCopy()
	if c := b.Chart; c != nil {
		if c.Spec.Version == "" {
			c.Spec.Version = "*"
		}
		if c.Spec.ReconcileStrategy == "" {
			c.Spec.ReconcileStrategy = "ChartVersion"
		}
		if v := c.Spec.Verify; v != nil && v.Provider == "" {
			v.Provider = "cosign"
		}
	}
	if u := b.Uninstall; u != nil && u.DeletionPropagation == nil {
		bg := "background"
		u.DeletionPropagation = &bg
	}
	bv, lv := (&helmv2.HelmRelease{Spec: b}).GetValues(), (&helmv2.HelmRelease{Spec: l}).GetValues()
	b.Values, l.Values = nil, nil
	return !apiequality.Semantic.DeepEqual(bv, lv) || !apiequality.Semantic.DeepEqual(b, l)
}
