package versions

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/resourceset"
)

// ResourceSet is a Flux Operator ResourceSet that an environment's
// appliers apply to its hub, with the input values that pin versions of
// what it generates per input set.
type ResourceSet struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Applier is the Kustomization whose inventory lists it,
	// Kustomization/NAMESPACE/NAME.
	Applier string `json:"applier"`
	// Inputs are its input values with a version-like key, in the order
	// of its input sources (its own spec.inputs, then spec.inputsFrom).
	Inputs []VersionInput `json:"inputs"`
	// Error says why its inputs could not be read.
	Error string `json:"error,omitempty"`
}

// VersionInput is one version-like value of one input set.
type VersionInput struct {
	// Source is where the input set comes from: ResourceSet/NS/NAME for
	// its inline spec.inputs, ResourceSetInputProvider/NS/NAME for a
	// provider's status.exportedInputs.
	Source string `json:"source"`
	// Type is the provider's spec.type (OCIArtifactTag, GitHubTag, ...).
	Type string `json:"type,omitempty"`
	// ID is the input set's id (inputs.id in the templates).
	ID string `json:"id"`
	// Key is the input's key, dotted for nested maps (chart.version).
	Key   string `json:"key"`
	Value string `json:"value"`
}

// versionLike is true for input keys that pin a version: version, tag,
// digest, and keys ending so (chartVersion, imageTag, app_version).
func versionLike(key string) bool {
	k := strings.ToLower(key)
	return strings.HasSuffix(k, "version") || strings.HasSuffix(k, "tag") || k == "digest"
}

// readResourceSets reads the ResourceSets the hub appliers' inventories
// list, and the version-like inputs of each.
func (b *builder) readResourceSets(ctx context.Context, ed *envData) {
	hub := ed.fleet.Hub().Client
	seen := map[string]bool{}
	for _, a := range ed.appliers {
		if !a.cluster.Hub {
			continue
		}
		for _, e := range a.inv {
			if e.GroupKind.Group != resourceset.Group || e.GroupKind.Kind != resourceset.Kind || seen[e.Namespace+"/"+e.Name] {
				continue
			}
			seen[e.Namespace+"/"+e.Name] = true
			rs := ResourceSet{Namespace: e.Namespace, Name: e.Name, Applier: a.id(), Inputs: []VersionInput{}}
			if err := readResourceSetInputs(ctx, hub, &rs); err != nil {
				rs.Error = fmt.Sprintf("ResourceSet %s/%s: %v", e.Namespace, e.Name, err)
			}
			ed.out.ResourceSets = append(ed.out.ResourceSets, rs)
		}
	}
	sort.Slice(ed.out.ResourceSets, func(i, j int) bool {
		x, y := ed.out.ResourceSets[i], ed.out.ResourceSets[j]
		return x.Namespace+"/"+x.Name < y.Namespace+"/"+y.Name
	})
}

// readResourceSetInputs resolves the input sources of rs as the operator
// does (resourceset.Sources: inline inputs, providers by name or selector)
// and keeps the version-like values.
func readResourceSetInputs(ctx context.Context, hub client.Reader, rs *ResourceSet) error {
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion(resourceset.APIVersion)
	obj.SetKind(resourceset.Kind)
	if err := hub.Get(ctx, client.ObjectKey{Namespace: rs.Namespace, Name: rs.Name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("in %s's inventory but not on the hub", rs.Applier)
		}
		return err
	}
	spec, err := resourceset.ReadSpec(obj)
	if err != nil {
		return err
	}
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion(resourceset.APIVersion)
	list.SetKind(resourceset.ProviderKind + "List")
	if err := hub.List(ctx, list, client.InNamespace(rs.Namespace)); err != nil {
		return fmt.Errorf("listing the %ss of %s: %w", resourceset.ProviderKind, rs.Namespace, err)
	}
	providers := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		providers = append(providers, &list.Items[i])
	}
	sources, err := resourceset.Sources(obj, spec, providers)
	if err != nil {
		return err
	}
	for _, src := range sources {
		for _, set := range src.Inputs {
			id := fmt.Sprint(set["id"])
			for _, kv := range versionValues("", set) {
				rs.Inputs = append(rs.Inputs, VersionInput{Source: src.Ref(), Type: src.Type, ID: id, Key: kv[0], Value: kv[1]})
			}
		}
	}
	return nil
}

// versionValues are the version-like scalar values of an input set (nested
// maps walked, with dotted keys), sorted by key; the built-in id and
// provider are not inputs of the user's.
func versionValues(prefix string, m map[string]any) [][2]string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out [][2]string
	for _, k := range keys {
		if prefix == "" && (k == "id" || k == "provider") {
			continue
		}
		switch v := m[k].(type) {
		case map[string]any:
			out = append(out, versionValues(prefix+k+".", v)...)
		case []any, nil:
		default:
			if versionLike(k) {
				out = append(out, [2]string{prefix + k, fmt.Sprint(v)})
			}
		}
	}
	return out
}

// inputHeader is the header of the ResourceSet inputs table.
var inputHeader = []string{"RESOURCESET", "ENVIRONMENT", "SOURCE", "ID", "KEY", "VALUE"}

// inputRows are the rows of the ResourceSet inputs table: one per
// version-like input (one with "-" for a ResourceSet without any), the
// ResourceSet named on its first row only.
func inputRows(m *Matrix) [][]string {
	var out [][]string
	for _, e := range m.Environments {
		for _, rs := range e.ResourceSets {
			name := rs.Namespace + "/" + rs.Name
			if len(rs.Inputs) == 0 {
				out = append(out, []string{name, e.Name, "-", "-", "-", "-"})
				continue
			}
			for i, in := range rs.Inputs {
				src := in.Source
				if in.Type != "" {
					src += " (" + in.Type + ")"
				}
				if i > 0 {
					name = ""
				}
				out = append(out, []string{name, e.Name, src, in.ID, in.Key, in.Value})
			}
		}
	}
	return out
}
