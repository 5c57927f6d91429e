package diff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestBuilderDecryptionSecretForbidden: a user who may not read the
// Kustomization's decryption Secret (a real apiserver refuses it) gets no
// error and no decryption from the Builder with --decrypt: what
// kustomize-controller would decrypt stays skipped, the reason naming the
// Secret and the refusal; the objects under decrypt: disabled are built as
// they are. With the right to read it, the same build decrypts.
func TestBuilderDecryptionSecretForbidden(t *testing.T) {
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
		plain[k] = "rights-" + k + "-2c9f"
	}
	dir := t.TempDir()
	if err := testfleet.SOPSFormsTree(dir, key, pgpKey, plain); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := testfleet.Namespace(t)
	if err := f.Hub.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	if err := f.Hub.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sops-age", Namespace: ns},
		Data:       map[string][]byte{"age.agekey": []byte(key.Identity), "pgp.asc": []byte(pgpKey.Armored)},
	}); err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "rules-sops-forms", Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			Path:       "./apps/sopsforms",
			Decryption: &kustomizev1.Decryption{Provider: "sops", SecretRef: &meta.LocalObjectReference{Name: "sops-age"}},
			PostBuild:  &kustomizev1.PostBuild{Substitute: map[string]string{"cluster_name": "control-plane"}},
		},
	}
	noIgnore := func(context.Context, *kustomizev1.Kustomization) (*string, error) { return nil, nil }
	cfg := rest.CopyConfig(f.Hub.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "c5c3-no-secrets"}
	user, err := client.New(cfg, client.Options{Scheme: f.Hub.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}

	build := func(hub client.Client) map[string]string {
		t.Helper()
		b, err := diff.NewBuilder(dir, hub, false)
		if err != nil {
			t.Fatal(err)
		}
		objects, err := b.WithSourceIgnore(noIgnore).WithDecrypt().Build(ctx, ks)
		if err != nil {
			t.Fatalf("Builder: %v", err)
		}
		reasons := map[string]string{}
		for _, o := range objects {
			reasons[o.GetKind()+"/"+o.GetName()] = o.GetAnnotations()["diff.c5c3.cobaltcore.io/sops-encrypted"]
		}
		return reasons
	}
	reasons := build(user)
	for _, id := range []string{"Secret/app-credentials", "ConfigMap/settings", "Secret/sops-subst"} {
		r := reasons[id]
		if !strings.Contains(r, "cannot read the decryption Secret "+ns+"/sops-age") || !strings.Contains(r, "forbidden") {
			t.Errorf("%s: skipped for %q, want the Secret named and the refusal", id, r)
		}
	}
	for _, id := range []string{"Secret/sops-disabled", "Secret/sops-disabled-document", "Namespace/flux-system"} {
		if r, ok := reasons[id]; !ok || r != "" {
			t.Errorf("%s: built %v, skipped for %q; want it built as it is", id, ok, r)
		}
	}
	for id, r := range build(f.Hub.Client) {
		if r != "" {
			t.Errorf("%s with the right to read the Secret: skipped for %q, want it decrypted", id, r)
		}
	}
}
