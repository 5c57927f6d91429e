package plugin

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// sopsPlaintexts are the secret values of the SOPS fixture; none may ever
// appear in diff's output.
var sopsPlaintexts = map[string]string{
	"resource": "c5c3-resource-pw-7f3a91",
	"files":    "c5c3-files-token-2b8e44",
	"ini":      "c5c3-ini-pw-91c0d2",
	"env":      "c5c3-env-key-5e17a3",
	"document": "c5c3-document-key-c4d9b0",
	"binary":   "c5c3-binary-cert-8d2f61",
	"pgp":      "c5c3-pgp-pw-6a0e3b",
}

// sopsGitops writes a gitops tree with every form kustomize-controller
// decrypts, encrypted with SOPS for key: a Secret with SOPS metadata,
// secretGenerator files (YAML, INI) and envs (dotenv) that are SOPS
// documents, a secretGenerator files entry that is a SOPS binary file
// (tls.key: any other extension is binary to the controller), and a
// Secret whose data value is a whole SOPS JSON document, all for the age
// key; and a Secret with SOPS metadata for the PGP key pgpKey.
// The Kustomization rules-sops applies them to the control-plane spoke and
// decrypts with the hub Secret sops-age (both keys).
func sopsGitops(t *testing.T, key *testfleet.AgeKey, pgpKey *testfleet.PGPKey, p map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	enc := func(plain, format, regex string) string {
		b, err := testfleet.EncryptSOPS([]byte(plain), format, key.Recipient, regex)
		must(t, err)
		return string(b)
	}
	pgpSecret, err := pgpKey.EncryptSOPS([]byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-pgp\n  namespace: flux-system\nstringData:\n  password: "+p["pgp"]+"\n"), "yaml", "^(data|stringData)$")
	must(t, err)
	document := enc(`{"key": "`+p["document"]+`"}`, "json", "")
	files := map[string]string{
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
  kubeConfig:
    secretRef:
      name: control-plane-kubeconfig
  decryption:
    provider: sops
    secretRef:
      name: sops-age
`,
		"apps/sops/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: flux-system
resources:
  - namespace.yaml
  - secret.yaml
  - document-secret.yaml
  - pgp-secret.yaml
secretGenerator:
  - name: from-files
    files:
      - config.yaml
      - db.ini
  - name: from-env
    envs:
      - app.env
  - name: from-binary
    files:
      - tls.key
`,
		"apps/sops/secret.yaml":     enc("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-resource\n  namespace: flux-system\nstringData:\n  password: "+p["resource"]+"\n", "yaml", "^(data|stringData)$"),
		"apps/sops/pgp-secret.yaml": string(pgpSecret),
		"apps/sops/namespace.yaml":  "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n",
		"apps/sops/config.yaml":     enc("token: "+p["files"]+"\n", "yaml", ""),
		"apps/sops/db.ini":          enc("[db]\npassword = "+p["ini"]+"\n", "ini", ""),
		"apps/sops/app.env":         enc("API_KEY="+p["env"]+"\n", "dotenv", ""),
		"apps/sops/tls.key":         enc("-----BEGIN KEY-----\n"+p["binary"]+"\n-----END KEY-----\n", "binary", ""),
		"apps/sops/document-secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-document\n  namespace: flux-system\ndata:\n  settings.json: " +
			base64.StdEncoding.EncodeToString([]byte(document)) + "\n",
	}
	for name, content := range files {
		writeFile(t, dir, name, content)
	}
	return dir
}

// TestE2ESOPS checks SOPS handling against the real kustomize-controller,
// which decrypts the fixture with a real age key and applies it to a
// spoke: without --decrypt every
// encrypted object is skipped, naming its form, and no generated Secret
// is reported deleted; with --decrypt the Builder's objects are the
// controller's inventory (generated names hashed from the plaintext) and
// diff is clean; a changed SOPS Secret gives a masked diff, and no
// plaintext appears in any output format; a wrong key and a corrupt SOPS
// file are errors naming the Secret and the file.
func TestE2ESOPS(t *testing.T) {
	if !testing.Short() {
		if _, err := testfleet.FluxBinDir(); err != nil {
			t.Fatal(err)
		}
	}
	key, err := testfleet.NewAgeKey()
	must(t, err)
	pgpKey, err := testfleet.NewPGPKey()
	must(t, err)
	t.Cleanup(pgpKey.Close)
	source := sopsGitops(t, key, pgpKey, sopsPlaintexts)
	s := loadLiveSample(t, testfleet.SampleOptions{Source: source}, []string{"flux-system", "rules-sops"}, func(ns string) {
		must(t, testfleet.Get(t).Hub.Client.Create(ctx(t), &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "sops-age", Namespace: ns},
			Data:       map[string][]byte{"identity.agekey": []byte(key.Identity), "pgp.asc": []byte(pgpKey.Armored)},
		}))
	})
	hub := s.Fleet.Hub.Client
	live := &corev1.Secret{}
	must(t, s.Fleet.Spokes["control-plane"].Client.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: "sops-resource"}, live))
	if string(live.Data["password"]) != sopsPlaintexts["resource"] {
		t.Fatal("the controller did not decrypt the fixture") // value not printed
	}
	must(t, s.Fleet.Spokes["control-plane"].Client.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: "sops-pgp"}, live))
	if string(live.Data["password"]) != sopsPlaintexts["pgp"] {
		t.Fatal("the controller did not decrypt the PGP-encrypted Secret") // value not printed
	}
	checkInventoryIsBuild(t, s, true)
	flags := []string{"--kubeconfig", s.Fleet.HubKubeconfig, "-n", s.Namespace, "--flux-namespace", s.Namespace, "--color", "never", "--helm=false"}

	// Without --decrypt: skipped, each with its form; nothing deleted.
	r := run(t, diffArgs(s.Sample, flags, "-o", "json")...)
	res := decodeDiff(t, r.stdout)
	wantExit(t, "diff without --decrypt", r, 0)
	if res.Summary.Skipped != 6 {
		t.Fatalf("diff without --decrypt: %d skipped, want 6\n%s", res.Summary.Skipped, objectDiffs(res))
	}
	if res.Summary.Deleted != 0 {
		t.Fatalf("diff without --decrypt: %d deleted, want 0\n%s", res.Summary.Deleted, objectDiffs(res))
	}
	forms := map[string]string{"sops-resource": "SOPS-encrypted Secret (sops metadata)", "sops-pgp": "SOPS-encrypted Secret (sops metadata)", "sops-document": `data key "settings.json" holds a SOPS-encrypted JSON document`,
		"from-files": "holds a SOPS-encrypted", "from-env": "generated from a SOPS-encrypted env file",
		"from-binary": `data key "tls.key" holds a SOPS-encrypted binary document`}
	for _, o := range res.Objects {
		base := o.Name
		if i := strings.LastIndex(base, "-"); strings.HasPrefix(base, "from-") && i > 0 {
			base = base[:i]
		}
		if o.Action != diff.ActionSkipped {
			t.Errorf("%s: %s, want skipped", o.ID(), o.Action)
		}
		for _, part := range []string{forms[base], "--decrypt"} {
			if !strings.Contains(o.Reason, part) {
				t.Errorf("%s: reason %q lacks %q", o.ID(), o.Reason, part)
			}
		}
	}

	// With --decrypt: what the controller applied, nothing to change.
	r = run(t, diffArgs(s.Sample, flags, "-o", "json", "--decrypt")...)
	res = decodeDiff(t, r.stdout)
	wantExit(t, "diff --decrypt", r, 0)
	if res.Summary.Skipped != 0 {
		t.Fatalf("diff --decrypt: %d skipped, want 0\n%s", res.Summary.Skipped, objectDiffs(res))
	}
	if res.Summary.Unchanged < 6 {
		t.Fatalf("diff --decrypt: %d unchanged, want the 6 decrypted ones at least\n%s", res.Summary.Unchanged, objectDiffs(res))
	}

	// A changed SOPS Secret and env file: a real, masked diff.
	changed := map[string]string{}
	for k, v := range sopsPlaintexts {
		changed[k] = v
	}
	changed["resource"], changed["env"] = "c5c3-resource-pw-new-0a1b2c", "c5c3-env-key-new-3d4e5f"
	next := sopsGitops(t, key, pgpKey, changed)
	for _, f := range []string{"apps/sops/secret.yaml", "apps/sops/app.env"} {
		b, err := os.ReadFile(filepath.Join(next, f))
		must(t, err)
		writeFile(t, s.RepoDir, f, strings.ReplaceAll(string(b), "namespace: flux-system", "namespace: "+s.Namespace))
	}
	var outputs []string
	for _, o := range []string{"text", "json", "markdown"} {
		r = run(t, diffArgs(s.Sample, flags, "-o", o, "--decrypt")...)
		if r.code != 1 {
			t.Errorf("diff --decrypt -o %s after the change: exit %d, want 1\n%s\n%s", o, r.code, r.stderr, r.stdout)
		}
		outputs = append(outputs, r.stdout, r.stderr)
	}
	res = decodeDiff(t, outputs[2])
	got := strings.Join(changes(res), "\n")
	for _, want := range []string{"Secret/" + s.Namespace + "/sops-resource drifted", "Secret/" + s.Namespace + "/from-env-"} {
		if !strings.Contains(got, want) {
			t.Errorf("changes after the edit:\n%s\nwant %s", got, want)
		}
	}
	for _, o := range res.Objects {
		if o.Name == "sops-resource" && !strings.Contains(o.Diff, "*** (after)") {
			t.Errorf("sops-resource: no masked change in the diff:\n%s", o.Diff)
		}
	}
	for _, values := range []map[string]string{sopsPlaintexts, changed} {
		for k, v := range values {
			for _, out := range outputs {
				if strings.Contains(out, v) || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(v))) {
					t.Errorf("the %s plaintext appears in diff's output", k)
				}
			}
		}
	}

	// Bad input: a corrupt SOPS file names the file; a wrong key names the Secret.
	writeFile(t, s.RepoDir, "apps/sops/config.yaml", "token: ENC[AES256_GCM,data:broken]\nsops:\n  mac: ENC[AES256_GCM,data:x]\n")
	r = run(t, diffArgs(s.Sample, flags, "--decrypt")...)
	if r.code != 2 || !strings.Contains(r.stdout+r.stderr, "config.yaml") {
		t.Errorf("corrupt SOPS file: exit %d, want 2 naming config.yaml\n%s\n%s", r.code, r.stderr, r.stdout)
	}
	b, err := os.ReadFile(filepath.Join(source, "apps/sops/config.yaml"))
	must(t, err)
	writeFile(t, s.RepoDir, "apps/sops/config.yaml", string(b))
	other, err := testfleet.NewAgeKey()
	must(t, err)
	sec := &corev1.Secret{}
	must(t, hub.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: "sops-age"}, sec))
	sec.Data = map[string][]byte{"identity.agekey": []byte(other.Identity), "pgp.asc": []byte(pgpKey.Armored)}
	must(t, hub.Update(ctx(t), sec))
	r = run(t, diffArgs(s.Sample, flags, "--decrypt")...)
	if r.code != 2 {
		t.Errorf("wrong key: exit %d, want 2", r.code)
	}
	for _, part := range []string{s.Namespace + "/sops-age", "age key"} {
		if !strings.Contains(r.stdout+r.stderr, part) {
			t.Errorf("wrong key: output lacks %q (the Secret and the key type)\n%s\n%s", part, r.stderr, r.stdout)
		}
	}
	if out := r.stdout + r.stderr; strings.Contains(out, strings.TrimSpace(other.Identity)) || strings.Contains(out, strings.TrimSpace(key.Identity)) {
		t.Error("an age identity appears in diff's output")
	}

	// An unknown decryption provider is named.
	editFile(t, s.RepoDir, "clusters/management/sops.yaml", "provider: sops", "provider: vault-transit")
	r = run(t, diffArgs(s.Sample, flags, "--decrypt")...)
	if out := r.stdout + r.stderr; r.code != 2 || !strings.Contains(out, `spec.decryption.provider "vault-transit"`) {
		t.Errorf("unknown provider: exit %d, want 2 naming it\n%s\n%s", r.code, r.stderr, r.stdout)
	}
}
