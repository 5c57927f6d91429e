package status

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/health"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// Options select what Build reports.
type Options struct {
	// FluxNamespace holds the FluxReport named "flux".
	FluxNamespace string
	// Cluster keeps only the named cluster ("" = all).
	Cluster string
	// FailingOnly keeps only what needs attention, with its ancestors.
	FailingOnly bool
	// CheckAccess also asks every target cluster, impersonating each
	// Kustomization's and HelmRelease's spec.serviceAccountName, whether
	// that service account may patch the kinds of its inventory. The other
	// access checks (certificate and token expiry, version skew, Flux API
	// versions) always run: they send no extra request.
	CheckAccess bool
	// Now is the reference time for expiry checks (default time.Now).
	Now time.Time
}

// Build gathers the fleet's status: the hub's FluxReport, a probe of every
// target cluster (concurrently), every Flux object's health and, for
// HelmReleases, their release in Helm's storage on the target against
// status.history.
func Build(ctx context.Context, f *fleet.Fleet, opts Options) (*Report, error) {
	if opts.Cluster != "" && f.Cluster(opts.Cluster) == nil {
		var names []string
		for _, c := range f.Clusters {
			names = append(names, c.Name)
		}
		return nil, fmt.Errorf("no cluster %q in the fleet (clusters: %s)", opts.Cluster, strings.Join(names, ", "))
	}
	r := &Report{APIVersion: APIVersion, Kind: Kind, Clusters: []Cluster{}}
	hubCluster := f.Clusters[0]
	r.Hub.Name = hubCluster.Name
	var err error
	r.Hub.Flux, r.Hub.Notice, err = ReadFluxReport(ctx, f.Hub().Client, opts.FluxNamespace)
	if err != nil {
		return nil, err
	}
	if r.Hub.ResourceSets, err = ReadResourceSets(ctx, f.Hub().Client, f.Namespace()); err != nil {
		return nil, err
	}

	var clusters []*fleet.Cluster
	for _, c := range f.Clusters {
		if opts.Cluster == "" || c.Name == opts.Cluster || c.Hub {
			clusters = append(clusters, c)
		}
	}
	probes := f.Probe(ctx, clusters)
	if p := probes[hubCluster.Name]; p.Err == nil {
		r.Hub.ServerVersion = p.ServerVersion
	}

	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	r.Hub.Access = []AccessCheck{fluxAPICheck(f.Hub().Mapper)}
	access := fleetAccess(ctx, f, clusters, probes, r.Hub.ServerVersion, opts.CheckAccess, now)

	var shown []*fleet.Cluster
	for _, c := range clusters {
		if opts.Cluster == "" || c.Name == opts.Cluster {
			shown = append(shown, c)
		}
	}
	releases := fleetReleases(ctx, f, shown, probes)

	ready := health.Readiness(f)
	for _, c := range shown {
		p := probes[c.Name]
		rc := Cluster{Name: c.Name, Hub: c.Hub, Reachable: p.Err == nil, ServerVersion: p.ServerVersion, Objects: []Object{}}
		if c.KubeConfig != nil {
			rc.KubeConfig = c.KubeConfig.String()
		}
		if p.Err != nil {
			rc.Error = p.Err.Error()
		} else if p.Nodes >= 0 {
			n := p.Nodes
			rc.Nodes = &n
		}
		rc.Access = access[c.Name]
		for _, o := range c.Objects {
			obj := ObjectStatus(f, o, ready)
			obj.Release = releases[c.Name][obj.ID()]
			rc.Objects = append(rc.Objects, obj)
		}
		r.Clusters = append(r.Clusters, rc)
	}
	r.Summary = summarize(r)
	if opts.FailingOnly {
		filterFailing(r)
	}
	return r, nil
}

// ReadFluxReport reads the FluxReport "flux" in namespace ns of the hub.
// A missing report or a hub without the Flux Operator CRDs is a notice
// (returned with a nil report), not an error.
func ReadFluxReport(ctx context.Context, hub client.Reader, ns string) (*Flux, string, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(fleet.FluxReportGVK)
	err := hub.Get(ctx, client.ObjectKey{Namespace: ns, Name: "flux"}, u)
	switch {
	case err == nil:
	case apierrors.IsNotFound(err):
		return nil, fmt.Sprintf("no FluxReport %s/flux: Flux is not managed by the Flux Operator (or --flux-namespace is wrong)", ns), nil
	case kube.IsNoMatch(err):
		return nil, "no FluxReport: the Flux Operator is not installed on the hub", nil
	default:
		return nil, "", fmt.Errorf("reading FluxReport %s/flux: %w", ns, err)
	}
	str := func(fields ...string) string {
		s, _, _ := unstructured.NestedString(u.Object, fields...)
		return s
	}
	f := &Flux{
		Version:     str("spec", "distribution", "version"),
		Status:      str("spec", "distribution", "status"),
		Entitlement: str("spec", "distribution", "entitlement"),
		ManagedBy:   str("spec", "distribution", "managedBy"),
		Components:  []Component{},
		Reconcilers: []Reconciler{},
	}
	if conds, ok, _ := unstructured.NestedSlice(u.Object, "status", "conditions"); ok {
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == meta.ReadyCondition {
				f.Ready = m["status"] == string(metav1.ConditionTrue)
				f.Message, _ = m["message"].(string)
			}
		}
	}
	if op, ok, _ := unstructured.NestedMap(u.Object, "spec", "operator"); ok {
		f.Operator = &Operator{Version: s(op["version"]), APIVersion: s(op["apiVersion"]), Platform: s(op["platform"])}
	}
	if sy, ok, _ := unstructured.NestedMap(u.Object, "spec", "sync"); ok {
		ready, _ := sy["ready"].(bool)
		f.Sync = &Sync{ID: s(sy["id"]), Source: s(sy["source"]), Path: s(sy["path"]), Ready: ready, Status: s(sy["status"])}
	}
	comps, _, _ := unstructured.NestedSlice(u.Object, "spec", "components")
	for _, c := range comps {
		m, _ := c.(map[string]any)
		ready, _ := m["ready"].(bool)
		f.Components = append(f.Components, Component{Name: s(m["name"]), Ready: ready, Status: s(m["status"]), Image: s(m["image"])})
	}
	recs, _, _ := unstructured.NestedSlice(u.Object, "spec", "reconcilers")
	for _, c := range recs {
		m, _ := c.(map[string]any)
		st, _ := m["stats"].(map[string]any)
		f.Reconcilers = append(f.Reconcilers, Reconciler{
			APIVersion: s(m["apiVersion"]), Kind: s(m["kind"]),
			Running: n(st["running"]), Failing: n(st["failing"]), Suspended: n(st["suspended"]), TotalSize: s(st["totalSize"]),
		})
	}
	return f, "", nil
}

func s(v any) string {
	str, _ := v.(string)
	return str
}

func n(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case int:
		return int64(x)
	}
	return 0
}

// ObjectStatus is the status of one Flux object as Build reports it:
// state, Ready condition, applied and source revisions, stale, the
// dependencies it waits for (ready is health.Readiness(f)), inventory size.
func ObjectStatus(f *fleet.Fleet, o fleet.Object, ready map[string]bool) Object {
	m := o.Meta()
	h := health.Evaluate(o, f.SourceRevision(o), ready)
	out := Object{Kind: o.Kind, Namespace: m.GetNamespace(), Name: m.GetName(), Created: m.GetCreationTimestamp().UTC(),
		Ready: string(h.Ready), Reason: h.Reason, Message: h.Message, Suspended: h.Suspended,
		Revision: h.Revision, SourceRevision: h.SourceRevision, Stale: h.Stale, DependsOn: h.DependsOn, WaitingFor: h.WaitingFor}
	if ref := fleet.SourceOf(o); !ref.IsZero() {
		out.Source = ref.String()
	}
	if ks := o.Kustomization; ks != nil {
		out.Path = ks.Spec.Path
		if ks.Status.Inventory != nil {
			n := len(ks.Status.Inventory.Entries)
			out.Inventory = &n
		}
	} else if hr := o.HelmRelease; hr != nil {
		// helm-controller v1.5+ (Flux 2.8) records what the release
		// applied in status.inventory.
		if hr.Status.Inventory != nil {
			n := len(hr.Status.Inventory.Entries)
			out.Inventory = &n
		}
		if l := hr.Status.History.Latest(); l != nil {
			out.Chart = l.ChartName + "@" + l.ChartVersion
		} else if hr.Spec.Chart != nil {
			out.Chart = hr.Spec.Chart.Spec.Chart + "@" + hr.Spec.Chart.Spec.Version
		}
	}
	switch {
	case h.Suspended:
		out.State = StateSuspended
	case h.Ready == metav1.ConditionTrue:
		out.State = StateReady
	case h.Ready == metav1.ConditionFalse:
		out.State = StateFailed
	case h.Reported:
		out.State = StateProgressing
	default:
		out.State = StateUnknown
	}
	return out
}

func summarize(r *Report) Summary {
	sum := Summary{Clusters: len(r.Clusters), Healthy: true}
	countAccess := func(checks []AccessCheck) {
		for _, a := range checks {
			switch {
			case a.Failing():
				sum.AccessFailing++
				sum.Healthy = false
			case a.State == AccessWarning:
				sum.AccessWarnings++
			}
		}
	}
	countAccess(r.Hub.Access)
	for _, c := range r.Clusters {
		countAccess(c.Access)
		if !c.Reachable {
			sum.Unreachable++
			sum.Healthy = false
		}
		for _, o := range c.Objects {
			sum.Objects++
			switch o.State {
			case StateReady:
				sum.Ready++
			case StateFailed, StateUnknown:
				sum.Failed++
				sum.Healthy = false
			case StateProgressing:
				sum.Progressing++
			case StateSuspended:
				sum.Suspended++
			}
			if o.Stale {
				sum.Stale++
				if o.Suspended {
					sum.Healthy = false
				}
			}
			if o.ReleaseProblem() != "" {
				sum.ReleaseProblems++
				sum.Healthy = false
			}
		}
	}
	if f := r.Hub.Flux; f != nil && !fluxHealthy(f) {
		sum.Healthy = false
	}
	if len(failingResourceSets(r.Hub.ResourceSets)) > 0 {
		sum.Healthy = false
	}
	return sum
}

// filterFailing keeps only the objects and access checks that need
// attention and the clusters that have some or are unreachable; the hub's
// Flux details only when Flux itself is not healthy. Summary still counts
// everything.
func filterFailing(r *Report) {
	var keep []Cluster
	for _, c := range r.Clusters {
		var objs []Object
		for _, o := range c.Objects {
			if o.NeedsAttention() {
				objs = append(objs, o)
			}
		}
		c.Access = failingAccess(c.Access)
		if len(objs) > 0 || !c.Reachable || len(c.Access) > 0 {
			c.Objects = append([]Object{}, objs...)
			keep = append(keep, c)
		}
	}
	r.Hub.Access = failingAccess(r.Hub.Access)
	r.Hub.ResourceSets = failingResourceSets(r.Hub.ResourceSets)
	r.Clusters = append([]Cluster{}, keep...)
	if f := r.Hub.Flux; f != nil && fluxHealthy(f) {
		r.Hub.Flux = nil
	}
}

// failingAccess keeps the checks that fail the run.
func failingAccess(checks []AccessCheck) []AccessCheck {
	var out []AccessCheck
	for _, a := range checks {
		if a.Failing() {
			out = append(out, a)
		}
	}
	return out
}

// fluxHealthy reports whether the hub's Flux is Ready, its cluster sync is
// Ready and every controller is Ready. The exit code and --failing both use
// it, so --failing shows the Flux details exactly when they fail the run.
func fluxHealthy(f *Flux) bool {
	if !f.Ready || (f.Sync != nil && !f.Sync.Ready) {
		return false
	}
	for _, c := range f.Components {
		if !c.Ready {
			return false
		}
	}
	return true
}
