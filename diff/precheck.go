package diff

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// unchangedLocally reports whether a server-side apply of desired by field
// manager on top of live is certain to change nothing, so that the server
// round trip can be skipped. It is conservative — any doubt returns false
// and the object goes to the server — and it never decides that something
// changed: every reported change is confirmed by a server dry-run.
//
// An apply changes nothing when (1) every field desired sets already has
// that value in live, and (2) every field the manager owns in live (its
// managedFields entry, an Apply at the same apiVersion) is still set by
// desired, so nothing would be removed.
func unchangedLocally(desired, live *unstructured.Unstructured, manager string) bool {
	return unchangedLocallyAs(desired, desired.Object, live, manager)
}

// unchangedLocallyAs is unchangedLocally where the fields the manager
// owns are looked up in applied — the apply configuration as sent, when
// desired is a normalized copy of it (a Secret's stringData, which the
// managed fields record, is data in desired).
func unchangedLocallyAs(desired *unstructured.Unstructured, applied map[string]any, live *unstructured.Unstructured, manager string) bool {
	if live == nil {
		return false
	}
	// The managedFields entries are read from the live object's map as
	// they are (live.GetManagedFields would convert each entry to a struct
	// and fieldsV1 back to JSON, only to decode it into the same map).
	md, _ := live.Object["metadata"].(map[string]any)
	entries, _ := md["managedFields"].([]any)
	var owned map[string]any
	for _, it := range entries {
		mf, ok := it.(map[string]any)
		if !ok {
			return false
		}
		m, _ := mf["manager"].(string)
		op, _ := mf["operation"].(string)
		sub, _ := mf["subresource"].(string)
		if m != manager || op != string(metav1.ManagedFieldsOperationApply) || sub != "" {
			continue
		}
		fields, ok := mf["fieldsV1"].(map[string]any)
		if av, _ := mf["apiVersion"].(string); av != desired.GetAPIVersion() || !ok || owned != nil {
			return false
		}
		owned = fields
	}
	if owned == nil {
		return false
	}
	// Both objects are only read: desired without status and without
	// metadata.creationTimestamp (set by the server; a built object carries
	// "creationTimestamp: null") is a shallow copy.
	d := make(map[string]any, len(desired.Object))
	for k, v := range desired.Object {
		if k != "status" {
			d[k] = v
		}
	}
	if dm, ok := d["metadata"].(map[string]any); ok {
		if _, has := dm["creationTimestamp"]; has {
			dm = maps.Clone(dm)
			delete(dm, "creationTimestamp")
			d["metadata"] = dm
		}
	}
	return subset(d, live.Object) && covered(owned, applied)
}

// subset reports whether every value in d is present and equal in l.
// Lists must have the same length and match element by element.
func subset(d, l any) bool {
	switch dv := d.(type) {
	case map[string]any:
		lv, ok := l.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range dv {
			lvv, ok := lv[k]
			if v == nil && (!ok || lvv == nil) {
				continue // null in the apply configuration sets nothing
			}
			if !ok || !subset(v, lvv) {
				return false
			}
		}
		return true
	case []any:
		lv, ok := l.([]any)
		if !ok || len(lv) != len(dv) {
			return false
		}
		for i := range dv {
			if !subset(dv[i], lv[i]) {
				return false
			}
		}
		return true
	}
	return scalarEqual(d, l)
}

func scalarEqual(a, b any) bool {
	if af, ok := number(a); ok {
		bf, ok := number(b)
		return ok && af == bf
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// covered reports whether every field in a managedFields fieldsV1 set is
// present in obj (so that applying obj would not remove it).
func covered(fields map[string]any, obj any) bool {
	for key, sub := range fields {
		if key == "." {
			continue
		}
		subFields, _ := sub.(map[string]any)
		switch {
		case strings.HasPrefix(key, "f:"):
			m, ok := obj.(map[string]any)
			if !ok {
				return false
			}
			v, ok := m[key[2:]]
			if !ok {
				return false
			}
			if len(subFields) > 0 && !covered(subFields, v) {
				return false
			}
		case strings.HasPrefix(key, "k:"):
			var k map[string]any
			if err := json.Unmarshal([]byte(key[2:]), &k); err != nil {
				return false
			}
			item := findKeyed(obj, k)
			if item == nil || (len(subFields) > 0 && !covered(subFields, item)) {
				return false
			}
		case strings.HasPrefix(key, "v:"):
			var want any
			if err := json.Unmarshal([]byte(key[2:]), &want); err != nil {
				return false
			}
			list, ok := obj.([]any)
			if !ok || !containsValue(list, want) {
				return false
			}
		case strings.HasPrefix(key, "i:"):
			i, err := strconv.Atoi(key[2:])
			list, ok := obj.([]any)
			if err != nil || !ok || i >= len(list) {
				return false
			}
			if len(subFields) > 0 && !covered(subFields, list[i]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func findKeyed(obj any, key map[string]any) any {
	list, ok := obj.([]any)
	if !ok {
		return nil
	}
	for _, it := range list {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		match := true
		for k, v := range key {
			if !scalarEqual(v, m[k]) && fmt.Sprint(v) != fmt.Sprint(m[k]) {
				match = false
				break
			}
		}
		if match {
			return m
		}
	}
	return nil
}

func containsValue(list []any, want any) bool {
	for _, v := range list {
		if scalarEqual(v, want) {
			return true
		}
	}
	return false
}
