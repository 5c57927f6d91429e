package helmrender

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"go.yaml.in/yaml/v3"
	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// originOnly reports whether helm-controller's post-rendering of hr is its
// origin labels alone: no spec.postRenderers, no commonMetadata.
func originOnly(hr *helmv2.HelmRelease) bool {
	return len(hr.Spec.PostRenderers) == 0 && hr.Spec.CommonMetadata == nil
}

// errNotPlain is why originObjects hands a release back to the kustomize
// post-renderer: something in its manifests that the fast path does not
// reproduce (an anchor or alias, an explicit tag, a List, an empty or
// duplicate object...).
var errNotPlain = errors.New("not a plain manifest")

// originObjects are the objects of r, rendered without a post-renderer,
// as helm-controller's origin-label post-renderer makes them, or
// errNotPlain when it cannot tell. That post-renderer is a kustomize
// resmap round trip (internal/postrender transform): each document is
// parsed by kyaml (YAML 1.2: `yes` and `on` stay strings, 0o17 is 15),
// turned into JSON by yaml.v3's Unmarshal and json.Marshal
// (Resource.AsYAML: 2001-12-14 becomes 2001-12-14T00:00:00Z, 1e3 1000),
// labelled and written back as YAML that reads as that JSON. For a manifest made of plain mappings and scalars,
// that is yaml.v3's decoding of each document, through JSON, plus the two
// labels. Anything else — anchors, aliases, merge keys, explicit tags,
// non-string keys, null list items, List kinds, a kustomize
// Kustomization, documents that are not a non-empty mapping with
// apiVersion, kind and metadata.name, two objects of one kind and name,
// in the manifests or the hooks — is errNotPlain:
// the caller renders again through kustomize, which decides.
func originObjects(r *helmrelease.Release, labels map[string]string) ([]*unstructured.Unstructured, error) {
	seen := map[objectID]bool{}
	for _, h := range r.Hooks {
		if _, err := plainObjects(h.Manifest, seen); err != nil {
			return nil, err
		}
	}
	objs, err := plainObjects(r.Manifest, seen)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		for k, v := range labels {
			l[k] = v
		}
		o.SetLabels(l)
	}
	return objs, nil
}

// objectID is kustomize's resource id, less the version and the
// namespace (coarser, so that a duplicate is never missed).
type objectID struct{ group, kind, name string }

// plainObjects decodes the documents of a Helm manifest stream ("---"
// lines between them, none inside one: Helm split them so).
func plainObjects(manifest string, seen map[objectID]bool) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, doc := range splitDocs(manifest) {
		d := yaml.NewDecoder(strings.NewReader(doc))
		var n yaml.Node
		if err := d.Decode(&n); err != nil {
			if err == io.EOF {
				continue
			}
			return nil, errNotPlain
		}
		var more yaml.Node
		if err := d.Decode(&more); err != io.EOF {
			return nil, errNotPlain
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) != 1 {
			return nil, errNotPlain
		}
		root := n.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // an empty document, which kyaml drops
		}
		if root.Kind != yaml.MappingNode || len(root.Content) == 0 || !plain(root) {
			return nil, errNotPlain
		}
		var m map[string]any
		if err := root.Decode(&m); err != nil {
			return nil, errNotPlain
		}
		v, ok := viaJSON(m)
		if !ok {
			return nil, errNotPlain
		}
		o := &unstructured.Unstructured{Object: v.(map[string]any)}
		gv, err := schema.ParseGroupVersion(o.GetAPIVersion())
		kind, name := o.GetKind(), o.GetName()
		if err != nil || o.GetAPIVersion() == "" || kind == "" || name == "" || strings.HasSuffix(kind, "List") || o.IsList() {
			return nil, errNotPlain
		}
		if _, ok := m["metadata"].(map[string]any); !ok {
			return nil, errNotPlain
		}
		if l, ok := m["metadata"].(map[string]any)["labels"]; ok {
			if _, isMap := l.(map[string]any); !isMap {
				return nil, errNotPlain
			}
		}
		id := objectID{gv.Group, kind, name}
		if seen[id] || !ssautil.IsKubernetesObject(o) || ssautil.IsKustomization(o) {
			return nil, errNotPlain
		}
		seen[id] = true
		objs = append(objs, o)
	}
	return objs, nil
}

// splitDocs splits Helm's manifest stream at its "---" lines.
func splitDocs(manifest string) []string {
	var docs []string
	for doc := range strings.SplitSeq("\n"+manifest, "\n---\n") {
		if strings.TrimSpace(doc) != "" {
			docs = append(docs, doc)
		}
	}
	return docs
}

// plain reports whether n holds only what the fast path reproduces:
// mappings with plain string keys, sequences without null items and
// scalars with their implicit tags; no anchor, alias or merge key.
func plain(n *yaml.Node) bool {
	if n.Anchor != "" || n.Kind == yaml.AliasNode || n.Style&yaml.TaggedStyle != 0 {
		return false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return true
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag != "!!str" || k.Anchor != "" || k.Style&yaml.TaggedStyle != 0 || !plain(n.Content[i+1]) {
				return false
			}
		}
		return true
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode && c.Tag == "!!null" || !plain(c) {
				return false
			}
		}
		return true
	}
	return false
}

// viaJSON is what v, decoded by yaml.v3, becomes through json.Marshal and
// the unstructured JSON decoding (the kustomize round trip's JSON, read as
// Kubernetes reads it), without the text: strings stay (invalid UTF-8 is
// refused: JSON would replace it), integers become int64 (float64 past
// its range), a whole float64 becomes the int64 of the digits
// json.Marshal writes for it when they fit (its shortest digits padded
// with zeros: 9223372036854774784.0 is 9223372036854775000), other floats
// stay, timestamps become their JSON string; NaN, infinities and any other
// type are refused.
func viaJSON(v any) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			c, ok := viaJSON(e)
			if !ok || !utf8.ValidString(k) {
				return nil, false
			}
			out[k] = c
		}
		return out, true
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			c, ok := viaJSON(e)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	case string:
		return t, utf8.ValidString(t)
	case bool, nil:
		return t, true
	case int:
		return int64(t), true
	case int64:
		return t, true
	case uint64:
		if t <= math.MaxInt64 {
			return int64(t), true
		}
		return float64(t), true
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, false
		}
		if t == math.Trunc(t) {
			// json.Marshal's text of a whole float below 1e21: its
			// shortest digits, padded with zeros.
			if i, err := strconv.ParseInt(strconv.FormatFloat(t, 'f', -1, 64), 10, 64); err == nil {
				return i, true
			}
		}
		return t, true
	case time.Time:
		b, err := t.MarshalJSON()
		if err != nil {
			return nil, false
		}
		var s string
		if json.Unmarshal(b, &s) != nil {
			return nil, false
		}
		return s, true
	}
	return nil, false
}
