package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/c5c3/kubectl-c5c3/internal/gitrepo"
)

// The kinds of pins, as shown in the plan's KIND column.
const (
	KindHelmRelease   = "HelmRelease"
	KindOCIRepository = "OCIRepository"
	KindGitRepository = "GitRepository"
	KindHelmChart     = "HelmChart"
	KindFluxInstance  = "FluxInstance"
	KindImage         = "image"
	KindSetter        = "setter"
)

// SetterField is the key of a setter comment: a scalar followed by
// `# {"$c5c3": "<key>"}` is the pin setter/<key>.
const SetterField = "$c5c3"

// Pin is one revision-like value in the repo, found by scan. Pins of two
// environments are matched by Key, never by file.
type Pin struct {
	// Key is the pin's identity across environments, e.g.
	// HelmRelease/keystone/keystone, OCIRepository/c5c3-manifests/tag,
	// image/ghcr.io/c5c3/keystone/newTag, FluxInstance/flux, setter/NAME.
	Key string `json:"key"`
	// Kind is one of the Kind* constants.
	Kind string `json:"kind"`
	// Field is where the value sits in its object, e.g. spec.chart.spec.version.
	Field string `json:"field"`
	// File is the slash-separated path from the repo root.
	File string `json:"file"`
	// Line is the 1-based line of the value.
	Line int `json:"line"`
	// Value is the scalar's value (unquoted).
	Value string `json:"value"`

	column int        // 1-based, in characters (yaml.v3's Node.Column)
	tag    string     // resolved tag, e.g. !!str
	style  yaml.Style // quoting style of the scalar
	flow   bool       // inside a flow collection
}

// Tag is the YAML tag the pin's value resolved to (e.g. !!str), which an
// Edit of the same key elsewhere keeps.
func (p Pin) Tag() string { return p.tag }

// File is one file of the repo: a slash-separated path from the root and
// its bytes.
type File = gitrepo.File

// IsYAML reports whether a path names a YAML file.
func IsYAML(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".yaml" || ext == ".yml"
}

// Scan finds the pins of every YAML file in files. A file that is not
// valid YAML, or a malformed setter comment, is an error naming the file.
func Scan(files []File) ([]Pin, error) {
	var pins []Pin
	for _, f := range files {
		p, err := scanFile(f)
		if err != nil {
			return nil, err
		}
		pins = append(pins, p...)
	}
	SortPins(pins)
	return pins, nil
}

// SortPins orders pins by key, then file and line.
func SortPins(pins []Pin) {
	sort.SliceStable(pins, func(i, j int) bool {
		a, b := pins[i], pins[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
}

// scanFile finds the pins of one YAML file (all its documents).
func scanFile(f File) ([]Pin, error) {
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	var pins []Pin
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not valid YAML: %w", f.Path, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		s := &scanner{file: f.Path, claimed: map[*yaml.Node]bool{}}
		root := doc.Content[0]
		if err := s.setters(root, false); err != nil {
			return nil, err
		}
		if root.Kind == yaml.MappingNode {
			s.typed(root)
		}
		pins = append(pins, s.pins...)
	}
	return pins, nil
}

type scanner struct {
	file    string
	pins    []Pin
	claimed map[*yaml.Node]bool
}

func (s *scanner) add(n *yaml.Node, key, kind, field string, flow bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" || s.claimed[n] {
		return
	}
	s.claimed[n] = true
	s.pins = append(s.pins, Pin{
		Key: key, Kind: kind, Field: field, File: s.file, Line: n.Line, Value: n.Value,
		column: n.Column, tag: n.Tag, style: n.Style, flow: flow,
	})
}

// setters finds scalars with a `# {"$c5c3": "<key>"}` line comment.
func (s *scanner) setters(n *yaml.Node, flow bool) error {
	flow = flow || n.Style&yaml.FlowStyle != 0
	switch n.Kind {
	case yaml.ScalarNode:
		key, ok, err := setterKey(n.LineComment)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", s.file, n.Line, err)
		}
		if ok {
			s.add(n, "setter/"+key, KindSetter, "# {\""+SetterField+"\": \""+key+"\"}", flow)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := s.setters(n.Content[i+1], flow); err != nil {
				return err
			}
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			if err := s.setters(c, flow); err != nil {
				return err
			}
		}
	}
	return nil
}

// setterKey parses a line comment; ok is false when it is no setter.
func setterKey(comment string) (key string, ok bool, err error) {
	c := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(comment), "#"))
	if !strings.HasPrefix(c, "{") || !strings.Contains(c, SetterField) {
		return "", false, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(c), &m); err != nil {
		return "", false, fmt.Errorf("setter comment %q is not valid JSON: %v", comment, err)
	}
	v, found := m[SetterField]
	if !found {
		return "", false, nil
	}
	key, isString := v.(string)
	if !isString || key == "" || strings.ContainsAny(key, " \t") {
		return "", false, fmt.Errorf("setter comment %q: %q must be a non-empty string without spaces", comment, SetterField)
	}
	return key, true, nil
}

// typed finds the pins that the kind of a document defines.
func (s *scanner) typed(root *yaml.Node) {
	apiVersion := scalar(get(root, "apiVersion"))
	kind := scalar(get(root, "kind"))
	name := scalar(get(root, "metadata", "name"))
	group, _, _ := strings.Cut(apiVersion, "/")
	spec := get(root, "spec")
	switch {
	case group == "helm.toolkit.fluxcd.io" && kind == "HelmRelease":
		chart := scalar(get(spec, "chart", "spec", "chart"))
		key := KindHelmRelease + "/" + name
		if chart != "" {
			key += "/" + chart
		}
		s.add(get(spec, "chart", "spec", "version"), key, KindHelmRelease, "spec.chart.spec.version", isFlow(spec, "chart", "spec"))
	case group == "source.toolkit.fluxcd.io" && (kind == KindOCIRepository || kind == KindGitRepository):
		for _, f := range []string{"tag", "semver", "digest", "commit"} {
			s.add(get(spec, "ref", f), kind+"/"+name+"/"+f, kind, "spec.ref."+f, isFlow(spec, "ref"))
		}
	case group == "source.toolkit.fluxcd.io" && kind == KindHelmChart:
		s.add(get(spec, "version"), KindHelmChart+"/"+name+"/version", KindHelmChart, "spec.version", isFlow(spec))
	case group == "fluxcd.controlplane.io" && kind == KindFluxInstance:
		s.add(get(spec, "distribution", "version"), KindFluxInstance+"/"+name, KindFluxInstance, "spec.distribution.version", isFlow(spec, "distribution"))
	case group == "kustomize.toolkit.fluxcd.io" && kind == "Kustomization":
		s.images(get(spec, "images"), "spec.images")
	case kind == "Kustomization" && (group == "kustomize.config.k8s.io" || apiVersion == ""),
		kind == "" && apiVersion == "" && isKustomizationFile(s.file):
		s.images(get(root, "images"), "images")
	}
}

func isKustomizationFile(p string) bool {
	switch path.Base(p) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

func (s *scanner) images(list *yaml.Node, field string) {
	if list == nil || list.Kind != yaml.SequenceNode {
		return
	}
	flow := list.Style&yaml.FlowStyle != 0
	for _, img := range list.Content {
		name := scalar(get(img, "name"))
		if name == "" {
			continue
		}
		f := flow || img.Style&yaml.FlowStyle != 0
		for _, k := range []string{"newName", "newTag", "digest"} {
			s.add(get(img, k), "image/"+name+"/"+k, KindImage, field+"[name="+name+"]."+k, f)
		}
	}
}

// get walks mapping keys from n; nil when a key is missing.
func get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// isFlow reports whether the mapping at keys under n (or any mapping on
// the way) is written in flow style.
func isFlow(n *yaml.Node, keys ...string) bool {
	if n == nil {
		return false
	}
	if n.Style&yaml.FlowStyle != 0 {
		return true
	}
	for i := range keys {
		if m := get(n, keys[:i+1]...); m != nil && m.Style&yaml.FlowStyle != 0 {
			return true
		}
	}
	return false
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
