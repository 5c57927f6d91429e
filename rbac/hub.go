package rbac

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/helmrender"
)

// fluxReads are the Flux objects and sources diff reads on the hub, in
// every namespace (sources may live anywhere).
var fluxReads = []struct {
	group     string
	resources []string
}{
	{"kustomize.toolkit.fluxcd.io", []string{"kustomizations"}},
	{"helm.toolkit.fluxcd.io", []string{"helmreleases"}},
	{"source.toolkit.fluxcd.io", []string{"buckets", "gitrepositories", "helmcharts", "helmrepositories", "ocirepositories"}},
	{"fluxcd.controlplane.io", []string{"fluxinstances", "fluxreports"}},
}

// readVerbs read objects.
var readVerbs = []string{"get", "list", "watch"}

// Options are the rights asked for beyond what a plain diff needs.
type Options struct {
	// Decrypt: the get on the Kustomizations' decryption Secrets that
	// diff --decrypt needs.
	Decrypt bool
	// Checkout, when set, is what the checkout's working tree applies
	// (diff.CheckoutObjects): its kinds, namespaces and named objects are
	// granted too, so that a diff of a change that brings them is allowed.
	Checkout *diff.Checkout
}

// Name is the name of the roles and bindings made for sa.
func Name(sa types.NamespacedName) string { return "c5c3-diff:" + sa.Namespace + ":" + sa.Name }

// Hub is the RBAC the service account sa needs on the hub to run diff on
// the fleet f: a ClusterRole and ClusterRoleBinding (Flux reads, the dry-run
// of cluster-scoped objects applied to the hub), then a Role and
// RoleBinding per namespace (named Secrets and ConfigMaps, the proxy to
// source-controller, the dry-run of what is applied to the hub there,
// impersonation of Flux's service accounts).
// With opts.Decrypt it also grants get on the decryption Secrets of the
// Kustomizations (spec.decryption.secretRef), which diff --decrypt reads.
func Hub(ctx context.Context, f *fleet.Fleet, sa types.NamespacedName, opts Options) ([]client.Object, error) {
	rules := byNamespace{}
	cluster := rules.in("")
	for _, r := range fluxReads {
		for _, res := range r.resources {
			cluster.add(r.group, res, readVerbs)
		}
	}
	for _, c := range f.Clusters {
		if c.KubeConfig != nil {
			ref := c.KubeConfig
			if ref.ConfigMapName != "" {
				rules.in(ref.Namespace).add("", "configmaps", []string{"get"}, ref.ConfigMapName)
				if err := workloadIdentityRules(ctx, f, c, rules); err != nil {
					return nil, err
				}
			} else {
				rules.in(ref.Namespace).add("", "secrets", []string{"get"}, ref.SecretName)
			}
		}
		for _, o := range c.Objects {
			if err := objectRules(ctx, f, c, o, opts, rules); err != nil {
				return nil, err
			}
		}
	}
	if opts.Checkout != nil {
		if err := checkoutHubRules(ctx, f, opts.Checkout, opts, rules); err != nil {
			return nil, err
		}
	}
	if err := dropMissingNamespaces(ctx, f.Hub().Client, rules); err != nil {
		return nil, err
	}
	return objects(rules, Name(sa), rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name}), nil
}

// dropMissingNamespaces drops the rules of namespaces that do not exist
// on the cluster c: a Role cannot be made there, and what diff would read
// there (a Secret, a source-controller's proxy) is not there either. A
// namespace the reader may not get is kept.
func dropMissingNamespaces(ctx context.Context, c client.Client, rules byNamespace) error {
	for _, ns := range rules.namespaces() {
		if err := c.Get(ctx, types.NamespacedName{Name: ns}, &corev1.Namespace{}); apierrors.IsNotFound(err) {
			delete(rules, ns)
		} else if err != nil && !apierrors.IsForbidden(err) {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	return nil
}

// workloadIdentityRules adds what reaching the spoke c through its
// workload-identity ConfigMap needs: reading the service account whose
// token is used and requesting that token (TokenRequest). Without
// serviceAccountName a generic ConfigMap uses the applying Flux
// controller's own service account in the Flux namespace; a cloud provider
// without one uses the user's own cloud credentials, which need nothing on
// the hub.
func workloadIdentityRules(ctx context.Context, f *fleet.Fleet, c *fleet.Cluster, rules byNamespace) error {
	w, err := fleet.ReadWorkloadIdentity(ctx, f.Hub().Client, *c.KubeConfig)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	controllers := map[string]bool{}
	for _, o := range c.Objects {
		controllers[o.Controller()] = true
	}
	if len(controllers) == 0 {
		controllers[fleet.KustomizeControllerServiceAccount] = true
	}
	for ctl := range controllers {
		w.ControllerServiceAccount = f.FluxNamespace() + "/" + ctl
		if ns, name := w.ServiceAccount(); name != "" {
			rules.in(ns).add("", "serviceaccounts", []string{"get"}, name)
			rules.in(ns).add("", "serviceaccounts/token", []string{"create"}, name)
		}
	}
	return nil
}

// objectRules adds what diffing the Kustomization or HelmRelease o, applied
// to cluster c, needs on the hub.
func objectRules(ctx context.Context, f *fleet.Fleet, c *fleet.Cluster, o fleet.Object, opts Options, rules byNamespace) error {
	if ks := o.Kustomization; ks != nil {
		if dec := ks.Spec.Decryption; opts.Decrypt && dec != nil && dec.SecretRef != nil {
			rules.in(ks.Namespace).add("", "secrets", []string{"get"}, dec.SecretRef.Name)
		}
		if pb := ks.Spec.PostBuild; pb != nil {
			for _, ref := range pb.SubstituteFrom {
				rules.in(ks.Namespace).add("", resourceOf(ref.Kind), []string{"get"}, ref.Name)
			}
		}
		if !c.Hub {
			return nil
		}
		if sa := ks.Spec.ServiceAccountName; sa != "" {
			rules.in(ks.Namespace).add("", "serviceaccounts", []string{"impersonate"}, sa)
		}
		if inv := ks.Status.Inventory; inv != nil {
			ids := make([]string, 0, len(inv.Entries))
			for _, e := range inv.Entries {
				ids = append(ids, e.ID)
			}
			if err := addInventory(rules, f.Hub().Mapper, ids, true); err != nil {
				return fmt.Errorf("Kustomization %s/%s: %w", ks.Namespace, ks.Name, err)
			}
		}
		return nil
	}
	hr := o.HelmRelease
	for _, ref := range hr.Spec.ValuesFrom {
		rules.in(hr.Namespace).add("", resourceOf(ref.Kind), []string{"get"}, ref.Name)
	}
	if err := chartSourceRules(ctx, f, fleet.SourceOf(o), rules); err != nil {
		return fmt.Errorf("HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
	}
	if !c.Hub {
		return nil
	}
	if sa := hr.Spec.ServiceAccountName; sa != "" {
		rules.in(hr.Namespace).add("", "serviceaccounts", []string{"impersonate"}, sa)
	}
	return releaseRules(rules, f.Hub(), hr)
}

// chartSourceRules adds the reads of a HelmRelease's chart source: its
// credentials (spec.secretRef, spec.certSecretRef), and for a HelmChart the
// proxy to the source-controller serving its artifact and its own source.
func chartSourceRules(ctx context.Context, f *fleet.Fleet, ref fleet.SourceRef, rules byNamespace) error {
	if ref.IsZero() {
		return nil
	}
	s := f.Sources[ref.String()]
	if s == nil {
		s = &unstructured.Unstructured{}
		s.SetGroupVersionKind(fleet.SourceGroupVersion.WithKind(ref.Kind))
		if err := f.Hub().Client.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, s); err != nil {
			// A source that is not there yet costs diff nothing to read.
			return client.IgnoreNotFound(err)
		}
	}
	for _, field := range []string{"secretRef", "certSecretRef"} {
		if name, _, _ := unstructured.NestedString(s.Object, "spec", field, "name"); name != "" {
			rules.in(ref.Namespace).add("", "secrets", []string{"get"}, name)
		}
	}
	if ref.Kind != "HelmChart" {
		return nil
	}
	if u, _, _ := unstructured.NestedString(s.Object, "status", "artifact", "url"); u != "" {
		if scheme, ns, name, port, _, err := helmrender.ServiceOf(u); err == nil {
			rules.in(ns).add("", "services/proxy", []string{"get"}, scheme+":"+name+":"+port)
		}
	}
	kind, _, _ := unstructured.NestedString(s.Object, "spec", "sourceRef", "kind")
	name, _, _ := unstructured.NestedString(s.Object, "spec", "sourceRef", "name")
	if kind == "" || name == "" {
		return nil
	}
	return chartSourceRules(ctx, f, fleet.SourceRef{Kind: kind, Namespace: ref.Namespace, Name: name}, rules)
}

// resourceOf is the resource of a valuesFrom or substituteFrom kind.
func resourceOf(kind string) string {
	if kind == "Secret" {
		return "secrets"
	}
	return "configmaps"
}

// objects turns the rules into roles named name bound to the subject.
func objects(rules byNamespace, name string, sub rbacv1.Subject) []client.Object {
	subject := []rbacv1.Subject{sub}
	out := []client.Object{
		&rbacv1.ClusterRole{ObjectMeta: objectMeta(name, ""), Rules: rules.in("").rules()},
		&rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta(name, ""), Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}},
	}
	for _, ns := range rules.namespaces() {
		out = append(out,
			&rbacv1.Role{ObjectMeta: objectMeta(name, ns), Rules: rules[ns].rules()},
			&rbacv1.RoleBinding{ObjectMeta: objectMeta(name, ns), Subjects: subject,
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}})
	}
	for _, o := range out {
		setTypeMeta(o)
	}
	return out
}
