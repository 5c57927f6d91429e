package diff

import (
	"encoding/base64"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestSOPSForm: the forms are told apart, and plain objects are not taken
// for SOPS ones. (Real SOPS documents, encrypted with a real age key, are
// checked against kustomize-controller in plugin's TestE2ESOPS.)
func TestSOPSForm(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	secret := func(data map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"}, "data": data}}
	}
	withMeta := secret(map[string]any{"a": b64("x")})
	withMeta.Object["sops"] = map[string]any{"mac": "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]"}
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"},
		"data": map[string]any{"a": "mac: ENC[x]"}, "sops": map[string]any{"mac": "ENC[x]"}}}
	for _, tc := range []struct {
		name string
		obj  *unstructured.Unstructured
		want string
	}{
		{"plain Secret", secret(map[string]any{"a": b64("password"), "sops_note": b64("not encrypted")}), ""},
		{"Secret with SOPS metadata", withMeta, "SOPS-encrypted Secret (sops metadata)"},
		{"any kind with SOPS metadata", cm, "SOPS-encrypted ConfigMap (sops metadata)"},
		{"YAML document", secret(map[string]any{"config.yaml": b64("token: ENC[...]\nsops:\n    mac: ENC[AES256_GCM,data:x]\n")}), `data key "config.yaml" holds a SOPS-encrypted YAML document`},
		{"JSON document", secret(map[string]any{"s.json": b64(`{"sops": {"mac": "ENC[AES256_GCM,data:x]"}}`)}), "JSON document"},
		{"dotenv document", secret(map[string]any{"app.env": b64("A=ENC[x]\nsops_mac=ENC[AES256_GCM,data:x]\n")}), "dotenv document"},
		{"INI document", secret(map[string]any{"db.ini": b64("[db]\npw = ENC[x]\n\n[sops]\nmac = ENC[x]\n")}), "INI document"},
		{"generated from an env file", secret(map[string]any{"API_KEY": b64("ENC[AES256_GCM,data:Zm9v,iv:YmFy,tag:YmF6,type:str]")}), "generated from a SOPS-encrypted env file"},
		{"not base64", secret(map[string]any{"a": "%%%"}), ""},
	} {
		got := sopsForm(tc.obj)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: sopsForm = %q, want %q", tc.name, got, tc.want)
		}
	}
}
