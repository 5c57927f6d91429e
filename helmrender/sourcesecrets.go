package helmrender

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// withSourceSecrets sets cs's credentials and TLS from the Secrets that
// the chart source src (id, in namespace ns) names on the HelmRelease's
// home cluster (the hub, or the spoke it lives on) — its spec.secretRef
// and spec.certSecretRef, read as source-controller reads them
// (WithSecrets) — and its spec.passCredentials. An OCI source whose
// spec.provider is a cloud (aws, azure, gcp) and that has no
// secretRef is an error: cloud credentials are not read. Errors name the
// Secrets, never their data.
func withSourceSecrets(ctx context.Context, id, ns string, src *unstructured.Unstructured, cs ChartSource, in SourceInputs) (ChartSource, error) {
	str := func(f ...string) string {
		s, _, _ := unstructured.NestedString(src.Object, f...)
		return s
	}
	authName, certName := str("spec", "secretRef", "name"), str("spec", "certSecretRef", "name")
	oci := cs.Kind == SourceOCIRepository || cs.OCI
	if p := str("spec", "provider"); oci && authName == "" && p != "" && p != "generic" {
		return cs, fmt.Errorf("%s: spec.provider %q is not supported: cloud credentials are not read; give the source a spec.secretRef (kubernetes.io/dockerconfigjson) to diff it", id, p)
	}
	cs.PassCredentials, _, _ = unstructured.NestedBool(src.Object, "spec", "passCredentials")
	var secrets SourceSecrets
	for _, ref := range []struct {
		field, name string
		into        **corev1.Secret
	}{{"spec.secretRef", authName, &secrets.Auth}, {"spec.certSecretRef", certName, &secrets.Cert}} {
		if ref.name == "" {
			continue
		}
		s := &corev1.Secret{}
		if err := in.Reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.name}, s); err != nil {
			return cs, fmt.Errorf("%s of %s: Secret %s/%s: %s", ref.field, id, ns, ref.name, errText(err))
		}
		*ref.into = s
	}
	cs, err := WithSecrets(cs, secrets)
	if err != nil {
		return cs, fmt.Errorf("%s: %w", id, err)
	}
	return cs, nil
}
