package resourceset

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Input strategies of spec.inputStrategy.name.
const (
	StrategyFlatten = "Flatten"
	StrategyPermute = "Permute"
)

// Spec is the part of a ResourceSet's spec that decides what it generates.
type Spec struct {
	Inputs         []map[string]any
	InputsFrom     []InputProviderReference
	InputStrategy  InputStrategy
	Resources      []map[string]any
	Template       string
	Steps          []Step
	CommonMetadata CommonMetadata
	DependsOn      []Dependency
}

// InputProviderReference is one entry of spec.inputsFrom: a provider by
// name or a label selector over the providers of the ResourceSet's
// namespace.
type InputProviderReference struct {
	APIVersion string                `json:"apiVersion,omitempty"`
	Kind       string                `json:"kind,omitempty"`
	Name       string                `json:"name,omitempty"`
	Selector   *metav1.LabelSelector `json:"selector,omitempty"`
}

// InputStrategy is spec.inputStrategy.
type InputStrategy struct {
	Name                  string `json:"name,omitempty"`
	IncludeEmptyProviders bool   `json:"includeEmptyProviders,omitempty"`
}

// Step is one entry of spec.steps.
type Step struct {
	Name      string
	Resources []map[string]any
	Template  string
}

// CommonMetadata is spec.commonMetadata.
type CommonMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Dependency is one entry of spec.dependsOn.
type Dependency struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
	Ready      bool   `json:"ready,omitempty"`
	ReadyExpr  string `json:"readyExpr,omitempty"`
}

// ReadSpec reads the spec of a ResourceSet.
func ReadSpec(rs *unstructured.Unstructured) (*Spec, error) {
	spec, _, err := unstructured.NestedMap(rs.Object, "spec")
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	s := &Spec{}
	if s.Inputs, err = mapList(spec, "inputs"); err != nil {
		return nil, err
	}
	if s.Resources, err = mapList(spec, "resources"); err != nil {
		return nil, err
	}
	if s.Template, _, err = unstructured.NestedString(spec, "resourcesTemplate"); err != nil {
		return nil, fmt.Errorf("spec.resourcesTemplate: %w", err)
	}
	for _, f := range []struct {
		key string
		to  any
	}{
		{"inputsFrom", &s.InputsFrom},
		{"inputStrategy", &s.InputStrategy},
		{"commonMetadata", &s.CommonMetadata},
		{"dependsOn", &s.DependsOn},
	} {
		if err := convert(spec, f.key, f.to); err != nil {
			return nil, err
		}
	}
	steps, err := mapList(spec, "steps")
	if err != nil {
		return nil, err
	}
	for i, st := range steps {
		step := Step{}
		step.Name, _, _ = unstructured.NestedString(st, "name")
		if step.Resources, err = mapList(st, "resources"); err != nil {
			return nil, fmt.Errorf("spec.steps[%d]: %w", i, err)
		}
		step.Template, _, _ = unstructured.NestedString(st, "resourcesTemplate")
		s.Steps = append(s.Steps, step)
	}
	switch s.InputStrategy.Name {
	case "", StrategyFlatten, StrategyPermute:
	default:
		return nil, fmt.Errorf("spec.inputStrategy.name %q: must be %s or %s", s.InputStrategy.Name, StrategyFlatten, StrategyPermute)
	}
	for i, ref := range s.InputsFrom {
		if (ref.Name == "") == (ref.Selector == nil) {
			return nil, fmt.Errorf("spec.inputsFrom[%d]: exactly one of name and selector must be set", i)
		}
		if ref.Kind != "" && ref.Kind != ProviderKind {
			return nil, fmt.Errorf("spec.inputsFrom[%d]: kind %q: must be %s", i, ref.Kind, ProviderKind)
		}
		if ref.APIVersion != "" && ref.APIVersion != APIVersion {
			return nil, fmt.Errorf("spec.inputsFrom[%d]: apiVersion %q: must be %s", i, ref.APIVersion, APIVersion)
		}
	}
	if len(s.Steps) > 0 && (len(s.Resources) > 0 || s.Template != "") {
		return nil, fmt.Errorf("spec.steps is mutually exclusive with spec.resources and spec.resourcesTemplate")
	}
	return s, nil
}

func mapList(m map[string]any, key string) ([]map[string]any, error) {
	raw, ok := m[key]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected a list, got %T", key, raw)
	}
	out := make([]map[string]any, 0, len(list))
	for i, item := range list {
		im, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: expected an object, got %T", key, i, item)
		}
		out = append(out, im)
	}
	return out, nil
}

func convert(m map[string]any, key string, to any) error {
	raw, ok := m[key]
	if !ok || raw == nil {
		return nil
	}
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, to)
	}
	if err != nil {
		return fmt.Errorf("spec.%s: %w", key, err)
	}
	return nil
}
