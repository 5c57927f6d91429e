package plugin

import (
	"strings"
	"testing"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestDiffFailOnDanger: on the test fleet with nothing to change, a hub
// Kustomization that is not Ready is a danger flag in every format;
// --fail-on-danger turns the exit code 0 into 1, and -o html shows the
// flag.
func TestDiffFailOnDanger(t *testing.T) {
	s, flags := loadSample(t, testfleet.SampleOptions{})
	must(t, s.Fail(ctx(t), "Kustomization", "hypervisor-apps", "HealthCheckFailed", "timeout waiting for: [DaemonSet/nova-compute/nova-compute]"))

	r := run(t, diffArgs(s, flags, "-o", "json")...)
	res := decodeDiff(t, r.stdout)
	if r.code != 0 || res.HasChanges() {
		t.Fatalf("no changes: exit %d\n%s\n%s", r.code, r.stderr, r.stdout)
	}
	want := diff.Danger{Flag: diff.DangerTargetNotReady, Cluster: "hypervisor", Object: "Kustomization/" + s.Namespace + "/hypervisor-apps",
		Message: "not Ready: HealthCheckFailed: timeout waiting for: [DaemonSet/nova-compute/nova-compute]"}
	if len(res.Dangers) != 1 || res.Dangers[0] != want || len(res.Images) != 0 {
		t.Fatalf("dangers %+v images %+v, want only %+v", res.Dangers, res.Images, want)
	}
	fail := run(t, diffArgs(s, flags, "--fail-on-danger")...)
	if fail.code != 1 || !strings.Contains(fail.stderr, "danger flags raised: 1 (--fail-on-danger") ||
		!strings.Contains(fail.stdout, "DANGER hypervisor: target-not-ready: Kustomization/"+s.Namespace+"/hypervisor-apps") {
		t.Fatalf("--fail-on-danger: exit %d\n%s\n%s", fail.code, fail.stderr, fail.stdout)
	}
	for _, format := range []string{"markdown", "html"} {
		out := run(t, diffArgs(s, flags, "-o", format, "--fail-on-danger")...)
		if out.code != 1 || !strings.Contains(out.stdout, "target-not-ready") || !strings.Contains(out.stdout, "hypervisor-apps") {
			t.Errorf("-o %s: exit %d\n%s", format, out.code, out.stdout)
		}
	}
}
