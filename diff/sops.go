package diff

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// sopsMarker is set by the Builder on objects holding SOPS-encrypted data
// that kustomize-controller decrypts (and that the Builder did not): its
// value is the form (sopsForm). The engine skips them, naming the form;
// they never reach a server.
const sopsMarker = "diff.c5c3.cobaltcore.io/sops-encrypted"

// sopsMarkers are the byte sequences kustomize-controller's decryptor
// (internal/decryptor sopsFormatToMarkerBytes) looks for in a Secret's data
// values and in generator inputs to tell a SOPS document and its format,
// in the order they are tried here (JSON and binary share one).
var sopsMarkers = []struct{ format, marker string }{
	{"YAML", "mac: ENC["},
	{"JSON", `"mac": "ENC[`},
	{"dotenv", "sops_mac=ENC["},
	{"INI", "[sops]"},
}

// sopsDocument returns the format of the SOPS document in b ("" for none).
func sopsDocument(b []byte) string {
	for _, m := range sopsMarkers {
		if bytes.Contains(b, []byte(m.marker)) {
			return m.format
		}
	}
	return ""
}

// encryptedValue matches a value SOPS encrypted on its own:
// ENC[AES256_GCM,data:...,type:str].
var encryptedValue = regexp.MustCompile(`^ENC\[AES256_GCM,data:.*,type:[a-z]+\]$`)

// sopsForm names how obj carries SOPS-encrypted data kustomize-controller
// decrypts when the Kustomization has spec.decryption
// (decryptor.DecryptResource and DecryptSources), or "" when it carries
// none:
//   - a resource of any kind with SOPS metadata (a top-level "sops" field;
//     a Secret with one is refused by the controller without decryption);
//   - a Secret whose data value is a whole SOPS document (YAML, JSON,
//     dotenv, INI or binary), e.g. from a secretGenerator "files" input;
//   - a Secret generated from a SOPS-encrypted env file (secretGenerator
//     "envs"): its data holds the file's sops_* keys and ENC[...] values.
func sopsForm(obj *unstructured.Unstructured) string {
	if s, ok := obj.Object["sops"]; ok && s != nil {
		return fmt.Sprintf("SOPS-encrypted %s (sops metadata)", obj.GetKind())
	}
	if obj.GetKind() != "Secret" || obj.GetAPIVersion() != "v1" {
		return ""
	}
	data, _, _ := unstructured.NestedStringMap(obj.Object, "data")
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b, err := base64.StdEncoding.DecodeString(data[k])
		if err != nil {
			continue
		}
		if f := sopsDocument(b); f != "" {
			if f == "JSON" && formatForPath(k) == formats.Binary {
				// The binary store's documents are JSON; the controller
				// decrypts by the key's extension.
				f = "binary"
			}
			return fmt.Sprintf("data key %q holds a SOPS-encrypted %s document", k, f)
		}
	}
	for _, k := range keys {
		b, _ := base64.StdEncoding.DecodeString(data[k])
		if k == "sops_mac" || encryptedValue.Match(bytes.TrimSpace(b)) {
			return fmt.Sprintf("generated from a SOPS-encrypted env file (data key %q)", k)
		}
	}
	return ""
}

// markSOPS sets sopsMarker, with the reason the object is skipped (its
// form, then why), on the objects sopsForm recognises — before
// normalisation, which drops the top-level "sops" field. What is left is
// what kustomize-controller would decrypt (the Kustomization has
// spec.decryption) and the Builder did not. Without spec.decryption the
// controller applies such objects as they are, and so are they diffed,
// except a v1 Secret with SOPS metadata, which it refuses to apply.
// Objects annotated kustomize.toolkit.fluxcd.io/decrypt: disabled are
// never decrypted nor refused: the controller applies their ciphertext,
// and so are they diffed.
func markSOPS(objects []*unstructured.Unstructured, ks *kustomizev1.Kustomization, why string) {
	for _, o := range objects {
		form := sopsForm(o)
		if form == "" {
			continue
		}
		if strings.EqualFold(o.GetAnnotations()[kustomizev1.GroupVersion.Group+"/decrypt"], kustomizev1.DisabledValue) {
			// Neither decrypted nor refused (decryptor.IsDecryptionDisabled
			// in DecryptResource and apply): applied as it is.
			continue
		}
		_, hasMetadata := o.Object["sops"]
		refused := hasMetadata && o.GetKind() == "Secret" && o.GetAPIVersion() == "v1"
		if ks.Spec.Decryption == nil && !refused {
			continue
		}
		a := o.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[sopsMarker] = form + ": " + why
		o.SetAnnotations(a)
	}
}

// generatedName matches the suffix kustomize's generators add to a name:
// "-" and ten characters of the content hash.
var generatedName = regexp.MustCompile(`^(.+)-[a-z0-9]{10}$`)

// sopsGenerated returns, for the SOPS-marked objects among objects whose
// name carries a generator's hash suffix, "kind/namespace/base name": their
// hash comes from the ciphertext, not the plaintext kustomize-controller
// builds from, so the live object has another name and must not be
// reported deleted.
func sopsGenerated(objects []*unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	for _, o := range objects {
		if o.GetAnnotations()[sopsMarker] == "" {
			continue
		}
		if m := generatedName.FindStringSubmatch(o.GetName()); m != nil {
			out[o.GetKind()+"/"+o.GetNamespace()+"/"+m[1]] = true
		}
	}
	return out
}
