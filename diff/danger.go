package diff

import (
	"regexp"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/fleet"
)

// The danger flags of a plan: changes a reviewer should look at twice.
// diff reports them on every run (Result.Dangers); promote's blast radius
// is made of them.
const (
	// DangerImmutable: the dry run refuses a change to an immutable field
	// (a Deployment's or StatefulSet's selector, a Service's clusterIP, a
	// Job's template, a PersistentVolumeClaim's spec): the apply fails
	// unless force recreates the object.
	DangerImmutable = "immutable-field"
	// DangerRecreate: an immutable field changes and force is on: the
	// object is deleted and created again.
	DangerRecreate = "recreate"
	// DangerPrunePVC and DangerPruneNamespace: prune deletes a
	// PersistentVolumeClaim (its volume may go with it) or a Namespace
	// (and everything in it).
	DangerPrunePVC       = "prune-pvc"
	DangerPruneNamespace = "prune-namespace"
	// DangerCRD: a CustomResourceDefinition changes or is deleted.
	DangerCRD = "crd"
	// DangerTargetSuspended and DangerTargetNotReady: a Kustomization or
	// HelmRelease of the target is suspended (the change waits) or not
	// Ready (it lands on a broken state).
	DangerTargetSuspended = "target-suspended"
	DangerTargetNotReady  = "target-not-ready"
	// DangerFieldManager: the change overwrites fields another field
	// manager owns (live managedFields), e.g. a kubectl edit or an
	// autoscaler.
	DangerFieldManager = "field-manager"
	// DangerSelector: a selector changes (a Service's or workload's
	// spec.selector, a NetworkPolicy's podSelector): traffic, pods or
	// policies move to other objects.
	DangerSelector = "selector"
	// DangerIncomplete: a Kustomization or HelmRelease could not be
	// built, rendered or diffed, so what it would change is unknown.
	DangerIncomplete = "incomplete"
)

// Danger is one danger flag.
type Danger struct {
	Flag string `json:"flag"`
	// Cluster is the target cluster the flag is raised on.
	Cluster string `json:"cluster"`
	// Object is "Kind/namespace/name" (or "Kind/name").
	Object        string `json:"object"`
	Kustomization string `json:"kustomization,omitempty"`
	HelmRelease   string `json:"helmRelease,omitempty"`
	Message       string `json:"message"`
}

// String is "flag: object (via ...): message".
func (d Danger) String() string {
	return d.Flag + ": " + d.Object + d.Via() + ": " + d.Message
}

// Via is " (HelmRelease ns/name)" or " (Kustomization ns/name)": the
// applier whose change raises the flag, the HelmRelease when it is one.
func (d Danger) Via() string {
	switch {
	case d.HelmRelease != "":
		return " (HelmRelease " + d.HelmRelease + ")"
	case d.Kustomization != "":
		return " (Kustomization " + d.Kustomization + ")"
	}
	return ""
}

// immutableRE matches the API server's (and ssa's) words for a change an
// object does not allow.
var immutableRE = regexp.MustCompile(`(?i)is immutable|immutable field|may not change once set|updates to statefulset spec for fields other than`)

// lint raises the danger flags of a result, in its order: the targets
// (Kustomizations, then HelmReleases) first, then the objects, then the
// gaps of an incomplete plan. f is the fleet the result was diffed
// against, for the targets' state. Run sets Result.Dangers with it.
func lint(r *Result, f *fleet.Fleet) []Danger {
	out := []Danger{}
	for _, k := range r.Kustomizations {
		if d, ok := targetDanger(f, fleet.KindKustomization, k.Namespace, k.Name); ok {
			d.Cluster = k.Cluster
			out = append(out, d)
		}
	}
	for _, h := range r.HelmReleases {
		if d, ok := targetDanger(f, fleet.KindHelmRelease, h.Namespace, h.Name); ok {
			d.Cluster, d.Kustomization = h.Cluster, h.Kustomization
			out = append(out, d)
		}
	}
	for _, o := range r.Objects {
		out = append(out, objectDangers(o)...)
	}
	for _, g := range r.Incomplete {
		out = append(out, Danger{Flag: DangerIncomplete, Cluster: g.Cluster, Object: g.Kind + "/" + g.Namespace + "/" + g.Name,
			Message: "could not be rendered or diffed, what it would change is unknown: " + g.Reason})
	}
	return out
}

// objectDangers are the flags one object's change raises.
func objectDangers(o ObjectResult) []Danger {
	var out []Danger
	flag := func(name, msg string) {
		out = append(out, Danger{Flag: name, Cluster: o.Cluster, Object: o.ID(), Kustomization: o.Kustomization, HelmRelease: o.HelmRelease, Message: msg})
	}
	switch {
	case o.Action == ActionError && immutableRE.MatchString(o.Error):
		flag(DangerImmutable, "the dry run refuses to change an immutable field, so applying it fails unless force recreates the object: "+o.Error)
	case o.Recreate:
		flag(DangerRecreate, "an immutable field changes and force is on: it is deleted and created again")
	}
	if o.Action == ActionDeleted {
		switch o.Kind {
		case "PersistentVolumeClaim":
			flag(DangerPrunePVC, "deleted by prune: its volume and data may be deleted with it")
		case "Namespace":
			flag(DangerPruneNamespace, "deleted by prune: everything in it is deleted")
		}
	}
	if o.Kind == "CustomResourceDefinition" {
		switch {
		case o.Action == ActionDeleted:
			flag(DangerCRD, "deleted: every custom resource of it is deleted too")
		case o.Action == ActionDrifted || o.Recreate:
			flag(DangerCRD, "changed: every custom resource of it is affected")
		}
	}
	if len(o.selectors) > 0 {
		flag(DangerSelector, "changes "+strings.Join(o.selectors, ", ")+": it selects other pods or objects from now on")
	}
	if len(o.OtherManagers) > 0 {
		var parts []string
		for _, m := range o.OtherManagers {
			parts = append(parts, m.Manager+" ("+strings.Join(m.Fields, ", ")+")")
		}
		flag(DangerFieldManager, "overwrites fields another field manager owns: "+strings.Join(parts, "; "))
	}
	return out
}

// targetDanger flags a target Kustomization or HelmRelease that is
// suspended or not Ready in the fleet (one that does not exist yet is
// not).
func targetDanger(f *fleet.Fleet, kind, ns, name string) (Danger, bool) {
	obj := findTarget(f, kind, ns, name)
	if obj == nil {
		return Danger{}, false
	}
	d := Danger{Object: kind + "/" + ns + "/" + name}
	suspended := false
	if obj.Kustomization != nil {
		suspended = obj.Kustomization.Spec.Suspend
	} else {
		suspended = obj.HelmRelease.Spec.Suspend
	}
	if suspended {
		d.Flag, d.Message = DangerTargetSuspended, "suspended: the change is not applied until it is resumed"
		return d, true
	}
	c := apimeta.FindStatusCondition(obj.Conditions(), meta.ReadyCondition)
	if c == nil || c.Status != metav1.ConditionTrue {
		d.Flag, d.Message = DangerTargetNotReady, "not Ready"
		if c != nil {
			d.Message += ": " + c.Reason + ": " + c.Message
		}
		return d, true
	}
	return Danger{}, false
}

// findTarget is the fleet's Kustomization or HelmRelease ns/name.
func findTarget(f *fleet.Fleet, kind, ns, name string) *fleet.Object {
	for _, c := range f.Clusters {
		for i, o := range c.Objects {
			if o.Kind == kind && o.Meta().GetNamespace() == ns && o.Meta().GetName() == name {
				return &c.Objects[i]
			}
		}
	}
	return nil
}
