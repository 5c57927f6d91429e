package resourceset

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	sprig "github.com/go-task/slim-sprig/v3"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8syaml "sigs.k8s.io/yaml"
)

// The template delimiters of a ResourceSet.
const (
	LeftDelim  = "<<"
	RightDelim = ">>"
)

// render executes one template text for one input set: `inputs` is a
// function giving the set, the functions are slim-sprig's, slugify and
// toYaml (slim-sprig has none; the documentation's examples use it),
// and a field the set lacks is an error (get + default reads an optional
// one).
func render(name, text string, inputs map[string]any) (string, error) {
	funcs := sprig.TxtFuncMap()
	funcs["slugify"] = Slugify
	funcs["toYaml"] = toYaml
	funcs["inputs"] = func() map[string]any { return inputs }
	t, err := template.New(name).Delims(LeftDelim, RightDelim).Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := t.Execute(&out, nil); err != nil {
		return "", err
	}
	return out.String(), nil
}

// resourceText is the YAML a spec.resources entry is templated as: the
// object on its own, top-level keys at column 0, so nindent counts from
// there.
func resourceText(res map[string]any) (string, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(res); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// parseObjects reads the rendered YAML documents; empty ones are skipped.
func parseObjects(text string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for i, doc := range docSeparator.Split(text, -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		js, err := k8syaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if string(js) == "null" {
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		out = append(out, obj)
	}
	return out, nil
}

var notLabelValue = regexp.MustCompile(`[^a-z0-9]+`)

// Slugify is the template function the operator adds to slim-sprig: it
// makes a string a valid Kubernetes label value (lower case alphanumerics
// and dashes, at most 63 characters, starting and ending alphanumeric).
func Slugify(s string) string {
	s = notLabelValue.ReplaceAllString(strings.ToLower(s), "-")
	s = strings.Trim(s, "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// toYaml is Helm's: the YAML of v without its final newline.
func toYaml(v any) (string, error) {
	b, err := k8syaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}
