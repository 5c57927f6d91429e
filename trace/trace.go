package trace

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/health"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/status"
)

// The owner labels kustomize-controller and helm-controller put on what
// they apply.
var (
	kustomizeNameLabel      = kustomizev1.GroupVersion.Group + "/name"
	kustomizeNamespaceLabel = kustomizev1.GroupVersion.Group + "/namespace"
	helmNameLabel           = helmv2.GroupVersion.Group + "/name"
	helmNamespaceLabel      = helmv2.GroupVersion.Group + "/namespace"
)

// Options say what to trace.
type Options struct {
	// Type is the object's resource type as typed: deploy, deployments.apps,
	// Deployment, ... (resolved through the cluster's discovery).
	Type string
	// Name of the object.
	Name string
	// Namespace of the object; ignored for cluster-scoped kinds.
	Namespace string
	// Cluster is the fleet cluster it lives on; "" means the hub.
	Cluster string
	// FluxNamespace holds the FluxReport that names the root sync.
	FluxNamespace string
	// Diff, when set, compares the object with git: the diff engine runs
	// with these options on the applier's Kustomization, or on the one
	// applying the applier HelmRelease (the trace sets Targets, and NoHelm
	// for a Kustomization applier).
	Diff *diff.Options
}

// Run traces the object. An object that cannot be read, or whose cluster
// is unreachable, is reported in Trace.Object.Error (and Summary.Error),
// with the chain still found from the hub when an applier's inventory
// lists the object. Run returns an error only for bad input: a cluster
// not in the fleet, an unknown resource type, an unreadable hub.
func Run(ctx context.Context, f *fleet.Fleet, opts Options) (*Trace, error) {
	c, err := cluster(f, opts.Cluster)
	if err != nil {
		return nil, err
	}
	t := &Trace{APIVersion: APIVersion, Kind: Kind, Chain: []Step{},
		Object: Object{Cluster: c.Name, Hub: c.Hub, Name: opts.Name}, Summary: Summary{Problems: []string{}}}
	if c.KubeConfig != nil {
		t.Object.KubeConfig = c.KubeConfig.String()
	}
	tr := &tracer{f: f, opts: opts, t: t, cluster: c, objects: map[string]located{}, ready: health.Readiness(f)}
	for _, fc := range f.Clusters {
		for _, o := range fc.Objects {
			tr.objects[o.ID()] = located{o, fc}
		}
	}

	cl, clientErr := f.Client(ctx, c, "")
	mapping, err := tr.mapping(ctx, cl, clientErr)
	if err != nil {
		return nil, err
	}
	gvk := mapping.GroupVersionKind
	t.Object.APIVersion, t.Object.Kind = gvk.GroupVersion().String(), gvk.Kind
	if mapping.Scope.Name() == apimeta.RESTScopeNameNamespace {
		t.Object.Namespace = opts.Namespace
	}
	tr.inventoryID = object.ObjMetadata{Namespace: t.Object.Namespace, Name: opts.Name, GroupKind: gvk.GroupKind()}.String()

	var labels map[string]string
	if clientErr != nil {
		t.Object.Error = fmt.Sprintf("cannot read %s: %v", t.Object.ID(), clientErr)
	} else {
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(gvk)
		switch err := cl.Client.Get(ctx, client.ObjectKey{Namespace: t.Object.Namespace, Name: opts.Name}, m); {
		case err == nil:
			t.Object.Found, labels = true, m.GetLabels()
		case apierrors.IsNotFound(err):
			t.Object.Error = fmt.Sprintf("%s not found on cluster %s: check the kind, name, namespace and cluster", t.Object.ID(), c.Name)
		default:
			t.Object.Error = fmt.Sprintf("cannot read %s on cluster %s%s: %v", t.Object.ID(), c.Name, via(c), err)
		}
	}
	t.Summary.Error = t.Object.Error

	if clientErr != nil {
		cl = nil
	}
	tr.chain(ctx, cl, labels)
	if opts.Diff != nil && t.Object.Found && t.Managed {
		t.Object.Drift = tr.drift(ctx)
	}
	tr.summarize()
	return t, nil
}

// cluster finds the named fleet cluster ("" = the hub).
func cluster(f *fleet.Fleet, name string) (*fleet.Cluster, error) {
	if name == "" {
		return f.Clusters[0], nil
	}
	if c := f.Cluster(name); c != nil {
		return c, nil
	}
	var names []string
	for _, c := range f.Clusters {
		names = append(names, c.Name)
	}
	return nil, fmt.Errorf("no cluster %q in the fleet (clusters: %s)", name, strings.Join(names, ", "))
}

func via(c *fleet.Cluster) string {
	if c.KubeConfig == nil {
		return ""
	}
	return " (through " + c.KubeConfig.String() + ")"
}

// located is a Flux object with the cluster it deploys to.
type located struct {
	obj     fleet.Object
	cluster *fleet.Cluster
}

type tracer struct {
	f       *fleet.Fleet
	opts    Options
	t       *Trace
	cluster *fleet.Cluster
	// objects are the hub's Kustomizations and HelmReleases by ID.
	objects map[string]located
	// inventoryID is the traced object as inventories list it.
	inventoryID string
	// ready is health.Readiness of the fleet, for dependsOn.
	ready map[string]bool
}

// mapping resolves the resource type on the object's cluster, or on the
// hub when that cluster cannot be reached (built-in kinds are the same).
func (tr *tracer) mapping(ctx context.Context, cl *kube.Client, clientErr error) (*apimeta.RESTMapping, error) {
	typ := tr.opts.Type
	var err error
	if clientErr == nil {
		var m *apimeta.RESTMapping
		if m, err = cl.ResourceMapping(ctx, typ); err == nil {
			return m, nil
		}
		if errors.Is(err, kube.ErrUnknownKind) {
			return nil, fmt.Errorf("%v on cluster %s: list its types with kubectl api-resources", err, tr.cluster.Name)
		}
	}
	if tr.cluster.Hub {
		return nil, fmt.Errorf("resolving %q on the hub: %w", typ, err)
	}
	m, herr := tr.f.Hub().ResourceMapping(ctx, typ)
	if herr != nil {
		why := clientErr
		if why == nil {
			why = err
		}
		return nil, fmt.Errorf("cannot resolve resource type %q: cluster %s%s cannot be reached (%v), and the hub does not know it either (%v)",
			typ, tr.cluster.Name, via(tr.cluster), why, herr)
	}
	return m, nil
}

// chain finds the applier of the object — by its owner labels, else by
// the inventories, else by the Helm storage of HelmReleases without one
// (cl: the object's cluster, nil when unreachable) — and walks up its
// parents.
func (tr *tracer) chain(ctx context.Context, cl *kube.Client, labels map[string]string) {
	t := tr.t
	kind, id := ownerOf(labels)
	var first *located
	applies, appliesID := t.Object.ID(), tr.inventoryID
	wantCluster := tr.cluster
	rsNS, rsName := resourceSetOwner(labels)
	switch {
	case id == "" && rsName != "":
		// Applied by the Flux Operator for a ResourceSet.
		t.Object.Owner = resourceSetKind + "/" + rsNS + "/" + rsName
		first, applies, appliesID = tr.viaResourceSet(ctx, rsNS, rsName, applies, appliesID, wantCluster)
		t.Managed = len(t.Chain) > 0 && t.Chain[0].Found && t.Chain[0].Error == ""
		wantCluster = tr.f.Clusters[0]
		if first == nil {
			tr.root(ctx)
			return
		}
	case id != "":
		t.Object.Owner = kind + "/" + id
		if l, ok := tr.objects[t.Object.Owner]; ok {
			first = &l
			break
		}
		ns, name, _ := strings.Cut(id, "/")
		t.Chain = append(t.Chain, Step{Object: status.Object{Kind: kind, Namespace: ns, Name: name}, Applies: t.Object.ID(),
			Error: fmt.Sprintf("the labels of %s name %s, which the hub does not have (deleted, in a hub namespace not read, or the labels were copied)", t.Object.ID(), t.Object.Owner)})
		return
	default:
		first = tr.byInventory()
		lists := "lists it in its inventory"
		if first == nil && t.Object.Found {
			if first = tr.byHelmStorage(ctx, cl); first != nil {
				lists = "has no status.inventory; its release in Helm storage holds it"
			}
		}
		switch {
		case first != nil && t.Object.Found:
			t.Notices = append(t.Notices, fmt.Sprintf("%s has no Flux owner labels; %s %s", t.Object.ID(), first.obj.ID(), lists))
		case first != nil:
			t.Notices = append(t.Notices, fmt.Sprintf("the applier was found on the hub: %s lists %s in its inventory", first.obj.ID(), t.Object.ID()))
		case t.Object.Found:
			t.Notices = append(t.Notices, fmt.Sprintf("%s is not managed by Flux: it has no %s or %s labels, and no Kustomization or HelmRelease deploying to cluster %s lists it in its inventory (or, without one, in its release in Helm storage)",
				t.Object.ID(), kustomizeNameLabel, helmNameLabel, tr.cluster.Name))
			return
		default:
			return // nothing known: the object's error says why
		}
	}

	seen := map[string]bool{}
	for l := first; l != nil; {
		st := tr.step(*l, applies, appliesID)
		if l.cluster != wantCluster {
			st.Error = fmt.Sprintf("%s deploys to cluster %s, not to cluster %s where %s is", l.obj.ID(), l.cluster.Name, wantCluster.Name, applies)
		}
		t.Chain = append(t.Chain, st)
		seen[l.obj.ID()] = true
		if len(t.Chain) == 1 {
			t.Managed = st.Error == ""
		}

		// The applier is a hub object: its parent is the Kustomization
		// (or the HelmRelease, for one a chart rendered) whose labels it
		// carries.
		pkind, pid := ownerOf(l.obj.Meta().GetLabels())
		applies = l.obj.ID()
		appliesID = object.ObjMetadata{Namespace: l.obj.Meta().GetNamespace(), Name: l.obj.Meta().GetName(), GroupKind: groupKind(l.obj)}.String()
		wantCluster = tr.f.Clusters[0]
		if ns, name := resourceSetOwner(l.obj.Meta().GetLabels()); pid == "" && name != "" {
			// A ResourceSet generated the applier: its step, then the
			// Kustomization that applied the ResourceSet.
			l, applies, appliesID = tr.viaResourceSet(ctx, ns, name, applies, appliesID, wantCluster)
			if l == nil || seen[l.obj.ID()] {
				break
			}
			continue
		}
		if pid == "" || seen[pkind+"/"+pid] {
			break // the root (a bootstrap Kustomization labels itself)
		}
		parent, ok := tr.objects[pkind+"/"+pid]
		if !ok {
			ns, name, _ := strings.Cut(pid, "/")
			t.Chain = append(t.Chain, Step{Object: status.Object{Kind: pkind, Namespace: ns, Name: name}, Applies: applies,
				Error: fmt.Sprintf("the labels of %s name %s %s, which the hub does not have", applies, pkind, pid)})
			break
		}
		l = &parent
	}
	tr.root(ctx)
}

// ownerOf returns the applier the Flux labels name: HelmRelease labels
// win (a chart's objects), then Kustomization labels.
func ownerOf(labels map[string]string) (kind, id string) {
	if n, ns := labels[helmNameLabel], labels[helmNamespaceLabel]; n != "" && ns != "" {
		return fleet.KindHelmRelease, ns + "/" + n
	}
	if n, ns := labels[kustomizeNameLabel], labels[kustomizeNamespaceLabel]; n != "" && ns != "" {
		return fleet.KindKustomization, ns + "/" + n
	}
	return "", ""
}

func groupKind(o fleet.Object) schema.GroupKind {
	if o.Kustomization != nil {
		return kustomizev1.GroupVersion.WithKind(fleet.KindKustomization).GroupKind()
	}
	return helmv2.GroupVersion.WithKind(fleet.KindHelmRelease).GroupKind()
}

// byInventory finds the first applier (in fleet order) deploying to the
// object's cluster whose inventory lists the object.
func (tr *tracer) byInventory() *located {
	for _, o := range tr.cluster.Objects {
		for _, id := range o.Inventory() {
			if id == tr.inventoryID {
				return &located{o, tr.cluster}
			}
		}
	}
	return nil
}

// step describes one applier.
func (tr *tracer) step(l located, applies, appliesID string) Step {
	st := Step{Object: status.ObjectStatus(tr.f, l.obj, tr.ready), Found: true, Cluster: l.cluster.Name, Applies: applies}
	if l.cluster.KubeConfig != nil {
		st.KubeConfig = l.cluster.KubeConfig.String()
	}
	if inv := l.obj.Inventory(); inv != nil {
		in := false
		for _, id := range inv {
			in = in || id == appliesID
		}
		st.InInventory = &in
	}
	ref := fleet.SourceOf(l.obj)
	if ks := l.obj.Kustomization; ks != nil {
		st.AttemptedRevision = ks.Status.LastAttemptedRevision
	} else if hr := l.obj.HelmRelease; hr != nil {
		st.AttemptedRevision = hr.Status.LastAttemptedRevision
		if ref.IsZero() && hr.Spec.Chart != nil {
			// No HelmChart yet: say where the chart is to come from.
			sr := hr.Spec.Chart.Spec.SourceRef
			ns := sr.Namespace
			if ns == "" {
				ns = hr.Namespace
			}
			st.SourceStatus = &Source{From: sr.Kind + "/" + ns + "/" + sr.Name}
			return st
		}
	}
	if !ref.IsZero() {
		st.SourceStatus = sourceStatus(tr.f.Sources[ref.String()])
	}
	return st
}

func sourceStatus(u *unstructured.Unstructured) *Source {
	if u == nil {
		return &Source{}
	}
	s := &Source{Found: true, Ready: string(metav1.ConditionUnknown)}
	s.URL, _, _ = unstructured.NestedString(u.Object, "spec", "url")
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == meta.ReadyCondition {
			s.Ready, _ = m["status"].(string)
			s.Reason, _ = m["reason"].(string)
			s.Message, _ = m["message"].(string)
		}
	}
	if u.GetKind() == "HelmChart" {
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "kind")
		name, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "name")
		if kind != "" {
			s.From = kind + "/" + u.GetNamespace() + "/" + name
		}
	}
	return s
}

// root marks the FluxReport's sync on the chain, and says when the chain
// ends elsewhere.
func (tr *tracer) root(ctx context.Context) {
	t := tr.t
	rep, notice, err := status.ReadFluxReport(ctx, tr.f.Hub().Client, tr.opts.FluxNamespace)
	switch {
	case err != nil:
		t.Notices = append(t.Notices, err.Error())
		return
	case rep == nil:
		t.Notices = append(t.Notices, notice)
		return
	case rep.Sync == nil || rep.Sync.ID == "":
		t.Notices = append(t.Notices, fmt.Sprintf("the FluxReport %s/flux names no cluster sync", tr.opts.FluxNamespace))
		return
	}
	kind, name, _ := strings.Cut(rep.Sync.ID, "/")
	if strings.EqualFold(kind, fleet.KindKustomization) {
		kind = fleet.KindKustomization
	}
	t.Sync = kind + "/" + tr.opts.FluxNamespace + "/" + name
	last := &t.Chain[len(t.Chain)-1]
	if last.ID() == t.Sync {
		last.Root = true
		return
	}
	if last.Found && last.Error == "" {
		t.Notices = append(t.Notices, fmt.Sprintf("the chain ends at %s, which no Kustomization applies, not at the FluxReport's sync %s: it was created outside the sync", last.ID(), t.Sync))
	}
}

// drift runs the diff engine on the Kustomization that builds the object:
// its applier, or the Kustomization applying its HelmRelease (whose render
// is diffed).
func (tr *tracer) drift(ctx context.Context) *Drift {
	applier := tr.t.Chain[0]
	opts := *tr.opts.Diff
	d := &Drift{}
	var ks string
	if applier.Kind == fleet.KindHelmRelease {
		d.HelmRelease = applier.Namespace + "/" + applier.Name
		if len(tr.t.Chain) < 2 || !tr.t.Chain[1].Found {
			d.Action, d.Reason = ActionNotDiffed, "no Kustomization applies HelmRelease "+d.HelmRelease+", so there is no build to render it from"
			return d
		}
		ks = tr.t.Chain[1].Namespace + "/" + tr.t.Chain[1].Name
	} else {
		ks = applier.Namespace + "/" + applier.Name
		opts.NoHelm = true
	}
	d.Kustomization = ks
	opts.Targets = []string{ks}
	res, err := diff.Run(ctx, tr.f, opts)
	if err != nil {
		d.Action, d.Error = string(diff.ActionError), err.Error()
		return d
	}
	for _, s := range res.Skipped {
		if s.Namespace+"/"+s.Name == ks {
			d.Action, d.Reason = ActionNotDiffed, s.Reason
			return d
		}
	}
	for _, k := range res.Kustomizations {
		if k.ID() == ks && k.Error != "" {
			d.Action, d.Error = string(diff.ActionError), k.Error
			return d
		}
	}
	for _, h := range res.HelmReleases {
		if h.ID() == d.HelmRelease && h.Error != "" {
			d.Action, d.Error = string(diff.ActionError), h.Error
			return d
		}
	}
	o := tr.t.Object
	for _, r := range res.Objects {
		if r.Kustomization == ks && r.HelmRelease == d.HelmRelease && r.Kind == o.Kind && r.Namespace == o.Namespace && r.Name == o.Name &&
			groupOf(r.APIVersion) == groupOf(o.APIVersion) {
			d.Action, d.Diff, d.Reason, d.Error = string(r.Action), r.Diff, r.Reason, r.Error
			return d
		}
	}
	d.Action = string(diff.ActionUnchanged)
	return d
}

func groupOf(apiVersion string) string {
	g, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return ""
	}
	return g
}

// summarize lists the problems of the chain.
func (tr *tracer) summarize() {
	t := tr.t
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if !t.Managed && t.Object.Found && len(t.Chain) == 0 {
		add("%s is not managed by Flux", t.Object.ID())
	}
	for _, st := range t.Chain {
		switch {
		case st.Error != "":
			problems = append(problems, st.Error)
			continue
		case st.Ready != string(metav1.ConditionTrue):
			msg := st.ID() + " is not Ready"
			if st.Reason != "" {
				msg += " (" + st.Reason + ")"
			}
			problems = append(problems, msg)
		}
		if st.Stale {
			add("%s is stale: applied %s, its source %s has %s", st.ID(), st.Revision, st.Source, st.SourceRevision)
		}
		if st.InInventory != nil && !*st.InInventory {
			add("%s is not in the inventory of %s: it was left behind (no longer in git, not pruned) or carries copied labels", st.Applies, st.ID())
		}
		if s := st.SourceStatus; s != nil && st.Source != "" {
			switch {
			case !s.Found:
				add("source %s of %s is not on the hub", st.Source, st.ID())
			case s.Ready != string(metav1.ConditionTrue):
				add("source %s is not Ready (%s)", st.Source, s.Reason)
			}
		}
	}
	if d := t.Object.Drift; d != nil {
		switch diff.Action(d.Action) {
		case diff.ActionDrifted:
			add("%s drifted from git (Kustomization %s)", t.Object.ID(), d.Kustomization)
		case diff.ActionDeleted:
			add("%s is no longer in git: the next reconcile of %s prunes it", t.Object.ID(), d.Kustomization)
		case diff.ActionCreated:
			add("%s would be created by %s", t.Object.ID(), d.Kustomization)
		case diff.ActionError:
			if t.Summary.Error == "" {
				t.Summary.Error = "diffing " + t.Object.ID() + ": " + d.Error
			}
		}
	}
	t.Summary.Problems = append(t.Summary.Problems, problems...)
	t.Summary.Healthy = t.Managed && len(problems) == 0 && t.Summary.Error == ""
}
