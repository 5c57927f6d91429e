package diff

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FuzzUnified: the diff of two texts is empty exactly when they are equal,
// and its "-"/" " lines are the old text and its "+"/" " lines the new one,
// in order, wherever a hunk shows them.
func FuzzUnified(f *testing.F) {
	f.Add("a: 1\nb: 2\n", "a: 1\nb: 3\n")
	f.Add("", "kind: ConfigMap\n")
	f.Add("x\ny\nz\n1\n2\n3\n4\n5\n6\n7\n8\n9\n", "x\nY\nz\n1\n2\n3\n4\n5\n6\n7\n8\nNINE\n")
	f.Fuzz(func(t *testing.T, from, to string) {
		out := Unified(from, to, "live", "merged")
		if (out == "") != (from == to) {
			t.Fatalf("Unified(%q, %q) = %q", from, to, out)
		}
		if out == "" {
			return
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if lines[0] != "--- live" || lines[1] != "+++ merged" || !strings.HasPrefix(lines[2], "@@ -") {
			t.Fatalf("header of %q", out)
		}
		a, b := splitLines(from), splitLines(to)
		ai, bi := 0, 0
		for _, l := range lines[2:] {
			if strings.HasPrefix(l, "@@ ") {
				var as, al, bs, bl int
				if _, err := fmt.Sscanf(l, "@@ -%d,%d +%d,%d @@", &as, &al, &bs, &bl); err != nil {
					t.Fatalf("hunk header %q: %v", l, err)
				}
				ai, bi = max(as-1, 0), max(bs-1, 0)
				if al == 0 {
					ai = as
				}
				if bl == 0 {
					bi = bs
				}
				continue
			}
			op, text := l[0], l[1:]
			if op == ' ' || op == '-' {
				if ai >= len(a) || a[ai] != text {
					t.Fatalf("line %q is not old line %d of %q\n%s", l, ai+1, from, out)
				}
				ai++
			}
			if op == ' ' || op == '+' {
				if bi >= len(b) || b[bi] != text {
					t.Fatalf("line %q is not new line %d of %q\n%s", l, bi+1, to, out)
				}
				bi++
			}
			if op != ' ' && op != '-' && op != '+' {
				t.Fatalf("line %q has no +/-/space mark", l)
			}
		}
	})
}

// FuzzSecretMasking: no value of a Secret's data or stringData reaches the
// rendered diff, whatever the value (also one that starts like a mask),
// and a ConfigMap's values are shown.
func FuzzSecretMasking(f *testing.F) {
	f.Add("password", "hunter2-hunter2", "token", "***leaked-token")
	f.Add("ca.crt", "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t", "x", "*** (before) secret")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		secret := func(data, stringData string) *unstructured.Unstructured {
			return &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Secret",
				"metadata":   map[string]any{"name": "creds", "namespace": "keystone"},
				"data":       map[string]any{k1: data},
				"stringData": map[string]any{k2: stringData},
			}}
		}
		live, merged := secret(v1, v2), secret(v2, v1)
		for _, out := range []string{objectDiff(live, merged), objectDiff(nil, merged), objectDiff(live, nil)} {
			for _, v := range []string{v1, v2} {
				if !strings.Contains(k1+k2, v) && secretValueShown(out, v) {
					t.Fatalf("Secret value %q in the diff:\n%s", v, out)
				}
			}
		}
	})
}

// secretValueShown reports whether a value that is not a mask and could
// not appear in the YAML otherwise is in the output.
func secretValueShown(out, v string) bool {
	if len(v) < 8 || ssaMarks[v] || !strings.ContainsFunc(v, func(r rune) bool { return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' }) {
		return false // short values occur in any YAML by chance
	}
	for _, fixed := range []string{"apiVersion: v1", "kind: Secret", "metadata:", "name: creds", "namespace: keystone", "stringData:", "data:", "--- live", "+++ merged", Masked} {
		if strings.Contains(fixed, v) {
			return false
		}
	}
	return strings.Contains(out, v)
}
