package golden

import "testing"

func TestNormalize(t *testing.T) {
	in := "ns fleet-t0042 Deployment/openstack-t0042/keystone-api release nova-compute-t0007-libvirt, openstack-t0042x rev main@sha1:0123456789abcdef0123456789abcdef01234567 short main@sha1:abcdef1 host https://127.0.0.1:39123 at 2026-11-29T07:25:35Z repo /tmp/c5c3-fleet-1/gitops-fleet-t0001-1773641110/x"
	want := "ns fleet-tNNNN Deployment/openstack/keystone-api release nova-compute-libvirt, openstack-t0042x rev main@sha1:0000000000000000000000000000000000000000 short main@sha1:0000000 host https://127.0.0.1:PORT at 2026-01-01T00:00:00Z repo <repo>/x"
	if got := Normalize(in); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
