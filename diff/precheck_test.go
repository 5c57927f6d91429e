package diff

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

const desiredDeploy = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ns, labels: {app: api}}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: api
        image: img:v1
        env: [{name: A, value: "1"}]
`

// owned is what the apiserver records for desiredDeploy applied by "kc".
const ownedDeploy = `{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"api\"}":{".":{},"f:env":{"k:{\"name\":\"A\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:name":{}}}}}}}`

func live(t *testing.T, y, owned, manager, apiVersion string) *unstructured.Unstructured {
	l := obj(t, y)
	l.SetManagedFields([]metav1.ManagedFieldsEntry{
		{Manager: "other", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "apps/v1", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:paused":{}}}`)},
		{Manager: manager, Operation: metav1.ManagedFieldsOperationApply, APIVersion: apiVersion, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(owned)},
	})
	return l
}

// liveDeploy is desiredDeploy after the apiserver's defaulting.
const liveDeploy = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ns, labels: {app: api}, resourceVersion: "7", uid: x}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  template:
    spec:
      containers:
      - name: api
        image: img:v1
        env: [{name: A, value: "1"}]
        imagePullPolicy: IfNotPresent
status: {replicas: 2}
`

func TestUnchangedLocally(t *testing.T) {
	d := obj(t, desiredDeploy)
	for _, tc := range []struct {
		name string
		live *unstructured.Unstructured
		want bool
	}{
		{"identical after defaulting", live(t, liveDeploy, ownedDeploy, "kc", "apps/v1"), true},
		{"value differs", live(t, replace(liveDeploy, "image: img:v1", "image: img:v0"), ownedDeploy, "kc", "apps/v1"), false},
		{"hand-scaled", live(t, replace(liveDeploy, "replicas: 2\n  progress", "replicas: 5\n  progress"), ownedDeploy, "kc", "apps/v1"), false},
		{"field removed in git", live(t, replace(liveDeploy, `env: [{name: A, value: "1"}]`, `env: [{name: A, value: "1"}, {name: B, value: "2"}]`),
			replace(ownedDeploy, `"f:value":{}}}`, `"f:value":{}},"k:{\"name\":\"B\"}":{".":{},"f:name":{},"f:value":{}}}`), "kc", "apps/v1"), false},
		{"label removed in git", live(t, replace(liveDeploy, "labels: {app: api}", "labels: {app: api, old: x}"),
			replace(ownedDeploy, `"f:app":{}`, `"f:app":{},"f:old":{}`), "kc", "apps/v1"), false},
		{"other manager only", live(t, liveDeploy, ownedDeploy, "someone-else", "apps/v1"), false},
		{"other apiVersion", live(t, liveDeploy, ownedDeploy, "kc", "apps/v1beta1"), false},
		{"no live object", nil, false},
	} {
		if got := unchangedLocally(d, tc.live, "kc"); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func replace(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	panic("test fixture: " + old + " not found")
}
