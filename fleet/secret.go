package fleet

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Default kubeconfig Secret keys, in the order Flux tries them.
var defaultKubeConfigKeys = []string{"value", "value.yaml"}

// ReadKubeConfigSecret reads a spoke kubeconfig from the hub Secret ref
// points at, using the key Flux would: secretRef.key, else "value", else
// "value.yaml". Errors name the Secret, never its contents.
func ReadKubeConfigSecret(ctx context.Context, hub client.Reader, ref KubeConfigRef) ([]byte, error) {
	var s corev1.Secret
	if err := hub.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.SecretName}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("kubeconfig Secret %s/%s not found in the hub", ref.Namespace, ref.SecretName)
		}
		return nil, fmt.Errorf("reading kubeconfig Secret %s/%s: %w", ref.Namespace, ref.SecretName, err)
	}
	if ref.Key != "" {
		data, ok := s.Data[ref.Key]
		if !ok {
			return nil, fmt.Errorf("kubeconfig Secret %s/%s has no key %q (spec.kubeConfig.secretRef.key)", ref.Namespace, ref.SecretName, ref.Key)
		}
		return data, nil
	}
	for _, k := range defaultKubeConfigKeys {
		if data, ok := s.Data[k]; ok {
			return data, nil
		}
	}
	return nil, fmt.Errorf("kubeconfig Secret %s/%s has neither key %q nor %q", ref.Namespace, ref.SecretName, "value", "value.yaml")
}
