package status

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/health"
	"github.com/c5c3/kubectl-c5c3/internal/printers"
	"github.com/c5c3/kubectl-c5c3/resourceset"
)

// ResourceSet is a Flux Operator ResourceSet of the hub and the providers
// its spec.inputsFrom selects.
type ResourceSet struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	State     string `json:"state"`
	Ready     string `json:"ready"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message,omitempty"`
	Suspended bool   `json:"suspended,omitempty"`
	// Generated is the number of objects of its status.inventory.
	Generated int        `json:"generated"`
	Providers []Provider `json:"providers"`
	// Problems are health's verdict, with providers that are missing.
	Problems []string `json:"problems,omitempty"`
}

// Provider is a ResourceSetInputProvider and what it last exported.
type Provider struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Type      string `json:"type,omitempty"`
	State     string `json:"state"`
	Ready     string `json:"ready"`
	Message   string `json:"message,omitempty"`
	// ExportedInputs is its status.exportedInputs (ids, branches, tags,
	// digests: never credentials).
	ExportedInputs []map[string]any `json:"exportedInputs"`
}

// ID is "namespace/name".
func (r ResourceSet) ID() string { return r.Namespace + "/" + r.Name }

var (
	resourceSetList = "ResourceSetList"
	providerList    = "ResourceSetInputProviderList"
)

// ReadResourceSets lists the hub's ResourceSets in namespace ns ("" for
// all) with their providers; none when the Flux Operator's CRDs are not
// installed.
func ReadResourceSets(ctx context.Context, hub client.Reader, ns string) ([]ResourceSet, error) {
	sets, err := listOperator(ctx, hub, resourceSetList, ns)
	if err != nil || len(sets) == 0 {
		return nil, err
	}
	providers, err := listOperator(ctx, hub, providerList, ns)
	if err != nil {
		return nil, err
	}
	out := make([]ResourceSet, 0, len(sets))
	for _, rs := range sets {
		out = append(out, resourceSetStatus(rs, providers))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out, nil
}

// ReadResourceSet is one ResourceSet's status with the providers of its
// namespace.
func ReadResourceSet(ctx context.Context, hub client.Reader, rs *unstructured.Unstructured) (ResourceSet, error) {
	providers, err := listOperator(ctx, hub, providerList, rs.GetNamespace())
	if err != nil {
		return ResourceSet{}, err
	}
	return resourceSetStatus(rs, providers), nil
}

func listOperator(ctx context.Context, hub client.Reader, kind, ns string) ([]*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion(resourceset.APIVersion)
	list.SetKind(kind)
	var opts []client.ListOption
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := hub.List(ctx, list, opts...); err != nil {
		if apimeta.IsNoMatchError(err) || apierrors.IsForbidden(err) {
			// No Flux Operator CRDs, or not allowed to read them: no
			// ResourceSets to show, the rest of the status still is.
			return nil, nil
		}
		return nil, fmt.Errorf("listing %ss of the hub: %w", kind[:len(kind)-4], err)
	}
	out := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out, nil
}

func operatorState(h health.Health) string {
	switch {
	case h.Suspended:
		return StateSuspended
	case h.Ready == metav1.ConditionTrue:
		return StateReady
	case h.Ready == metav1.ConditionFalse:
		return StateFailed
	case h.Reported:
		return StateProgressing
	}
	return StateUnknown
}

func resourceSetStatus(rs *unstructured.Unstructured, providers []*unstructured.Unstructured) ResourceSet {
	h := health.EvaluateOperator(rs)
	out := ResourceSet{Namespace: rs.GetNamespace(), Name: rs.GetName(), State: operatorState(h), Ready: string(h.Ready),
		Reason: h.Reason, Message: h.Message, Suspended: h.Suspended, Providers: []Provider{}, Problems: h.Problems()}
	entries, _, _ := unstructured.NestedSlice(rs.Object, "status", "inventory", "entries")
	out.Generated = len(entries)
	spec, err := resourceset.ReadSpec(rs)
	if err != nil {
		out.Problems = append(out.Problems, err.Error())
		return out
	}
	seen := map[string]bool{}
	for _, ref := range spec.InputsFrom {
		var picked []*unstructured.Unstructured
		if ref.Name != "" {
			for _, p := range providers {
				if p.GetNamespace() == rs.GetNamespace() && p.GetName() == ref.Name {
					picked = append(picked, p)
				}
			}
			if len(picked) == 0 {
				out.Problems = append(out.Problems, fmt.Sprintf("%s %s/%s not found", resourceset.ProviderKind, rs.GetNamespace(), ref.Name))
			}
		} else if sel, err := metav1.LabelSelectorAsSelector(ref.Selector); err == nil {
			for _, p := range providers {
				if p.GetNamespace() == rs.GetNamespace() && sel.Matches(labels.Set(p.GetLabels())) {
					picked = append(picked, p)
				}
			}
		}
		for _, p := range picked {
			if seen[p.GetName()] {
				continue
			}
			seen[p.GetName()] = true
			out.Providers = append(out.Providers, providerStatus(p))
		}
	}
	sort.Slice(out.Providers, func(i, j int) bool { return out.Providers[i].Name < out.Providers[j].Name })
	return out
}

func providerStatus(p *unstructured.Unstructured) Provider {
	h := health.EvaluateOperator(p)
	typ, _, _ := unstructured.NestedString(p.Object, "spec", "type")
	out := Provider{Namespace: p.GetNamespace(), Name: p.GetName(), Type: typ, State: operatorState(h), Ready: string(h.Ready),
		Message: h.Message, ExportedInputs: []map[string]any{}}
	exported, _, _ := unstructured.NestedSlice(p.Object, "status", "exportedInputs")
	for _, e := range exported {
		if m, ok := e.(map[string]any); ok {
			out.ExportedInputs = append(out.ExportedInputs, m)
		}
	}
	return out
}

// resourceSetTree adds a node per ResourceSet under the hub, a child per
// provider with its last exported inputs.
func resourceSetTree(root *printers.Node, sets []ResourceSet, o RenderOptions) {
	for _, rs := range sets {
		l := o.Symbol(rs.State) + "ResourceSet " + rs.ID() + " · " + o.Word(rs.State) + " · " + plural(rs.Generated, "object")
		if rs.State != StateReady && rs.Message != "" {
			l += " · " + o.Palette.Red(oneLine(rs.Message))
		}
		n := root.Add(l)
		for _, p := range rs.Providers {
			pl := o.Symbol(p.State) + "ResourceSetInputProvider " + p.Namespace + "/" + p.Name
			if p.Type != "" {
				pl += " (" + p.Type + ")"
			}
			pl += " · " + o.Word(p.State) + " · " + plural(len(p.ExportedInputs), "input set")
			if s := inputsSummary(p.ExportedInputs, 3); s != "" {
				pl += "\n" + o.Palette.Faint(s)
			}
			n.Add(pl)
		}
		for _, prob := range rs.Problems {
			if rs.State == StateReady || !strings.HasPrefix(prob, "not Ready") {
				n.Add(o.Palette.Yellow("problem: ") + prob)
			}
		}
	}
}

// inputsSummary is "key=value ..." per input set (scalars only, keys
// sorted), at most max sets.
func inputsSummary(sets []map[string]any, max int) string {
	var lines []string
	for i, set := range sets {
		if i == max {
			lines = append(lines, fmt.Sprintf("… %d more", len(sets)-max))
			break
		}
		keys := make([]string, 0, len(set))
		for k, v := range set {
			switch v.(type) {
			case map[string]any, []any:
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, set[k]))
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	return strings.Join(lines, "\n")
}

// failingResourceSets keeps the ResourceSets with a problem or a provider
// that is not Ready.
func failingResourceSets(sets []ResourceSet) []ResourceSet {
	var out []ResourceSet
	for _, rs := range sets {
		bad := len(rs.Problems) > 0
		for _, p := range rs.Providers {
			bad = bad || p.State != StateReady
		}
		if bad {
			out = append(out, rs)
		}
	}
	return out
}
