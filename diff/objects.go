package diff

import (
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// toYAML renders an object for the diff without the fields that always
// differ or mean nothing to the reader.
func toYAML(u *unstructured.Unstructured) string {
	if u == nil {
		return ""
	}
	c := u.DeepCopy()
	for _, f := range [][]string{
		{"metadata", "managedFields"}, {"metadata", "resourceVersion"}, {"metadata", "uid"},
		{"metadata", "generation"}, {"metadata", "creationTimestamp"}, {"status"},
		{"metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"},
	} {
		unstructured.RemoveNestedField(c.Object, f...)
	}
	if a, ok, _ := unstructured.NestedMap(c.Object, "metadata", "annotations"); ok && len(a) == 0 {
		unstructured.RemoveNestedField(c.Object, "metadata", "annotations")
	}
	b, err := yaml.Marshal(c.Object)
	if err != nil {
		return fmt.Sprintf("# cannot render: %v\n", err)
	}
	return string(b)
}

// Masked is what Secret values are replaced with.
const Masked = "***"

// ssaMarks are the masks fluxcd/pkg/ssa's Diff puts on Secret values
// (changed values are told apart as before/after); mask keeps them.
var ssaMarks = map[string]bool{Masked: true, Masked + " (before)": true, Masked + " (after)": true}

// objectDiff is the unified diff of live and merged ("" for none of
// them) as the report shows it: rendered by toYAML, Secret values masked.
func objectDiff(live, merged *unstructured.Unstructured) string {
	return Unified(toYAML(mask(live)), toYAML(mask(merged)), "live", "merged")
}

// mask replaces the values of a Secret's data and stringData with Masked,
// keeping ssa's "*** (before)"/"*** (after)" marks of changed keys (only
// those exact marks: a value that merely starts with "***" is masked).
func mask(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u == nil || u.GetKind() != "Secret" || u.GroupVersionKind().Group != "" {
		return u
	}
	c := u.DeepCopy()
	for _, field := range []string{"data", "stringData"} {
		m, ok, _ := unstructured.NestedMap(c.Object, field)
		if !ok {
			continue
		}
		for k, v := range m {
			if s, _ := v.(string); ssaMarks[s] {
				continue
			}
			m[k] = Masked
		}
		_ = unstructured.SetNestedMap(c.Object, m, field)
	}
	return c
}

// cleanError is an error's message as reported on an object: the server's
// message as client-go and ssa wrap it, without surrounding whitespace.
func cleanError(err error) string {
	return strings.TrimSpace(err.Error())
}

// RefusalHint ends the error of an object whose dry-run or read the
// cluster refused to the identity diff runs as (not to a service account
// it impersonates for Flux): the server's message names the verb and the
// resource, this says what to do about it.
const RefusalHint = `the identity diff runs as lacks this right: a kind or namespace new to the fleet (this change brings it) needs rights that "kubectl c5c3 rbac diff" did not print, as it reads the fleet as reconciled — grant that verb on that resource to the identity, or re-run "kubectl c5c3 rbac diff" (--cluster NAME for a spoke) once the change is reconciled and apply its output`

// objectError is cleanError with RefusalHint for a refusal of the
// identity diff runs as on cc.
func objectError(err error, cc *clusterClients) string {
	msg := cleanError(err)
	if apierrors.IsForbidden(err) && cc.serviceAccount == "" {
		msg += "; " + RefusalHint
	}
	return msg
}
