package fleet

import (
	"strings"
)

// KubeConfigRef says where a spoke's kubeconfig lives in the hub.
type KubeConfigRef struct {
	// Namespace of the Secret (the Flux object's namespace).
	Namespace string `json:"namespace"`
	// SecretName names the kubeconfig Secret; empty for configMapRef.
	SecretName string `json:"secretName,omitempty"`
	// Key is the Secret key from spec.kubeConfig.secretRef.key; empty means
	// Flux's default: "value", else "value.yaml".
	Key string `json:"key,omitempty"`
	// ConfigMapName is set for workload-identity kubeconfigs
	// (spec.kubeConfig.configMapRef): the ConfigMap that says how to get
	// a token for the cluster.
	ConfigMapName string `json:"configMapName,omitempty"`
}

// clusterName is the name of the cluster a kubeconfig reaches: the Secret
// (or ConfigMap) name without "-kubeconfig".
func (r KubeConfigRef) clusterName() string {
	return strings.TrimSuffix(r.SecretName+r.ConfigMapName, "-kubeconfig")
}

// qualifiedName is clusterName with the namespace, "name (ns)", for when
// Secrets of the same name in several namespaces reach different clusters.
func (r KubeConfigRef) qualifiedName() string { return r.clusterName() + " (" + r.Namespace + ")" }

// String is "Secret/ns/name" (with "[key]" when a key is set).
func (r KubeConfigRef) String() string {
	if r.ConfigMapName != "" {
		return "ConfigMap/" + r.Namespace + "/" + r.ConfigMapName
	}
	s := "Secret/" + r.Namespace + "/" + r.SecretName
	if r.Key != "" {
		s += "[" + r.Key + "]"
	}
	return s
}

// Cluster is a target of Flux objects: the hub or a spoke.
type Cluster struct {
	// Name is the hub name, or the Secret name without "-kubeconfig".
	Name string
	// Hub is true for the hub itself.
	Hub bool
	// KubeConfig is where the spoke's kubeconfig lives; nil for the hub.
	KubeConfig *KubeConfigRef
	// Objects are the Flux objects deploying to this cluster, sorted by ID.
	Objects []Object
	// Controller is the service account of the Flux controller that
	// reaches the cluster (kustomize-controller or helm-controller; empty
	// means kustomize-controller). Only a workload-identity ConfigMap
	// without serviceAccountName depends on it: Flux then requests the
	// token as that controller. Discover sets helm-controller when only
	// HelmReleases target the cluster; Fleet.ClientFor dials as the
	// controller of the object it is given.
	Controller string
}

// controller is c.Controller, defaulting to kustomize-controller.
func (c *Cluster) controller() string {
	if c.Controller == "" {
		return KustomizeControllerServiceAccount
	}
	return c.Controller
}
