package testfleet

import (
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/golden"
)

func TestRenameNamespaces(t *testing.T) {
	names := ownNamespaces("fleet-t0042")
	in := `apiVersion: v1
kind: Namespace
metadata:
  name: openstack
  labels:
    app.kubernetes.io/part-of: openstack
---
apiVersion: v1
kind: Namespace
metadata:
  name: "memcached"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: rook-ceph
  namespace: rook-ceph
data:
  mon_host: rook-ceph-mon-a.rook-ceph.svc:6789
  namespace: nova-compute-extra
---
kind: HelmRelease
metadata: {name: libvirt, namespace: flux-system}
spec:
  releaseName: memcached
  targetNamespace: nova-compute
  storageNamespace: 'nova-compute'
  chart: {spec: {chart: memcached, sourceRef: {kind: HelmRepository, name: bitnami, namespace: c5c3-system}}}
---
metadata: {name: gates-job, namespace: openstack}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: c5c3-operator
  labels:
    app.kubernetes.io/name: c5c3-operator
---
kind: ClusterRoleBinding
metadata:
  name: c5c3-operator
roleRef:
  kind: ClusterRole
  name: c5c3-operator
subjects:
  - kind: ServiceAccount
    name: c5c3-operator
    namespace: c5c3-system
---
kind: ServiceAccount
metadata:
  name: c5c3-operator
  namespace: c5c3-system
`
	want := `apiVersion: v1
kind: Namespace
metadata:
  name: openstack-t0042
  labels:
    app.kubernetes.io/part-of: openstack
---
apiVersion: v1
kind: Namespace
metadata:
  name: "memcached-t0042"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: rook-ceph
  namespace: rook-ceph-t0042
data:
  mon_host: rook-ceph-mon-a.rook-ceph.svc:6789
  namespace: nova-compute-extra
---
kind: HelmRelease
metadata: {name: libvirt, namespace: flux-system}
spec:
  releaseName: memcached
  targetNamespace: nova-compute-t0042
  storageNamespace: 'nova-compute-t0042'
  chart: {spec: {chart: memcached, sourceRef: {kind: HelmRepository, name: bitnami, namespace: c5c3-system-t0042}}}
---
metadata: {name: gates-job, namespace: openstack-t0042}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: c5c3-operator-t0042
  labels:
    app.kubernetes.io/name: c5c3-operator
---
kind: ClusterRoleBinding
metadata:
  name: c5c3-operator-t0042
roleRef:
  kind: ClusterRole
  name: c5c3-operator-t0042
subjects:
  - kind: ServiceAccount
    name: c5c3-operator
    namespace: c5c3-system-t0042
---
kind: ServiceAccount
metadata:
  name: c5c3-operator
  namespace: c5c3-system-t0042
`
	if got := string(renameNamespaces([]byte(in), names)); got != want {
		t.Errorf("renamed:\n%s\nwant:\n%s", got, want)
	}
	if got := string(renameNamespaces([]byte(in), nil)); got != in {
		t.Errorf("without names the YAML changed:\n%s", got)
	}
	if got := ownNamespaces("demo")["openstack"]; got != "openstack-demo" {
		t.Errorf("openstack for hub namespace demo is %q, want openstack-demo", got)
	}
}

// TestOwnNamespacesNormalised: golden files hold the sample's own names,
// so golden.Normalize must map every renamed namespace back.
func TestOwnNamespacesNormalised(t *testing.T) {
	for sample, own := range ownNamespaces("fleet-t0042") {
		in := "Deployment/" + own + "/x " + own + "-release"
		if got, want := golden.Normalize(in), "Deployment/"+sample+"/x "+sample+"-release"; got != want {
			t.Errorf("golden.Normalize(%q) = %q, want %q", in, got, want)
		}
		if !strings.HasPrefix(own, sample+"-t") {
			t.Errorf("%s renamed to %s, want %s-t0042", sample, own, sample)
		}
	}
}
