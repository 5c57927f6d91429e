package rbac

import (
	"bytes"
	"io"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// managedBy labels every object made, so that they can be found again.
const managedBy = "kubectl-c5c3"

func objectMeta(name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": managedBy}}
}

func setTypeMeta(o client.Object) {
	var kind string
	switch o.(type) {
	case *rbacv1.ClusterRole:
		kind = "ClusterRole"
	case *rbacv1.ClusterRoleBinding:
		kind = "ClusterRoleBinding"
	case *rbacv1.Role:
		kind = "Role"
	case *rbacv1.RoleBinding:
		kind = "RoleBinding"
	}
	o.GetObjectKind().SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind(kind))
}

// WriteYAML writes objs as one YAML stream, "---" between them.
func WriteYAML(w io.Writer, objs []client.Object) error {
	var b bytes.Buffer
	for i, o := range objs {
		data, err := yaml.Marshal(o)
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(bytes.ReplaceAll(data, []byte("  creationTimestamp: null\n"), nil))
	}
	_, err := w.Write(b.Bytes())
	return err
}
