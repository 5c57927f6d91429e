package plugin

import (
	"encoding/base64"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/fixture"
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
		expect.NoError(t, err)
		return string(b)
	}
	pgpSecret, err := pgpKey.EncryptSOPS([]byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-pgp\n  namespace: flux-system\nstringData:\n  password: "+p["pgp"]+"\n"), "yaml", "^(data|stringData)$")
	expect.NoError(t, err)
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
	expect.NoError(t, err)
	pgpKey, err := testfleet.NewPGPKey()
	expect.NoError(t, err)
	t.Cleanup(pgpKey.Close)
	source := sopsGitops(t, key, pgpKey, sopsPlaintexts)
	s := loadLiveSample(t, testfleet.SampleOptions{Source: source}, []string{"flux-system", "rules-sops"}, func(ns string) {
		expect.NoError(t, testfleet.Get(t).Hub.Client.Create(ctx(t), &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "sops-age", Namespace: ns},
			Data:       map[string][]byte{"identity.agekey": []byte(key.Identity), "pgp.asc": []byte(pgpKey.Armored)},
		}))
	})
	hub := s.Fleet.Hub.Client
	live := &corev1.Secret{}
	expect.NoError(t, s.Fleet.Spokes["control-plane"].Client.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: "sops-resource"}, live))
	if string(live.Data["password"]) != sopsPlaintexts["resource"] {
		t.Fatal("the controller did not decrypt the fixture") // value not printed
	}
	expect.NoError(t, s.Fleet.Spokes["control-plane"].Client.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: "sops-pgp"}, live))
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
		expect.NoError(t, err)
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
	wantExit(t, "corrupt SOPS file", r, 2)
	expect.Contains(t, "corrupt SOPS file: output", r.stdout+r.stderr, "config.yaml")
	b, err := os.ReadFile(filepath.Join(source, "apps/sops/config.yaml"))
	expect.NoError(t, err)
	writeFile(t, s.RepoDir, "apps/sops/config.yaml", string(b))
	other, err := testfleet.NewAgeKey()
	expect.NoError(t, err)
	sec := &corev1.Secret{}
	expect.NoError(t, hub.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: "sops-age"}, sec))
	sec.Data = map[string][]byte{"identity.agekey": []byte(other.Identity), "pgp.asc": []byte(pgpKey.Armored)}
	expect.NoError(t, hub.Update(ctx(t), sec))
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
	fixture.EditFile(t, s.RepoDir, "clusters/management/sops.yaml", "provider: sops", "provider: vault-transit")
	r = run(t, diffArgs(s.Sample, flags, "--decrypt")...)
	wantExit(t, "unknown provider", r, 2)
	expect.Contains(t, "unknown provider: output", r.stdout+r.stderr, `spec.decryption.provider "vault-transit"`)
}

// TestE2ESOPSForms checks, against the real kustomize-controller, the SOPS
// forms that meet kustomize and postBuild (testfleet.SOPSFormsTree): a
// SOPS patch file (PGP) of a Secret and one (age) of a ConfigMap are
// decrypted before the build; a SOPS Secret whose plaintext holds
// ${cluster_name} is decrypted, then substituted; SOPS data annotated
// kustomize.toolkit.fluxcd.io/decrypt: disabled is applied as ciphertext.
// The Builder's objects are the controller's inventory; without --decrypt
// the patched and encrypted objects are skipped and the disabled ones are
// unchanged; with --decrypt nothing changes. A decryption Secret without
// the PGP key is an error naming the Secret and the key type (exit 2,
// no key or plaintext printed), as the controller's own reconcile fails.
func TestE2ESOPSForms(t *testing.T) {
	if !testing.Short() {
		if _, err := testfleet.FluxBinDir(); err != nil {
			t.Fatal(err)
		}
	}
	key, err := testfleet.NewAgeKey()
	expect.NoError(t, err)
	pgpKey, err := testfleet.NewPGPKey()
	expect.NoError(t, err)
	t.Cleanup(pgpKey.Close)
	plain := map[string]string{}
	for _, k := range testfleet.SOPSFormsPlaintexts {
		plain[k] = "c5c3-forms-" + k + "-9d1e7a"
	}
	source := t.TempDir()
	expect.NoError(t, testfleet.SOPSFormsTree(source, key, pgpKey, plain))
	s := loadLiveSample(t, testfleet.SampleOptions{Source: source}, []string{"flux-system", "rules-sops-forms"}, func(ns string) {
		expect.NoError(t, testfleet.Get(t).Hub.Client.Create(ctx(t), &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "sops-age", Namespace: ns},
			Data:       map[string][]byte{"identity.agekey": []byte(key.Identity), "pgp.asc": []byte(pgpKey.Armored)},
		}))
	})
	spoke := s.Fleet.Spokes["control-plane"].Client
	// What the controller applied (values compared, never printed).
	secret := func(name, k string) string {
		sec := &corev1.Secret{}
		expect.NoError(t, spoke.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: name}, sec))
		return string(sec.Data[k])
	}
	cm := &corev1.ConfigMap{}
	expect.NoError(t, spoke.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: "settings"}, cm))
	for what, ok := range map[string]bool{
		"the PGP-encrypted patch file decrypted into Secret app-credentials":             secret("app-credentials", "password") == plain["patch"] && secret("app-credentials", "user") == "admin",
		"the age-encrypted patch file decrypted and substituted into ConfigMap settings": cm.Data["endpoint"] == "https://control-plane.example/"+plain["config"] && cm.Data["mode"] == "plain",
		"Secret sops-subst decrypted, then ${cluster_name} substituted":                  secret("sops-subst", "url") == "https://control-plane.db.example/"+plain["subst"],
		"Secret sops-disabled applied as ciphertext":                                     strings.HasPrefix(secret("sops-disabled", "password"), "ENC[AES256_GCM,"),
		"Secret sops-disabled-document applied with its SOPS document":                   strings.Contains(secret("sops-disabled-document", "settings.json"), `"mac": "ENC[`),
	} {
		if !ok {
			t.Errorf("the controller did not apply %s", what)
		}
	}
	checkInventoryIsBuild(t, s, true)
	flags := []string{"--kubeconfig", s.Fleet.HubKubeconfig, "-n", s.Namespace, "--flux-namespace", s.Namespace, "--color", "never", "--helm=false"}
	var outputs []string

	// Without --decrypt: what the controller decrypts is skipped, what it
	// applies as ciphertext is diffed (unchanged).
	r := run(t, diffArgs(s.Sample, flags, "-o", "json")...)
	outputs = append(outputs, r.stdout, r.stderr)
	res := decodeDiff(t, r.stdout)
	wantExit(t, "diff without --decrypt", r, 0)
	expect.Equal(t, "diff without --decrypt: objects skipped", res.Summary.Skipped, 3)
	expect.Equal(t, "diff without --decrypt: objects deleted", res.Summary.Deleted, 0)
	if t.Failed() {
		t.Fatalf("diff without --decrypt:\n%s", objectDiffs(res))
	}
	want := map[string]string{
		"Secret/app-credentials": "SOPS-encrypted Secret (sops metadata)", "ConfigMap/settings": "SOPS-encrypted ConfigMap (sops metadata)",
		"Secret/sops-subst": "SOPS-encrypted Secret (sops metadata)", "Secret/sops-disabled": "", "Secret/sops-disabled-document": "",
	}
	for _, o := range res.Objects {
		form, ok := want[o.Kind+"/"+o.Name]
		if !ok {
			continue
		}
		delete(want, o.Kind+"/"+o.Name)
		switch {
		case form == "":
			t.Errorf("%s: %s (%s), want unchanged: the controller applies it as it is", o.ID(), o.Action, o.Reason)
		case o.Action != diff.ActionSkipped || !strings.Contains(o.Reason, form):
			t.Errorf("%s: %s (%s), want skipped for %q", o.ID(), o.Action, o.Reason, form)
		}
	}
	// Unchanged objects are only counted: the Namespace and the two
	// disabled Secrets.
	for id, form := range want {
		if form != "" {
			t.Errorf("%s: not in diff's result, want skipped for %q", id, form)
		}
	}
	for _, k := range res.Kustomizations {
		if k.Name == "rules-sops-forms" && k.Counts.Unchanged != 3 {
			t.Errorf("diff without --decrypt: rules-sops-forms %+v, want 3 unchanged (the Namespace and the two Secrets with decryption disabled)", k.Counts)
		}
	}

	// With --decrypt: what the controller applied; nothing written to a
	// temporary directory or the checkout holds a plaintext.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, o := range []string{"json", "text"} {
		r = run(t, diffArgs(s.Sample, flags, "-o", o, "--decrypt")...)
		outputs = append(outputs, r.stdout, r.stderr)
		if r.code != 0 {
			t.Errorf("diff --decrypt -o %s: exit %d, want 0\n%s\n%s", o, r.code, r.stderr, r.stdout)
		}
	}
	if res = decodeDiff(t, outputs[2]); res.Summary.Skipped != 0 || res.Summary.Unchanged < 5 {
		t.Errorf("diff --decrypt: %+v, want nothing skipped\n%s", res.Summary, objectDiffs(res))
	}

	for _, dir := range []string{tmp, s.RepoDir} {
		expect.NoError(t, filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for k, v := range plain {
				if strings.Contains(string(b), v) {
					t.Errorf("%s holds the %s plaintext after diff --decrypt", p, k)
				}
			}
			return nil
		}))
	}

	// A decryption Secret without the PGP key the patch file needs.
	hub := s.Fleet.Hub.Client
	sec := &corev1.Secret{}
	expect.NoError(t, hub.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: "sops-age"}, sec))
	sec.Data = map[string][]byte{"identity.agekey": []byte(key.Identity)}
	expect.NoError(t, hub.Update(ctx(t), sec))
	r = run(t, diffArgs(s.Sample, flags, "--decrypt")...)
	outputs = append(outputs, r.stdout, r.stderr)
	out := r.stdout + r.stderr
	wantExit(t, "decryption Secret without the PGP key", r, 2)
	expect.Contains(t, "decryption Secret without the PGP key (the Secret, the key type and fingerprint, the file)", out,
		s.Namespace+"/sops-age", "PGP key (*.asc)", pgpKey.Fingerprint, "credentials-patch.yaml")
	if strings.Contains(out, strings.TrimSpace(key.Identity)) || strings.Contains(out, "PGP PRIVATE KEY") {
		t.Error("a key of the decryption Secret appears in diff's output")
	}
	// The controller fails the same reconcile.
	rev, err := s.Publish(ctx(t), "reconcile without the PGP key")
	expect.NoError(t, err)
	deadline := time.Now().Add(time.Minute)
	for {
		ks := &kustomizev1.Kustomization{}
		expect.NoError(t, hub.Get(ctx(t), client.ObjectKey{Namespace: s.Namespace, Name: "rules-sops-forms"}, ks))
		ready := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition)
		if ks.Status.LastAttemptedRevision == rev && ready != nil && ready.Status == metav1.ConditionFalse {
			if !strings.Contains(ready.Message, "sops data key") {
				t.Errorf("the controller failed with %q, want a SOPS data key error", ready.Message)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the controller did not fail rules-sops-forms at %s without the PGP key: %+v", rev, ready)
		}
		time.Sleep(250 * time.Millisecond)
	}

	for k, v := range plain {
		for _, o := range outputs {
			if strings.Contains(o, v) || strings.Contains(o, base64.StdEncoding.EncodeToString([]byte(v))) {
				t.Errorf("the %s plaintext appears in diff's output", k)
			}
		}
	}
}
