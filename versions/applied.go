package versions

import (
	"context"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/pipeline"
)

// objectGroups are the API groups of the pin kinds whose objects report
// what they applied in their status.
var objectGroups = map[string]string{
	pipeline.KindHelmRelease:   "helm.toolkit.fluxcd.io",
	pipeline.KindOCIRepository: "source.toolkit.fluxcd.io",
	pipeline.KindGitRepository: "source.toolkit.fluxcd.io",
	pipeline.KindHelmChart:     "source.toolkit.fluxcd.io",
	pipeline.KindFluxInstance:  "fluxcd.controlplane.io",
}

// workloadKinds are the kinds whose containers say which images run.
var workloadKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true}

// cell builds one component's cell in one environment.
func (b *builder) cell(ctx context.Context, ed *envData, key string) Cell {
	c := Cell{Environment: ed.cfg.Name, Pins: []Location{}, Targets: []Target{}, Skew: []string{}}
	pins := ed.pins[key]
	if len(pins) == 0 {
		return c
	}
	var values []string
	for _, p := range pins {
		c.Pins = append(c.Pins, Location{File: p.File, Line: p.Line, Value: p.Value})
		values = append(values, p.Value)
	}
	c.Git = strings.Join(uniq(values), ", ")
	if ed.out.Error != "" {
		return c // the environment's error says why nothing is known
	}
	if _, ok := objectGroups[pins[0].Kind]; ok {
		b.objectTargets(ctx, ed, key, pins, &c)
	} else {
		b.fileTargets(ctx, ed, key, pins, &c)
	}
	if len(c.Targets) == 0 {
		files := make([]string, 0, len(pins))
		for _, p := range pins {
			files = append(files, p.File)
		}
		c.Targets = append(c.Targets, Target{Reachable: true, Skew: []string{SkewGitApplied},
			Error: fmt.Sprintf("no Kustomization of %s applies it (%s)", ed.cfg.Name, strings.Join(uniq(files), ", "))})
	}
	for _, t := range c.Targets {
		for _, k := range t.Skew {
			c.Skew = addSkew(c.Skew, k)
		}
	}
	return c
}

// objectTargets reads the status of the objects named like the pin that
// the environment's appliers list in their inventories.
func (b *builder) objectTargets(ctx context.Context, ed *envData, key string, pins []pipeline.Pin, c *Cell) {
	kind := pins[0].Kind
	name := strings.Split(key, "/")[1]
	field := strings.TrimPrefix(pins[0].Field, "spec.ref.")
	values := uniq(pinValues(pins))
	for _, a := range ed.appliers {
		for _, e := range a.inv {
			if e.GroupKind.Group != objectGroups[kind] || e.GroupKind.Kind != kind || e.Name != name {
				continue
			}
			t := Target{Cluster: a.cluster.Name, Applier: a.id(), Object: kind + "/" + e.Namespace + "/" + e.Name, Reachable: true, Skew: []string{}}
			u, err := b.get(ctx, ed, a, schema.GroupVersionKind{Group: objectGroups[kind], Version: e.Version, Kind: kind}, e.Namespace, e.Name, &t)
			if err == nil {
				t.Applied = appliedValue(kind, field, u)
				if a := attemptedValue(kind, u); a != "" && a != t.Applied {
					t.Attempted = a
				}
				if t.Applied == "" {
					t.Error = t.Object + " reports nothing applied yet"
				}
				if kind == pipeline.KindHelmRelease && a.cluster.Hub {
					t.Cluster = b.helmTarget(ed, u)
				}
				if !anyMatch(values, t.Applied) {
					t.Skew = addSkew(t.Skew, SkewGitApplied)
				}
			}
			c.Targets = append(c.Targets, t)
		}
	}
}

// get reads one object from the applier's cluster; an unreachable cluster
// or a missing object is noted in t.
func (b *builder) get(ctx context.Context, ed *envData, a *applier, gvk schema.GroupVersionKind, ns, name string, t *Target) (*unstructured.Unstructured, error) {
	if r := ed.probes[a.cluster.Name]; r.Err != nil {
		t.Reachable, t.Error = false, r.Err.Error()
		return nil, r.Err
	}
	cl, err := ed.fleet.Client(ctx, a.cluster, "")
	if err != nil {
		t.Reachable, t.Error = false, err.Error()
		return nil, err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := cl.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		ref := gvk.Kind + "/" + ns + "/" + name
		if apierrors.IsNotFound(err) {
			t.Error = fmt.Sprintf("%s is in the inventory of %s but not on cluster %s", ref, a.id(), a.cluster.Name)
			t.Skew = addSkew(t.Skew, SkewGitApplied)
		} else {
			t.Error = fmt.Sprintf("reading %s on cluster %s: %v", ref, a.cluster.Name, err)
		}
		return nil, err
	}
	return u, nil
}

// appliedValue is what an object's status says it applied, in the terms
// of the pin's field.
func appliedValue(kind, field string, u *unstructured.Unstructured) string {
	switch kind {
	case pipeline.KindHelmRelease:
		history, _, _ := unstructured.NestedSlice(u.Object, "status", "history")
		if len(history) > 0 {
			if h, ok := history[0].(map[string]any); ok {
				v, _ := h["chartVersion"].(string)
				return v
			}
		}
		return ""
	case pipeline.KindFluxInstance:
		rev, _, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
		name, _ := revisionParts(rev)
		return name
	case pipeline.KindHelmChart:
		rev, _, _ := unstructured.NestedString(u.Object, "status", "artifact", "revision")
		name, _ := revisionParts(rev)
		return name
	}
	rev, _, _ := unstructured.NestedString(u.Object, "status", "artifact", "revision")
	return refField(field, rev)
}

// attemptedValue is status.lastAttemptedRevision of a HelmRelease (a chart
// version) or FluxInstance (a version@digest), as a version.
func attemptedValue(kind string, u *unstructured.Unstructured) string {
	if kind != pipeline.KindHelmRelease && kind != pipeline.KindFluxInstance {
		return ""
	}
	rev, _, _ := unstructured.NestedString(u.Object, "status", "lastAttemptedRevision")
	name, _ := revisionParts(rev)
	return name
}

// helmTarget is the cluster a HelmRelease on the hub installs to.
func (b *builder) helmTarget(ed *envData, u *unstructured.Unstructured) string {
	m, found, _ := unstructured.NestedMap(u.Object, "spec", "kubeConfig")
	if !found {
		return ed.fleet.Clusters[0].Name
	}
	var kc meta.KubeConfigReference
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &kc); err != nil {
		return ed.fleet.Clusters[0].Name
	}
	return ed.fleet.TargetOf(u.GetNamespace(), &kc).Name
}

// fileTargets compares image and setter pins with the same pins at the
// commit each applier whose path holds their files applied, and reads the
// running images of its workloads.
func (b *builder) fileTargets(ctx context.Context, ed *envData, key string, pins []pipeline.Pin, c *Cell) {
	for _, a := range ed.appliers {
		var mine []pipeline.Pin
		for _, p := range pins {
			if under(p.File, a.path) {
				mine = append(mine, p)
			}
		}
		if len(mine) == 0 {
			continue
		}
		t := Target{Cluster: a.cluster.Name, Applier: a.id(), Reachable: true, Skew: []string{}}
		if a.err != "" {
			t.Error = a.err
			t.Skew = addSkew(t.Skew, SkewGitApplied)
			c.Targets = append(c.Targets, t)
			continue
		}
		applied := uniq(pinValues(underPins(a.pins[key], a.path)))
		t.Applied = strings.Join(applied, ", ")
		want := uniq(pinValues(mine))
		if len(applied) == 0 {
			t.Error = fmt.Sprintf("not pinned at %s, the commit %s applied", short(a.summary().Commit), a.id())
		}
		if len(applied) == 0 || !allMatch(want, applied) {
			t.Skew = addSkew(t.Skew, SkewGitApplied)
		}
		if pins[0].Kind == pipeline.KindImage {
			b.running(ctx, ed, a, key, applied, &t)
		}
		c.Targets = append(c.Targets, t)
	}
}

// running reads the images of the Deployments, StatefulSets and DaemonSets
// in the applier's inventory on its cluster and keeps the values of the
// pinned image (its newName at the applied commit, if it has one).
func (b *builder) running(ctx context.Context, ed *envData, a *applier, key string, applied []string, t *Target) {
	rest := strings.TrimPrefix(key, "image/")
	i := strings.LastIndex(rest, "/")
	image, field := rest[:i], rest[i+1:]
	name := image
	if n := uniq(pinValues(underPins(a.pins["image/"+image+"/newName"], a.path))); len(n) == 1 {
		name = n[0]
	}
	ed.prefetchOnce.Do(func() { ed.workloads.prefetch(ctx, ed) })
	var values, workloads []string
	for _, e := range a.inv {
		if e.GroupKind.Group != "apps" || !workloadKinds[e.GroupKind.Kind] {
			continue
		}
		u, err := b.workload(ctx, ed, a, schema.GroupVersionKind{Group: "apps", Version: e.Version, Kind: e.GroupKind.Kind}, e.Namespace, e.Name, t)
		if err != nil {
			if !t.Reachable {
				return
			}
			continue
		}
		found := false
		for _, list := range []string{"initContainers", "containers"} {
			cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", list)
			for _, cv := range cs {
				cm, _ := cv.(map[string]any)
				img, _ := cm["image"].(string)
				r := parseImage(img)
				if !sameRepository(r.Repository, name) {
					continue
				}
				found = true
				switch field {
				case "newTag":
					values = append(values, r.Tag)
				case "digest":
					values = append(values, r.Digest)
				case "newName":
					values = append(values, r.Repository)
				}
			}
		}
		if found {
			workloads = append(workloads, e.GroupKind.Kind+"/"+e.Namespace+"/"+e.Name)
		}
	}
	t.Running, t.Workloads = uniq(values), uniq(workloads)
	if len(applied) > 0 && len(t.Running) > 0 && !allMatch(applied, t.Running) {
		t.Skew = addSkew(t.Skew, SkewAppliedRunning)
	}
}

// pipeline flags a value of cell that the environment before it (prev)
// neither pins, nor has applied, nor ever pinned in its files' history.
func (b *builder) pipeline(ctx context.Context, cell, prev *Cell, prevName string) {
	if cell == nil || prev == nil || cell.Git == "" || prev.Git == "" {
		return
	}
	var prevValues, prevApplied, prevFiles []string
	for _, p := range prev.Pins {
		prevValues = append(prevValues, p.Value)
		prevFiles = append(prevFiles, p.File)
	}
	for _, t := range prev.Targets {
		prevApplied = append(prevApplied, strings.Split(t.Applied, ", ")...)
	}
	for _, p := range cell.Pins {
		v := p.Value
		if anyEqual(prevValues, v) || anyMatch([]string{v}, prevApplied...) {
			continue
		}
		if ever, err := b.git.EverContained(ctx, b.commit, v, uniq(prevFiles)); err == nil && ever {
			continue
		}
		cell.Skew = addSkew(cell.Skew, SkewPipeline)
		cell.Previous = prev.Git
		return
	}
}

func pinValues(pins []pipeline.Pin) []string {
	out := make([]string, 0, len(pins))
	for _, p := range pins {
		out = append(out, p.Value)
	}
	return out
}

func underPins(pins []pipeline.Pin, dir string) []pipeline.Pin {
	var out []pipeline.Pin
	for _, p := range pins {
		if under(p.File, dir) {
			out = append(out, p)
		}
	}
	return out
}

// anyMatch reports whether one of the applied values satisfies one of the
// pins.
func anyMatch(pins []string, applied ...string) bool {
	for _, p := range pins {
		for _, a := range applied {
			if Matches(p, a) {
				return true
			}
		}
	}
	return false
}

// allMatch reports whether every applied value satisfies one of the pins.
func allMatch(pins, applied []string) bool {
	for _, a := range applied {
		if !anyMatch(pins, a) {
			return false
		}
	}
	return true
}

// anyEqual reports whether values holds v, or the same version (a leading
// "v" aside).
func anyEqual(values []string, v string) bool {
	for _, x := range values {
		if x == v || (!isRange(x) && !isRange(v) && Matches(x, v)) {
			return true
		}
	}
	return false
}
