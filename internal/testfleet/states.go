package testfleet

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// object returns the Kustomization or HelmRelease name in the sample's
// namespace, with a pointer to its conditions.
func (s *Sample) object(ctx context.Context, kind, name string) (client.Object, *[]metav1.Condition, error) {
	key := client.ObjectKey{Namespace: s.Namespace, Name: name}
	switch kind {
	case "Kustomization":
		ks := &kustomizev1.Kustomization{}
		if err := s.Fleet.Hub.Client.Get(ctx, key, ks); err != nil {
			return nil, nil, err
		}
		return ks, &ks.Status.Conditions, nil
	case "HelmRelease":
		hr := &helmv2.HelmRelease{}
		if err := s.Fleet.Hub.Client.Get(ctx, key, hr); err != nil {
			return nil, nil, err
		}
		return hr, &hr.Status.Conditions, nil
	}
	return nil, nil, fmt.Errorf("unknown Flux kind %q", kind)
}

// Fail marks a Kustomization or HelmRelease not Ready with reason and
// message, as its controller would after a failed reconciliation.
func (s *Sample) Fail(ctx context.Context, kind, name, reason, message string) error {
	obj, conds, err := s.object(ctx, kind, name)
	if err != nil {
		return err
	}
	apimeta.SetStatusCondition(conds, metav1.Condition{
		Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: reason, Message: message,
		ObservedGeneration: obj.GetGeneration(),
	})
	return s.Fleet.Hub.Client.Status().Update(ctx, obj)
}

// BlockOnDependency marks a Kustomization as waiting for dependency (a
// name in the same namespace), the way kustomize-controller reports it.
func (s *Sample) BlockOnDependency(ctx context.Context, name, dependency string) error {
	return s.Fail(ctx, "Kustomization", name, meta.DependencyNotReadyReason,
		fmt.Sprintf("dependency '%s/%s' is not ready", s.Namespace, dependency))
}

// Progress marks an object as reconciling (Ready=Unknown).
func (s *Sample) Progress(ctx context.Context, kind, name string) error {
	obj, conds, err := s.object(ctx, kind, name)
	if err != nil {
		return err
	}
	apimeta.SetStatusCondition(conds, metav1.Condition{
		Type: meta.ReadyCondition, Status: metav1.ConditionUnknown, Reason: meta.ProgressingReason,
		Message: "Reconciliation in progress", ObservedGeneration: obj.GetGeneration(),
	})
	return s.Fleet.Hub.Client.Status().Update(ctx, obj)
}

// Suspend sets spec.suspend on a Kustomization or HelmRelease.
func (s *Sample) Suspend(ctx context.Context, kind, name string) error {
	obj, _, err := s.object(ctx, kind, name)
	if err != nil {
		return err
	}
	switch o := obj.(type) {
	case *kustomizev1.Kustomization:
		o.Spec.Suspend = true
	case *helmv2.HelmRelease:
		o.Spec.Suspend = true
	}
	return s.Fleet.Hub.Client.Update(ctx, obj)
}

// AdvanceSource moves the GitRepository to revision and records it as
// applied by every Kustomization except those named in lagging, which keep
// their old lastAppliedRevision (stale).
func (s *Sample) AdvanceSource(ctx context.Context, revision string, lagging ...string) error {
	if err := s.SetSourceRevision(ctx, revision); err != nil {
		return err
	}
	skip := map[string]bool{}
	for _, n := range lagging {
		skip[n] = true
	}
	var list kustomizev1.KustomizationList
	if err := s.Fleet.Hub.Client.List(ctx, &list, client.InNamespace(s.Namespace)); err != nil {
		return err
	}
	for i := range list.Items {
		ks := &list.Items[i]
		if skip[ks.Name] {
			continue
		}
		ks.Status.LastAppliedRevision = revision
		ks.Status.LastAttemptedRevision = revision
		apimeta.SetStatusCondition(&ks.Status.Conditions, metav1.Condition{
			Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.ReconciliationSucceededReason,
			Message: "Applied revision: " + revision, ObservedGeneration: ks.Generation,
		})
		if err := s.Fleet.Hub.Client.Status().Update(ctx, ks); err != nil {
			return err
		}
	}
	return nil
}

// KubeconfigFault is a way to break a spoke's kubeconfig Secret.
type KubeconfigFault string

// The faults BreakKubeconfig can inject.
const (
	// FaultUnreachable points the kubeconfig at a port nothing listens on.
	FaultUnreachable KubeconfigFault = "unreachable"
	// FaultGarbage replaces the kubeconfig with bytes that are not one.
	FaultGarbage KubeconfigFault = "garbage"
	// FaultMissing deletes the Secret.
	FaultMissing KubeconfigFault = "missing"
	// FaultExec makes the kubeconfig run an exec credential plugin.
	FaultExec KubeconfigFault = "exec"
	// FaultWrongKey moves the kubeconfig to a key Flux does not read.
	FaultWrongKey KubeconfigFault = "wrong-key"
)

// BreakKubeconfig breaks the kubeconfig Secret of a spoke in the sample's
// namespace.
func (s *Sample) BreakKubeconfig(ctx context.Context, spoke string, fault KubeconfigFault) error {
	sec := &corev1.Secret{}
	if err := s.Fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: spoke + "-kubeconfig"}, sec); err != nil {
		return err
	}
	good := s.Fleet.Spokes[spoke].Kubeconfig
	switch fault {
	case FaultMissing:
		return s.Fleet.Hub.Client.Delete(ctx, sec)
	case FaultUnreachable:
		sec.Data = map[string][]byte{"value": []byte(UnreachableKubeconfig)}
	case FaultGarbage:
		sec.Data = map[string][]byte{"value": []byte("garbage-kubeconfig-bytes: [unterminated")}
	case FaultExec:
		sec.Data = map[string][]byte{"value": []byte(ExecKubeconfig)}
	case FaultWrongKey:
		sec.Data = map[string][]byte{"kubeconfig": good}
	default:
		return fmt.Errorf("unknown fault %q", fault)
	}
	return s.Fleet.Hub.Client.Update(ctx, sec)
}

// UnreachableKubeconfig points at 127.0.0.1:1, where nothing listens.
const UnreachableKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: gone
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
contexts:
- name: gone
  context: {cluster: gone, user: gone}
current-context: gone
users:
- name: gone
  user: {token: unreachable-token-must-never-be-printed}
`

// ExecKubeconfig runs an exec credential plugin, which the plugin refuses.
const ExecKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: exec
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
contexts:
- name: exec
  context: {cluster: exec, user: exec}
current-context: exec
users:
- name: exec
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/false}
`

// EnvironmentKustomizations are the hub Kustomizations of the sample's two
// promotion environments (testdata/gitops/c5c3.yaml), by path.
var EnvironmentKustomizations = map[string]string{"staging-apps": "./clusters/staging", "production-apps": "./clusters/production"}

// AddEnvironments creates the staging and production hub Kustomizations,
// Ready at the sample's revision (their objects are not applied, so their
// inventories are empty; ReconcileEnvironment applies one for real), and
// makes the checkout look cloned (LookCloned).
func (s *Sample) AddEnvironments(ctx context.Context) error {
	if err := s.LookCloned(); err != nil {
		return err
	}
	for name, path := range EnvironmentKustomizations {
		ks := &kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.Namespace},
			Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: 10 * time.Minute}, Path: path, Prune: true,
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}},
		}
		if err := s.Fleet.Hub.Client.Create(ctx, ks); err != nil {
			return err
		}
		ks.Status.ObservedGeneration = ks.Generation
		ks.Status.LastAppliedRevision, ks.Status.LastAttemptedRevision = s.Revision, s.Revision
		ks.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}} // nothing applied
		apimeta.SetStatusCondition(&ks.Status.Conditions, metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue,
			Reason: meta.ReconciliationSucceededReason, Message: "Applied revision: " + s.Revision, ObservedGeneration: ks.Generation})
		if err := s.Fleet.Hub.Client.Status().Update(ctx, ks); err != nil {
			return err
		}
	}
	return nil
}

// LookCloned makes the sample checkout look cloned, as promote wants it:
// main tracks origin/main and a committer is configured.
func (s *Sample) LookCloned() error {
	for _, args := range [][]string{
		{"config", "user.name", "c5c3 demo"}, {"config", "user.email", "demo@c5c3.example"},
		{"update-ref", "refs/remotes/origin/main", "HEAD"},
		{"config", "branch.main.remote", "origin"}, {"config", "branch.main.merge", "refs/heads/main"},
	} {
		if out, err := exec.Command("git", append([]string{"-C", s.RepoDir}, args...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v: %s", args, err, out)
		}
	}
	return nil
}

// SetKubeconfig replaces the kubeconfig in a spoke's kubeconfig Secret in
// the sample's namespace (a rotated or short-lived credential).
func (s *Sample) SetKubeconfig(ctx context.Context, spoke string, kubeconfig []byte) error {
	sec := &corev1.Secret{}
	if err := s.Fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: spoke + "-kubeconfig"}, sec); err != nil {
		return err
	}
	sec.Data = map[string][]byte{"value": kubeconfig}
	return s.Fleet.Hub.Client.Update(ctx, sec)
}
