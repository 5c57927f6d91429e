package rbac

import (
	"context"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
)

// checkoutHubRules adds what diffing the checkout's working tree (co)
// needs on the hub beyond the live fleet's rules: the Secrets and
// ConfigMaps its Kustomizations and HelmReleases name (substituteFrom,
// kubeconfigs, valuesFrom, chart sources' credentials), and for what is
// applied to the hub the dry-run of every kind its builds and rendered
// charts hold, Helm's storage and impersonation.
func checkoutHubRules(ctx context.Context, f *fleet.Fleet, co *diff.Checkout, opts Options, rules byNamespace) error {
	hub := f.Hub()
	for _, b := range co.Builds {
		ks := b.Kustomization
		if dec := ks.Spec.Decryption; opts.Decrypt && dec != nil && dec.SecretRef != nil {
			rules.in(ks.Namespace).add("", "secrets", []string{"get"}, dec.SecretRef.Name)
		}
		if pb := ks.Spec.PostBuild; pb != nil {
			for _, ref := range pb.SubstituteFrom {
				rules.in(ks.Namespace).add("", resourceOf(ref.Kind), []string{"get"}, ref.Name)
			}
		}
		if kc := ks.Spec.KubeConfig; kc != nil {
			if kc.SecretRef != nil {
				rules.in(ks.Namespace).add("", "secrets", []string{"get"}, kc.SecretRef.Name)
			}
			if kc.ConfigMapRef != nil {
				rules.in(ks.Namespace).add("", "configmaps", []string{"get"}, kc.ConfigMapRef.Name)
			}
		}
		if !b.Cluster.Hub {
			continue
		}
		if sa := ks.Spec.ServiceAccountName; sa != "" {
			rules.in(ks.Namespace).add("", "serviceaccounts", []string{"impersonate"}, sa)
		}
		if err := addObjects(rules, hub.Mapper, b.Objects); err != nil {
			return fmt.Errorf("Kustomization %s/%s in the checkout: %w", ks.Namespace, ks.Name, err)
		}
	}
	for _, h := range co.HelmReleases {
		hr := h.HelmRelease
		if h.Home.Hub {
			for _, ref := range hr.Spec.ValuesFrom {
				rules.in(hr.Namespace).add("", resourceOf(ref.Kind), []string{"get"}, ref.Name)
			}
			if err := chartSourceRules(ctx, f, checkoutChartSource(hr), rules); err != nil {
				return fmt.Errorf("HelmRelease %s/%s in the checkout: %w", hr.Namespace, hr.Name, err)
			}
			if kc := hr.Spec.KubeConfig; kc != nil && kc.SecretRef != nil {
				rules.in(hr.Namespace).add("", "secrets", []string{"get"}, kc.SecretRef.Name)
			}
		}
		if h.Target == nil || !h.Target.Hub {
			continue
		}
		if err := targetRules(rules, hub.Mapper, h); err != nil {
			return err
		}
	}
	return nil
}

// checkoutSpokeRules adds what diffing the checkout's working tree needs
// on the spoke c (reached with mapper): the dry-run of the kinds its builds
// for c and the charts installed on c hold, impersonation, the valuesFrom
// of HelmReleases applied to c and Helm's storage.
func checkoutSpokeRules(c *fleet.Cluster, mapper meta.RESTMapper, co *diff.Checkout, rules byNamespace) error {
	for _, b := range co.Builds {
		if b.Cluster.Name != c.Name {
			continue
		}
		ks := b.Kustomization
		if sa := ks.Spec.ServiceAccountName; sa != "" {
			rules.in("").add("", "serviceaccounts", []string{"impersonate"}, sa)
		}
		if err := addObjects(rules, mapper, b.Objects); err != nil {
			return fmt.Errorf("Kustomization %s/%s in the checkout, on %s: %w", ks.Namespace, ks.Name, c.Name, err)
		}
	}
	for _, h := range co.HelmReleases {
		hr := h.HelmRelease
		if h.Home.Name == c.Name {
			for _, ref := range hr.Spec.ValuesFrom {
				rules.in(hr.Namespace).add("", resourceOf(ref.Kind), []string{"get"}, ref.Name)
			}
		}
		if h.Target == nil || h.Target.Name != c.Name {
			continue
		}
		if err := targetRules(rules, mapper, h); err != nil {
			return fmt.Errorf("%w on %s", err, c.Name)
		}
	}
	return nil
}

// targetRules adds what diffing the checkout's HelmRelease h needs on its
// target: Helm's storage Secrets, impersonation of its
// spec.serviceAccountName and the dry-run of the kinds its chart renders.
func targetRules(rules byNamespace, mapper meta.RESTMapper, h diff.CheckoutHelmRelease) error {
	hr := h.HelmRelease
	rules.in(hr.GetStorageNamespace()).add("", "secrets", []string{"get", "list"})
	if sa := hr.Spec.ServiceAccountName; sa != "" {
		ns := "" // on a spoke, by name (as Spoke does)
		if h.Target.Hub {
			ns = hr.Namespace
		}
		rules.in(ns).add("", "serviceaccounts", []string{"impersonate"}, sa)
	}
	if err := addObjects(rules, mapper, h.Objects); err != nil {
		return fmt.Errorf("HelmRelease %s/%s in the checkout: %w", hr.Namespace, hr.Name, err)
	}
	return nil
}

// checkoutChartSource is the source a HelmRelease of the checkout takes
// its chart from: its chartRef, else the sourceRef of spec.chart.
func checkoutChartSource(hr *helmv2.HelmRelease) fleet.SourceRef {
	if hr.Spec.Chart == nil {
		return fleet.SourceOf(fleet.Object{Kind: helmv2.HelmReleaseKind, HelmRelease: hr})
	}
	ref := hr.Spec.Chart.Spec.SourceRef
	ns := ref.Namespace
	if ns == "" {
		ns = hr.Namespace
	}
	return fleet.SourceRef{Kind: ref.Kind, Namespace: ns, Name: ref.Name}
}

// addObjects allows the dry-run of the kind of every object in its
// namespace, create included: a change may bring objects that do not
// exist yet. A kind the cluster does not serve yet needs no right: diff
// reports it created when the same build brings its CRD, and an error
// naming the missing CRD otherwise. A namespaced object without a
// namespace is not applied by Flux either.
func addObjects(into byNamespace, mapper meta.RESTMapper, objects []*unstructured.Unstructured) error {
	for _, o := range objects {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", gvk.Kind, o.GetName(), err)
		}
		ns := ""
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if ns = o.GetNamespace(); ns == "" {
				continue
			}
		}
		into.in(ns).addDryRun(m.Resource.Group, m.Resource.Resource, true)
	}
	return nil
}
