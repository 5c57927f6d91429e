package trace

import (
	"context"
	"fmt"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/resourceset"
	"github.com/c5c3/kubectl-c5c3/status"
)

const resourceSetKind = resourceset.Kind

var resourceSetGK = schema.GroupKind{Group: resourceset.Group, Kind: resourceset.Kind}

// resourceSetOwner returns the ResourceSet the Flux Operator's ownership
// labels name.
func resourceSetOwner(labels map[string]string) (namespace, name string) {
	name, namespace = labels[resourceset.NameLabel], labels[resourceset.NamespaceLabel]
	if name == "" || namespace == "" {
		return "", ""
	}
	return namespace, name
}

// viaResourceSet adds the step of the ResourceSet that generated applies
// (judged by package health, with its providers and whether its
// inventory lists applies) and returns the Kustomization that applied
// the ResourceSet, with what that one applies; nil when there is none
// to follow.
func (tr *tracer) viaResourceSet(ctx context.Context, ns, name, applies, appliesID string, where *fleet.Cluster) (*located, string, string) {
	t := tr.t
	hub := tr.f.Clusters[0]
	id := resourceSetKind + "/" + ns + "/" + name
	st := Step{Object: status.Object{Kind: resourceSetKind, Namespace: ns, Name: name}, Cluster: hub.Name, Applies: applies}
	rs := &unstructured.Unstructured{}
	rs.SetGroupVersionKind(resourceSetGK.WithVersion("v1"))
	if err := tr.f.Hub().Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, rs); err != nil {
		st.Error = fmt.Sprintf("the labels of %s name %s, which the hub does not have (%v)", applies, id, err)
		t.Chain = append(t.Chain, st)
		return nil, "", ""
	}
	rstat, err := status.ReadResourceSet(ctx, tr.f.Hub().Client, rs)
	if err != nil {
		st.Error = err.Error()
	}
	st.Found = true
	st.State, st.Ready, st.Reason, st.Message, st.Suspended = rstat.State, rstat.Ready, rstat.Reason, rstat.Message, rstat.Suspended
	st.Created = rs.GetCreationTimestamp().UTC()
	st.Providers = rstat.Providers
	if entries, ok, _ := unstructured.NestedSlice(rs.Object, "status", "inventory", "entries"); ok {
		n, in := len(entries), false
		for _, e := range entries {
			m, _ := e.(map[string]any)
			in = in || m["id"] == appliesID
		}
		st.Inventory, st.InInventory = &n, &in
	}
	if where != hub && st.Error == "" {
		st.Error = fmt.Sprintf("%s applies to cluster %s, not to cluster %s where %s is", id, hub.Name, where.Name, applies)
	}
	t.Chain = append(t.Chain, st)
	pkind, pid := ownerOf(rs.GetLabels())
	if pid == "" {
		return nil, "", ""
	}
	parent, ok := tr.objects[pkind+"/"+pid]
	next := object.ObjMetadata{Namespace: ns, Name: name, GroupKind: resourceSetGK}.String()
	if !ok {
		pns, pname, _ := strings.Cut(pid, "/")
		t.Chain = append(t.Chain, Step{Object: status.Object{Kind: pkind, Namespace: pns, Name: pname}, Applies: id,
			Error: fmt.Sprintf("the labels of %s name %s %s, which the hub does not have", id, pkind, pid)})
		return nil, "", ""
	}
	return &parent, id, next
}

// providerLabel is a ResourceSet step's provider: its state and how many
// input sets it last exported.
func providerLabel(p status.Provider, o status.RenderOptions) string {
	label := o.Symbol(p.State) + "inputs from " + resourceset.ProviderKind + "/" + p.Namespace + "/" + p.Name
	if p.Type != "" {
		label += " (" + p.Type + ")"
	}
	n := len(p.ExportedInputs)
	sets := fmt.Sprintf("%d input sets", n)
	if n == 1 {
		sets = "1 input set"
	}
	return label + " · " + o.Word(p.State) + " · " + sets
}
