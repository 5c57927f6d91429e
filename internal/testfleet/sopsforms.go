package testfleet

import (
	"encoding/base64"
	"os"
	"path/filepath"
)

// SOPSFormsPlaintexts are the keys of the plaintexts SOPSFormsTree
// encrypts: "patch" (the PGP-encrypted patch of a Secret), "config" (the
// age-encrypted patch of a ConfigMap), "subst" (a SOPS Secret whose value
// holds a postBuild variable), "disabled" and "document" (SOPS data under
// the decrypt: disabled annotation).
var SOPSFormsPlaintexts = []string{"patch", "config", "subst", "disabled", "document"}

// SOPSFormsTree writes, under dir, a gitops tree with the SOPS forms of
// kustomize-controller that meet kustomize patches, the decrypt: disabled
// annotation and postBuild substitution; plain holds the secret values
// (SOPSFormsPlaintexts). The Kustomization rules-sops-forms (namespace
// flux-system, path ./apps/sopsforms, spoke control-plane, decryption
// with the Secret sops-age holding key and pgpKey, postBuild variable
// cluster_name=control-plane) builds:
//   - Secret app-credentials, a plain Secret patched by
//     credentials-patch.yaml, a strategic-merge patch encrypted with SOPS
//     for the PGP key (the controller decrypts patch files before the
//     build);
//   - ConfigMap settings, patched by settings-patch.yaml, encrypted for
//     the age key, whose value holds ${cluster_name};
//   - Secret sops-subst, a Secret with SOPS metadata whose encrypted value
//     holds ${cluster_name}: the controller decrypts each resource before
//     it substitutes, so the variable is replaced in the plaintext;
//   - Secret sops-disabled, with SOPS metadata, and Secret
//     sops-disabled-document, whose data value is a SOPS JSON document,
//     both annotated kustomize.toolkit.fluxcd.io/decrypt: disabled: the
//     controller neither decrypts nor refuses them, it applies the
//     ciphertext.
func SOPSFormsTree(dir string, key *AgeKey, pgpKey *PGPKey, plain map[string]string) error {
	age := func(p, format, regex string) ([]byte, error) {
		return EncryptSOPS([]byte(p), format, key.Recipient, regex)
	}
	files := map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - sops-forms.yaml\n",
		"clusters/management/sops-forms.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: rules-sops-forms
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/sopsforms
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  kubeConfig:
    secretRef:
      name: control-plane-kubeconfig
  decryption:
    provider: sops
    secretRef:
      name: sops-age
  postBuild:
    substitute:
      cluster_name: control-plane
`,
		"apps/sopsforms/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: flux-system
resources:
  - namespace.yaml
  - app-credentials.yaml
  - settings.yaml
  - subst-secret.yaml
  - disabled-secret.yaml
  - disabled-document.yaml
patches:
  - path: credentials-patch.yaml
  - path: settings-patch.yaml
`,
		"apps/sopsforms/namespace.yaml":       "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n",
		"apps/sopsforms/app-credentials.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-credentials\nstringData:\n  user: admin\n",
		"apps/sopsforms/settings.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: plain\n",
	}
	enc := map[string]func() ([]byte, error){
		"apps/sopsforms/credentials-patch.yaml": func() ([]byte, error) {
			return pgpKey.EncryptSOPS([]byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-credentials\nstringData:\n  password: "+plain["patch"]+"\n"), "yaml", "^(data|stringData)$")
		},
		"apps/sopsforms/settings-patch.yaml": func() ([]byte, error) {
			return age("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  endpoint: https://${cluster_name}.example/"+plain["config"]+"\n", "yaml", "^(data|stringData)$")
		},
		"apps/sopsforms/subst-secret.yaml": func() ([]byte, error) {
			return age("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-subst\nstringData:\n  url: https://${cluster_name}.db.example/"+plain["subst"]+"\n", "yaml", "^(data|stringData)$")
		},
		"apps/sopsforms/disabled-secret.yaml": func() ([]byte, error) {
			return age("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-disabled\n  annotations:\n    kustomize.toolkit.fluxcd.io/decrypt: disabled\nstringData:\n  password: "+plain["disabled"]+"\n", "yaml", "^(data|stringData)$")
		},
		"apps/sopsforms/disabled-document.yaml": func() ([]byte, error) {
			doc, err := age(`{"key": "`+plain["document"]+`"}`, "json", "")
			if err != nil {
				return nil, err
			}
			return []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-disabled-document\n  annotations:\n    kustomize.toolkit.fluxcd.io/decrypt: disabled\ndata:\n  settings.json: " +
				base64.StdEncoding.EncodeToString(doc) + "\n"), nil
		},
	}
	for name, fn := range enc {
		b, err := fn()
		if err != nil {
			return err
		}
		files[name] = string(b)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
