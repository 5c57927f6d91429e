package fleet

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/c5c3/kubectl-c5c3/kube"
)

// ReadWorkloadIdentity reads the workload-identity ConfigMap ref points at
// (spec.kubeConfig.configMapRef, in the object's namespace) and checks it
// as Flux would before asking for a token. Errors name the ConfigMap.
func ReadWorkloadIdentity(ctx context.Context, hub client.Reader, ref KubeConfigRef) (kube.WorkloadIdentity, error) {
	name := ref.Namespace + "/" + ref.ConfigMapName
	var cm corev1.ConfigMap
	if err := hub.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.ConfigMapName}, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return kube.WorkloadIdentity{}, fmt.Errorf("ConfigMap %s (spec.kubeConfig.configMapRef) not found in the hub", name)
		}
		return kube.WorkloadIdentity{}, fmt.Errorf("reading ConfigMap %s (spec.kubeConfig.configMapRef): %w", name, err)
	}
	w := kube.WorkloadIdentity{
		ConfigMap:          name,
		Namespace:          ref.Namespace,
		Provider:           cm.Data[meta.KubeConfigKeyProvider],
		Cluster:            cm.Data[meta.KubeConfigKeyCluster],
		Address:            cm.Data[meta.KubeConfigKeyAddress],
		CAData:             cm.Data[meta.KubeConfigKeyCACert],
		ServiceAccountName: cm.Data[meta.KubeConfigKeyServiceAccountName],
		Audiences:          kube.ParseAudiences(cm.Data[meta.KubeConfigKeyAudiences]),
	}
	return w, w.Validate()
}
