package diff_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c5c3/kubectl-c5c3/diff"
)

// TestDecryptKMSUnreachable: a SOPS resource encrypted only for a KMS is
// decrypted through the SOPS library with the user's own credentials;
// when they do not reach the key (here: endpoints nobody listens on), the
// build fails naming the object, the provider and the key.
func TestDecryptKMSUnreachable(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAC5C3TEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "c5c3-test")
	t.Setenv("AWS_REGION", "eu-central-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("VAULT_TOKEN", "c5c3-test")
	t.Setenv("HOME", t.TempDir())
	const arn = "arn:aws:kms:eu-central-1:111122223333:key/c5c3-test"
	const vault = "http://127.0.0.1:1"
	for _, tc := range []struct{ name, keys, want string }{
		{"aws", "    kms:\n        - arn: " + arn + "\n          created_at: \"2026-01-01T00:00:00Z\"\n          enc: YzVjM2M1YzM=\n          aws_profile: \"\"\n", "AWS KMS " + arn},
		{"vault", "    hc_vault:\n        - vault_address: " + vault + "\n          engine_path: sops\n          key_name: c5c3\n          created_at: \"2026-01-01T00:00:00Z\"\n          enc: vault:v1:c5c3\n", "HashiCorp Vault " + vault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range map[string]string{
				"apps/kms/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - secret.yaml\n",
				"apps/kms/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: kms-secret\n  namespace: apps\nstringData:\n  password: ENC[AES256_GCM,data:YzVjMw==,iv:YzVjM2M1YzNjNWMzYzVjMw==,tag:YzVjM2M1YzNjNWMzYzVjMw==,type:str]\nsops:\n" + tc.keys +
					"    lastmodified: \"2026-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:YzVjMw==,iv:YzVjM2M1YzNjNWMzYzVjMw==,tag:YzVjM2M1YzNjNWMzYzVjMw==,type:str]\n    encrypted_regex: ^(data|stringData)$\n    version: 3.10.2\n",
			} {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := diff.NewBuilder(dir, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "kms", Namespace: "flux-system"},
				Spec: kustomizev1.KustomizationSpec{Path: "./apps/kms", Decryption: &kustomizev1.Decryption{Provider: "sops"}}}
			_, err = b.WithDecrypt().Build(ctx, ks)
			if err == nil || !strings.Contains(err.Error(), "Secret apps/kms-secret") || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "not reachable with your credentials") {
				t.Fatalf("Build: %v, want an error naming the object and %s", err, tc.want)
			}
		})
	}
}
