package diff

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// valuesSources collects the ConfigMaps and Secrets (core group) of the
// hub builds ids (in that order: on a clash the later build wins) and of
// extra builds, keyed by valuesKey.
func valuesSources(ids []string, builds map[string]*hubBuild, extra ...[]*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	add := func(objects []*unstructured.Unstructured) {
		for _, o := range objects {
			if k := o.GetKind(); o.GroupVersionKind().Group == "" && (k == "ConfigMap" || k == "Secret") {
				out[valuesKey(k, o.GetNamespace(), o.GetName())] = o
			}
		}
	}
	for _, id := range ids {
		add(builds[id].objects)
	}
	for _, objects := range extra {
		add(objects)
	}
	return out
}

func valuesKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// overlayReader reads valuesFrom ConfigMaps and Secrets as the hub will
// hold them after the push: from the HelmRelease's own build, else from
// any hub build of the run, else (made out of band) from the live hub.
type overlayReader struct {
	client.Client
	build, hub map[string]*unstructured.Unstructured
}

// Get implements client.Reader.
func (r *overlayReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	kind := ""
	switch obj.(type) {
	case *corev1.ConfigMap:
		kind = "ConfigMap"
	case *corev1.Secret:
		kind = "Secret"
	}
	k := valuesKey(kind, key.Namespace, key.Name)
	o := r.build[k]
	if o == nil {
		o = r.hub[k]
	}
	if kind == "" || o == nil {
		return r.Client.Get(ctx, key, obj, opts...)
	}
	u := o.DeepCopy()
	if kind == "Secret" {
		normalizeStringData(u)
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj)
}

// normalizeStringData folds a Secret's stringData into data (base64), as
// the apiserver does.
func normalizeStringData(u *unstructured.Unstructured) {
	sd, _, _ := unstructured.NestedStringMap(u.Object, "stringData")
	if len(sd) == 0 {
		return
	}
	s := &corev1.Secret{}
	_ = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s)
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range sd {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
	m, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
	u.Object = m
}
