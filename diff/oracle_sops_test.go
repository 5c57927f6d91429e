package diff_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestBuilderMatchesControllerSOPS: the Builder with decryption and the
// controller-style build, which decrypts with the SOPS library as
// kustomize-controller does (not with the diff package), agree on a tree
// with every SOPS form (a Secret with SOPS metadata for an age and for a
// PGP key, secretGenerator files in YAML and binary, an env file, a Secret
// whose data value is a SOPS JSON document). Neither build is printed: a
// difference names the objects only, so no plaintext reaches the log.
func TestBuilderMatchesControllerSOPS(t *testing.T) {
	f := testfleet.Get(t)
	key, err := testfleet.NewAgeKey()
	if err != nil {
		t.Fatal(err)
	}
	pgpKey, err := testfleet.NewPGPKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pgpKey.Close)
	plain := map[string]string{"resource": "oracle-resource-pw-1a2b", "files": "oracle-files-tok-3c4d", "binary": "oracle-binary-5e6f",
		"env": "oracle-env-7a8b", "document": "oracle-document-9c0d", "pgp": "oracle-pgp-1e2f"}
	enc := func(p, format, regex string) string {
		b, err := testfleet.EncryptSOPS([]byte(p), format, key.Recipient, regex)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	pgpSecret, err := pgpKey.EncryptSOPS([]byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: oracle-pgp\n  namespace: flux-system\nstringData:\n  password: "+plain["pgp"]+"\n"), "yaml", "^(data|stringData)$")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"clusters/management/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - sops.yaml\n",
		"clusters/management/sops.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: rules-sops
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/sops
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  decryption:
    provider: sops
    secretRef:
      name: sops-keys
`,
		"apps/sops/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: flux-system
resources:
  - secret.yaml
  - pgp-secret.yaml
  - document-secret.yaml
secretGenerator:
  - name: from-files
    files:
      - config.yaml
      - tls.key
  - name: from-env
    envs:
      - app.env
`,
		"apps/sops/secret.yaml":     enc("apiVersion: v1\nkind: Secret\nmetadata:\n  name: oracle-resource\n  namespace: flux-system\nstringData:\n  password: "+plain["resource"]+"\n", "yaml", "^(data|stringData)$"),
		"apps/sops/pgp-secret.yaml": string(pgpSecret),
		"apps/sops/config.yaml":     enc("token: "+plain["files"]+"\n", "yaml", ""),
		"apps/sops/tls.key":         enc(plain["binary"]+"\n", "binary", ""),
		"apps/sops/app.env":         enc("API_KEY="+plain["env"]+"\n", "dotenv", ""),
		"apps/sops/document-secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: oracle-document\ndata:\n  settings.json: " +
			base64.StdEncoding.EncodeToString([]byte(enc(`{"key": "`+plain["document"]+`"}`, "json", ""))) + "\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	all := checkBuilderMatchesOracleSOPS(t, f, dir, "rules-sops", "sops-keys",
		map[string][]byte{"age.agekey": []byte(key.Identity), "pgp.asc": []byte(pgpKey.Armored)})
	for k, v := range plain {
		if !strings.Contains(all, v) {
			t.Errorf("the controller build does not hold the %s plaintext: the oracle did not decrypt it", k)
		}
	}
}

// TestBuilderMatchesControllerSOPSForms: on the SOPS forms that meet
// kustomize and postBuild (testfleet.SOPSFormsTree: SOPS patch files for
// a PGP and an age key, a SOPS Secret whose plaintext holds a postBuild
// variable, SOPS data under the decrypt: disabled annotation), the
// Builder with decryption and the controller-style build agree; the
// oracle decrypted the patches and substituted the variable in the
// plaintext (decrypt, then substitute, per resource), and left the
// disabled data encrypted.
func TestBuilderMatchesControllerSOPSForms(t *testing.T) {
	f := testfleet.Get(t)
	key, err := testfleet.NewAgeKey()
	if err != nil {
		t.Fatal(err)
	}
	pgpKey, err := testfleet.NewPGPKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pgpKey.Close)
	plain := map[string]string{}
	for _, k := range testfleet.SOPSFormsPlaintexts {
		plain[k] = "oracle-forms-" + k + "-4b7e"
	}
	dir := t.TempDir()
	if err := testfleet.SOPSFormsTree(dir, key, pgpKey, plain); err != nil {
		t.Fatal(err)
	}
	all := checkBuilderMatchesOracleSOPS(t, f, dir, "rules-sops-forms", "sops-age",
		map[string][]byte{"age.agekey": []byte(key.Identity), "pgp.asc": []byte(pgpKey.Armored)})
	for _, k := range []string{"patch", "config", "subst"} {
		if !strings.Contains(all, plain[k]) {
			t.Errorf("the controller build does not hold the %s plaintext: the oracle did not decrypt it", k)
		}
	}
	if !strings.Contains(all, "https://control-plane.db.example/"+plain["subst"]) {
		t.Error("the oracle did not substitute ${cluster_name} in the decrypted sops-subst (values not printed)")
	}
	for _, k := range []string{"disabled", "document"} {
		if strings.Contains(all, plain[k]) {
			t.Errorf("the %s plaintext is in the controller build: the oracle decrypted an object annotated decrypt: disabled", k)
		}
	}
}

// checkBuilderMatchesOracleSOPS builds the Kustomization name of the
// tree in dir with the Builder (decrypting) and with the controller-style
// build, after creating the decryption Secret secret with data in the
// hub, and compares them without printing either. It returns the
// oracle's rendering with its Secrets' data decoded, for the caller to
// check what the oracle decrypted (never printed either).
func checkBuilderMatchesOracleSOPS(t *testing.T, f *testfleet.Fleet, dir, name, secret string, data map[string][]byte) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := testfleet.Namespace(t)
	if err := f.Hub.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	if err := f.Hub.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: ns},
		Data:       data,
	}); err != nil {
		t.Fatal(err)
	}
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: ns, NoFluxReport: true, Source: dir})
	if err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{}
	if err := f.Hub.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, ks); err != nil {
		t.Fatal(err)
	}
	b, err := diff.NewBuilder(s.RepoDir, f.Hub.Client, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.WithDecrypt().Build(ctx, ks)
	if err != nil {
		t.Fatalf("Builder: %v", err)
	}
	// The Builder marks what it decrypted (so that its diff is masked);
	// the marker is never applied.
	for _, o := range got {
		a := o.GetAnnotations()
		delete(a, "diff.c5c3.cobaltcore.io/sops-decrypted")
		if len(a) == 0 {
			a = nil
		}
		o.SetAnnotations(a)
	}
	want, err := s.Build(ctx, ks)
	if err != nil {
		t.Fatalf("controller build: %v", err)
	}
	g, w := render(t, got), render(t, want)
	var decoded strings.Builder
	for _, o := range want {
		data, _, _ := unstructured.NestedStringMap(o.Object, "data")
		for _, v := range data {
			b, _ := base64.StdEncoding.DecodeString(v)
			decoded.Write(b)
		}
	}
	if g != w {
		names := func(s string) map[string]string {
			out := map[string]string{}
			for _, doc := range strings.Split(s, "---\n")[1:] {
				var id string
				for _, l := range strings.Split(doc, "\n") {
					if strings.HasPrefix(l, "kind: ") || strings.HasPrefix(l, "  name: ") {
						id += strings.TrimSpace(l) + " "
					}
				}
				out[id] = doc
			}
			return out
		}
		gn, wn := names(g), names(w)
		for id, doc := range wn {
			if gn[id] != doc {
				t.Errorf("%s: the Builder's object differs from the controller's (values not printed): Builder %v, controller %v", id, fieldNames(gn[id]), fieldNames(doc))
			}
		}
		for id := range gn {
			if _, ok := wn[id]; !ok {
				t.Errorf("%s: built by the Builder only", id)
			}
		}
	}
	return w + decoded.String()
}

// fieldNames are the field names of a rendered object, without values.
func fieldNames(doc string) []string {
	var out []string
	for _, l := range strings.Split(doc, "\n") {
		if i := strings.Index(l, ":"); i > 0 {
			out = append(out, l[:i])
		}
	}
	return out
}
