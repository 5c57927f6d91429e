package promote

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
)

// The danger flags of the blast radius.
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
)

// BlastRadius is what the promotion does to each target cluster, from the
// --diff dry run.
type BlastRadius struct {
	Environment string         `json:"environment"`
	Clusters    []ClusterBlast `json:"clusters"`
	// Dangers counts the danger flags over all clusters.
	Dangers int `json:"dangers"`
	// Complete is false when a Kustomization or HelmRelease of the
	// preview could not be rendered or diffed (Incomplete says which and
	// why): the counts and flags cover only the rest.
	Complete   bool       `json:"complete"`
	Incomplete []diff.Gap `json:"incomplete"`
}

// ClusterBlast is one target cluster's share.
type ClusterBlast struct {
	Cluster string `json:"cluster"`
	// Created, Changed and Deleted count objects (rendered HelmRelease
	// objects included); a recreated object counts as changed.
	Created int      `json:"created"`
	Changed int      `json:"changed"`
	Deleted int      `json:"deleted"`
	Dangers []Danger `json:"dangers"`
}

// Danger is one danger flag.
type Danger struct {
	Flag string `json:"flag"`
	// Object is "Kind/namespace/name" (or "Kind/name").
	Object        string `json:"object"`
	Kustomization string `json:"kustomization,omitempty"`
	HelmRelease   string `json:"helmRelease,omitempty"`
	Message       string `json:"message"`
}

// DangerError is returned when --fail-on-danger refuses a promotion.
type DangerError struct {
	Blast *BlastRadius
}

func (e *DangerError) Error() string {
	var lines []string
	for _, c := range e.Blast.Clusters {
		for _, d := range c.Dangers {
			lines = append(lines, c.Cluster+": "+d.String())
		}
	}
	for _, g := range e.Blast.Incomplete {
		lines = append(lines, "incomplete: "+g.String())
	}
	what := fmt.Sprintf("raised %d danger %s", e.Blast.Dangers, plural(e.Blast.Dangers, "flag", "flags"))
	if n := len(e.Blast.Incomplete); n > 0 {
		gaps := fmt.Sprintf("is incomplete (%d %s could not be rendered or diffed)", n, plural(n, "Kustomization or HelmRelease", "Kustomizations or HelmReleases"))
		if e.Blast.Dangers == 0 {
			what = gaps
		} else {
			what = gaps + " and " + what
		}
	}
	return fmt.Sprintf("the preview of %s %s, refusing to promote (--fail-on-danger):\n  %s",
		e.Blast.Environment, what, strings.Join(lines, "\n  "))
}

// Refused reports whether --fail-on-danger refuses the promotion: a
// danger flag, or a preview that could not be completed.
func (b *BlastRadius) Refused() bool { return b.Dangers > 0 || len(b.Incomplete) > 0 }

// String is "flag: object (via ...): message".
func (d Danger) String() string {
	return d.Flag + ": " + d.Object + d.via() + ": " + d.Message
}

// via is " (HelmRelease ns/name)" or " (Kustomization ns/name)": the
// applier whose change raises the flag, the HelmRelease when it is one.
func (d Danger) via() string {
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

// blastRadius summarises a preview per cluster and raises the danger
// flags; f is the target environment's fleet, for its objects' state.
func blastRadius(env string, res *diff.Result, f *fleet.Fleet) *BlastRadius {
	b := &BlastRadius{Environment: env, Clusters: []ClusterBlast{}, Complete: len(res.Incomplete) == 0, Incomplete: append([]diff.Gap{}, res.Incomplete...)}
	index := map[string]int{}
	cluster := func(name string) *ClusterBlast {
		i, ok := index[name]
		if !ok {
			i = len(b.Clusters)
			index[name] = i
			b.Clusters = append(b.Clusters, ClusterBlast{Cluster: name, Dangers: []Danger{}})
		}
		return &b.Clusters[i]
	}
	for _, k := range res.Kustomizations {
		c := cluster(k.Cluster)
		if d, ok := targetDanger(f, fleet.KindKustomization, k.Namespace, k.Name); ok {
			c.Dangers = append(c.Dangers, d)
		}
	}
	for _, h := range res.HelmReleases {
		c := cluster(h.Cluster)
		if d, ok := targetDanger(f, fleet.KindHelmRelease, h.Namespace, h.Name); ok {
			d.Kustomization = h.Kustomization
			c.Dangers = append(c.Dangers, d)
		}
	}
	for _, o := range res.Objects {
		c := cluster(o.Cluster)
		switch {
		case o.Recreate:
			c.Changed++
		case o.Action == diff.ActionCreated:
			c.Created++
		case o.Action == diff.ActionDrifted:
			c.Changed++
		case o.Action == diff.ActionDeleted:
			c.Deleted++
		}
		flag := func(name, msg string) {
			c.Dangers = append(c.Dangers, Danger{Flag: name, Object: o.ID(), Kustomization: o.Kustomization, HelmRelease: o.HelmRelease, Message: msg})
		}
		switch {
		case o.Action == diff.ActionError && immutableRE.MatchString(o.Error):
			flag(DangerImmutable, "the dry run refuses to change an immutable field, so applying it fails unless force recreates the object: "+o.Error)
		case o.Recreate:
			flag(DangerRecreate, "an immutable field changes and force is on: it is deleted and created again")
		}
		if o.Action == diff.ActionDeleted {
			switch o.Kind {
			case "PersistentVolumeClaim":
				flag(DangerPrunePVC, "deleted by prune: its volume and data may be deleted with it")
			case "Namespace":
				flag(DangerPruneNamespace, "deleted by prune: everything in it is deleted")
			}
		}
		if o.Kind == "CustomResourceDefinition" {
			switch {
			case o.Action == diff.ActionDeleted:
				flag(DangerCRD, "deleted: every custom resource of it is deleted too")
			case o.Action == diff.ActionDrifted || o.Recreate:
				flag(DangerCRD, "changed: every custom resource of it is affected")
			}
		}
		if len(o.OtherManagers) > 0 {
			var parts []string
			for _, m := range o.OtherManagers {
				parts = append(parts, m.Manager+" ("+strings.Join(m.Fields, ", ")+")")
			}
			flag(DangerFieldManager, "overwrites fields another field manager owns: "+strings.Join(parts, "; "))
		}
	}
	for _, c := range b.Clusters {
		b.Dangers += len(c.Dangers)
	}
	return b
}

// targetDanger flags a target Kustomization or HelmRelease that is
// suspended or not Ready on the hub (one that does not exist yet is not).
func targetDanger(f *fleet.Fleet, kind, ns, name string) (Danger, bool) {
	obj := findObject(f, ObjectHealth{Kind: kind, Namespace: ns, Name: name})
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
