package resourceset

import (
	"fmt"
	"hash/adler32"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// MaxPermutations is the most input sets the Permute strategy may give;
// the operator stalls the ResourceSet beyond it.
const MaxPermutations = 10000

// ProviderTypes are the spec.type values of a ResourceSetInputProvider
// the operator documents.
var ProviderTypes = []string{
	"Static",
	"GitHubPullRequest", "GitHubBranch", "GitHubTag",
	"GitLabMergeRequest", "GitLabBranch", "GitLabTag", "GitLabEnvironment",
	"AzureDevOpsPullRequest", "AzureDevOpsBranch", "AzureDevOpsTag",
	"GiteaPullRequest", "GiteaBranch", "GiteaTag",
	"AWSCodeCommitPullRequest", "AWSCodeCommitBranch", "AWSCodeCommitTag",
	"OCIArtifactTag", "ACRArtifactTag", "ECRArtifactTag", "GARArtifactTag",
	"ExternalService", "ExternalArtifact",
}

// Source is one origin of input sets: the ResourceSet's own spec.inputs or
// a ResourceSetInputProvider's status.exportedInputs.
type Source struct {
	Kind      string
	Namespace string
	Name      string
	// Type is the provider's spec.type (empty for the ResourceSet).
	Type string
	// Inputs are the input sets it gives, built-in fields included.
	Inputs []map[string]any
}

// Ref is "Kind/namespace/name".
func (s Source) Ref() string { return s.Kind + "/" + s.Namespace + "/" + s.Name }

// Sources resolves the ResourceSet's input sources in order: its own
// spec.inputs (when set), then each spec.inputsFrom entry — a provider by
// name, or the providers a selector matches, by name. providers are the
// ResourceSetInputProviders of the ResourceSet's namespace (others are
// ignored). A provider named but absent, or of an unknown type, is an
// error naming it.
func Sources(rs *unstructured.Unstructured, spec *Spec, providers []*unstructured.Unstructured) ([]Source, error) {
	ns := rs.GetNamespace()
	var out []Source
	if len(spec.Inputs) > 0 {
		src := Source{Kind: Kind, Namespace: ns, Name: rs.GetName()}
		for i, in := range spec.Inputs {
			set := maps.Clone(in)
			set["id"] = InlineID(ns, rs.GetName(), i)
			set["provider"] = providerRef(Kind, ns, rs.GetName())
			src.Inputs = append(src.Inputs, set)
		}
		out = append(out, src)
	}
	byName := map[string]*unstructured.Unstructured{}
	var names []string
	for _, p := range providers {
		if p.GetNamespace() == ns && p.GetKind() == ProviderKind {
			byName[p.GetName()] = p
			names = append(names, p.GetName())
		}
	}
	slices.Sort(names)
	seen := map[string]bool{}
	for i, ref := range spec.InputsFrom {
		var picked []string
		if ref.Name != "" {
			if byName[ref.Name] == nil {
				return nil, fmt.Errorf("spec.inputsFrom[%d]: %s %s/%s not found", i, ProviderKind, ns, ref.Name)
			}
			picked = []string{ref.Name}
		} else {
			sel, err := metav1.LabelSelectorAsSelector(ref.Selector)
			if err != nil {
				return nil, fmt.Errorf("spec.inputsFrom[%d].selector: %w", i, err)
			}
			for _, n := range names {
				if sel.Matches(labels.Set(byName[n].GetLabels())) {
					picked = append(picked, n)
				}
			}
		}
		for _, n := range picked {
			if seen[n] {
				continue
			}
			seen[n] = true
			src, err := providerSource(byName[n])
			if err != nil {
				return nil, err
			}
			out = append(out, src)
		}
	}
	return out, nil
}

func providerSource(p *unstructured.Unstructured) (Source, error) {
	ref := fmt.Sprintf("%s %s/%s", ProviderKind, p.GetNamespace(), p.GetName())
	typ, _, _ := unstructured.NestedString(p.Object, "spec", "type")
	if !slices.Contains(ProviderTypes, typ) {
		return Source{}, fmt.Errorf("%s: unknown type %q (the Flux Operator knows %s)", ref, typ, strings.Join(ProviderTypes, ", "))
	}
	src := Source{Kind: ProviderKind, Namespace: p.GetNamespace(), Name: p.GetName(), Type: typ}
	exported, err := mapList(nestedMap(p.Object, "status"), "exportedInputs")
	if err != nil {
		return Source{}, fmt.Errorf("%s: status.%w", ref, err)
	}
	for _, in := range exported {
		set := maps.Clone(in)
		set["provider"] = providerRef(ProviderKind, p.GetNamespace(), p.GetName())
		src.Inputs = append(src.Inputs, set)
	}
	return src, nil
}

func nestedMap(obj map[string]any, key string) map[string]any {
	m, _ := obj[key].(map[string]any)
	return m
}

func providerRef(kind, ns, name string) map[string]any {
	return map[string]any{"apiVersion": APIVersion, "kind": kind, "name": name, "namespace": ns}
}

// InputSets combines the sources' input sets by the strategy: Flatten
// concatenates them; Permute gives their Cartesian product, each source's
// set under its NormalizeName key, with a top-level id of its own.
func InputSets(sources []Source, strategy InputStrategy) ([]map[string]any, error) {
	if strategy.Name != StrategyPermute {
		var out []map[string]any
		for _, s := range sources {
			out = append(out, s.Inputs...)
		}
		return out, nil
	}
	var used []Source
	for _, s := range sources {
		if len(s.Inputs) == 0 {
			if strategy.IncludeEmptyProviders {
				return nil, nil
			}
			continue
		}
		used = append(used, s)
	}
	if len(used) == 0 {
		return nil, nil
	}
	total := 1
	for _, s := range used {
		total *= len(s.Inputs)
		if total > MaxPermutations {
			return nil, fmt.Errorf("inputStrategy Permute gives more than %d input sets", MaxPermutations)
		}
	}
	keys := make([]string, len(used))
	for i, s := range used {
		keys[i] = NormalizeName(s.Name)
		for j := range i {
			if keys[j] == keys[i] {
				return nil, fmt.Errorf("inputStrategy Permute: %s and %s have the same key %q", used[j].Ref(), s.Ref(), keys[i])
			}
		}
	}
	out := make([]map[string]any, 0, total)
	idx := make([]int, len(used))
	for {
		set := map[string]any{}
		ids := make([]string, len(used))
		for i, s := range used {
			in := s.Inputs[idx[i]]
			set[keys[i]] = in
			ids[i] = keys[i] + ":" + fmt.Sprint(in["id"])
		}
		set["id"] = checksum(strings.Join(ids, "/"))
		out = append(out, set)
		// Advance the odometer, the last source fastest.
		i := len(used) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(used[i].Inputs) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out, nil
		}
	}
}

// InlineID is the id of the index-th entry of a ResourceSet's
// spec.inputs. The operator documents it only as unique among the
// ResourceSet's input sets; this is the Adler-32 checksum (the operator's
// documented id function for providers) of "namespace/name/index".
func InlineID(namespace, name string, index int) string {
	return checksum(namespace + "/" + name + "/" + strconv.Itoa(index))
}

func checksum(s string) string {
	return strconv.FormatUint(uint64(adler32.Checksum([]byte(s))), 10)
}

// NormalizeName is the key the Permute strategy nests a source's input
// set under, as documented: lower case, spaces and punctuation to
// underscores, other characters outside [a-z0-9_] dropped, runs of
// underscores collapsed and trimmed.
func NormalizeName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case unicode.IsSpace(r) || unicode.IsPunct(r):
			b.WriteRune('_')
		case r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	var words []string
	for w := range strings.SplitSeq(b.String(), "_") {
		if w != "" {
			words = append(words, w)
		}
	}
	return strings.Join(words, "_")
}
