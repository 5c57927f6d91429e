package diff

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestObserveImagesAndSelectors: what a change does to the containers'
// images and the selectors, per kind, and how it adds up per cluster.
func TestObserveImagesAndSelectors(t *testing.T) {
	deploy := func(api, sidecar, app string) *unstructured.Unstructured {
		y := "kind: Deployment\nmetadata: {name: api, namespace: os}\nspec:\n  selector: {matchLabels: {app: " + app + "}}\n  template:\n    spec:\n      initContainers: [{name: init, image: busybox:1}]\n      containers:\n      - {name: api, image: " + api + "}\n"
		if sidecar != "" {
			y += "      - {name: sidecar, image: " + sidecar + "}\n"
		}
		return obj(t, y)
	}
	cron := obj(t, "kind: CronJob\nmetadata: {name: backup, namespace: os}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: b, image: 'backup:2'}]\n")
	pod := obj(t, "kind: Pod\nmetadata: {name: p, namespace: os}\nspec:\n  containers: [{name: c, image: 'pod:1'}]\n")
	svc := func(app string) *unstructured.Unstructured {
		return obj(t, "kind: Service\nmetadata: {name: api, namespace: os}\nspec:\n  selector: {app: "+app+"}\n")
	}
	netpol := func(app string) *unstructured.Unstructured {
		return obj(t, "kind: NetworkPolicy\nmetadata: {name: np, namespace: os}\nspec:\n  podSelector: {matchLabels: {app: "+app+"}}\n")
	}

	cases := []struct {
		name          string
		before, after *unstructured.Unstructured
		images        []imageDelta
		selectors     []string
	}{
		{"tag changes, sidecar added", deploy("api:1", "", "a"), deploy("api:2", "envoy:1", "a"),
			[]imageDelta{{"api:1", "api:2"}, {"", "envoy:1"}}, nil},
		{"sidecar removed", deploy("api:1", "envoy:1", "a"), deploy("api:1", "", "a"), []imageDelta{{"envoy:1", ""}}, nil},
		{"created", nil, deploy("api:1", "", "a"), []imageDelta{{"", "api:1"}, {"", "busybox:1"}}, nil},
		{"deleted", cron, nil, []imageDelta{{"backup:2", ""}}, nil},
		{"pod created", nil, pod, []imageDelta{{"", "pod:1"}}, nil},
		{"workload selector", deploy("api:1", "", "a"), deploy("api:1", "", "b"), nil, []string{".spec.selector"}},
		{"service selector", svc("a"), svc("b"), nil, []string{".spec.selector"}},
		{"service unchanged", svc("a"), svc("a"), nil, nil},
		{"network policy", netpol("a"), netpol("b"), nil, []string{".spec.podSelector"}},
		{"service created: no selector change", nil, svc("a"), nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var o ObjectResult
			o.observe(c.before, c.after)
			if !reflect.DeepEqual(o.images, c.images) || !reflect.DeepEqual(o.selectors, c.selectors) {
				t.Errorf("images %+v selectors %v, want %+v %v", o.images, o.selectors, c.images, c.selectors)
			}
		})
	}

	// Per cluster: the same change in two objects is one entry naming both.
	var objs []ObjectResult
	for _, name := range []string{"b", "a"} {
		o := ObjectResult{Cluster: "cp", Kind: "Deployment", Namespace: "os", Name: name}
		o.observe(deploy("api:1", "envoy:1", "x"), deploy("api:2", "", "x"))
		objs = append(objs, o)
	}
	hv := ObjectResult{Cluster: "hv", Kind: "Pod", Namespace: "os", Name: "p"}
	hv.observe(nil, pod)
	objs = append(objs, hv)
	got := summariseImages(objs)
	want := []ClusterImages{
		{Cluster: "cp", Added: []ImageChange{}, Changed: []ImageChange{{From: "api:1", To: "api:2", Objects: []string{"Deployment/os/a", "Deployment/os/b"}}},
			Removed: []ImageChange{{From: "envoy:1", Objects: []string{"Deployment/os/a", "Deployment/os/b"}}}},
		{Cluster: "hv", Added: []ImageChange{{To: "pod:1", Objects: []string{"Pod/os/p"}}}, Changed: []ImageChange{}, Removed: []ImageChange{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n%+v\nwant\n%+v", got, want)
	}
}

// TestObjectDangers: the flags each kind of object change raises.
func TestObjectDangers(t *testing.T) {
	base := ObjectResult{Cluster: "cp", Kustomization: "fs/apps", APIVersion: "v1", Namespace: "os", Name: "x"}
	with := func(f func(*ObjectResult)) ObjectResult {
		o := base
		f(&o)
		return o
	}
	cases := []struct {
		name string
		o    ObjectResult
		want []string
	}{
		{"immutable", with(func(o *ObjectResult) {
			o.Kind, o.Action, o.Error = "Service", ActionError, `Service "x" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.0.0.160"}: may not change once set`
		}), []string{DangerImmutable}},
		{"other error", with(func(o *ObjectResult) { o.Kind, o.Action, o.Error = "Service", ActionError, "forbidden" }), nil},
		{"recreate", with(func(o *ObjectResult) { o.Kind, o.Action, o.Recreate = "Job", ActionCreated, true }), []string{DangerRecreate}},
		{"prune pvc", with(func(o *ObjectResult) { o.Kind, o.Action = "PersistentVolumeClaim", ActionDeleted }), []string{DangerPrunePVC}},
		{"prune namespace", with(func(o *ObjectResult) { o.Kind, o.Action, o.Namespace = "Namespace", ActionDeleted, "" }), []string{DangerPruneNamespace}},
		{"prune crd", with(func(o *ObjectResult) { o.Kind, o.Action, o.Namespace = "CustomResourceDefinition", ActionDeleted, "" }), []string{DangerCRD}},
		{"crd changes", with(func(o *ObjectResult) { o.Kind, o.Action, o.Namespace = "CustomResourceDefinition", ActionDrifted, "" }), []string{DangerCRD}},
		{"crd created", with(func(o *ObjectResult) { o.Kind, o.Action, o.Namespace = "CustomResourceDefinition", ActionCreated, "" }), nil},
		{"configmap deleted", with(func(o *ObjectResult) { o.Kind, o.Action = "ConfigMap", ActionDeleted }), nil},
		{"selector", with(func(o *ObjectResult) {
			o.Kind, o.Action, o.selectors = "Service", ActionDrifted, []string{".spec.selector"}
		}), []string{DangerSelector}},
		{"field manager", with(func(o *ObjectResult) {
			o.Kind, o.Action, o.OtherManagers = "ConfigMap", ActionDrifted, []FieldOwner{{Manager: "kubectl-edit", Fields: []string{".data.a"}}}
		}), []string{DangerFieldManager}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, d := range objectDangers(c.o) {
				got = append(got, d.Flag)
				if d.Cluster != "cp" || d.Object != c.o.ID() || d.Kustomization != "fs/apps" {
					t.Errorf("flag %+v does not name cluster, object and Kustomization", d)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("flags %v, want %v", got, c.want)
			}
		})
	}
}
