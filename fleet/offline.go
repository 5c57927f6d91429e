package fleet

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// Offline returns a fleet known only from a checkout, for runs that
// contact no cluster (diff --no-live): the hub (named hubName, default
// "management") without a client, and spokes named by TargetOf from the
// kubeConfig references the checkout's objects carry.
func Offline(hubName string) *Fleet {
	if hubName == "" {
		hubName = "management"
	}
	return &Fleet{
		Clusters: []*Cluster{{Name: hubName, Hub: true}},
		Sources:  map[string]*unstructured.Unstructured{},
		opts:     Options{HubName: hubName},
	}
}
