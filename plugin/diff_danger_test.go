package plugin

import (
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"testing"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestDiffFailOnDanger: on the test fleet with nothing to change, a hub
// Kustomization that is not Ready is a danger flag in every format;
// --fail-on-danger turns the exit code 0 into 1, and -o html shows the
// flag.
func TestDiffFailOnDanger(t *testing.T) {
	t.Parallel()
	s, flags := loadSample(t, testfleet.SampleOptions{})
	expect.NoError(t, s.Fail(ctx(t), "Kustomization", "hypervisor-apps", "HealthCheckFailed", "timeout waiting for: [DaemonSet/nova-compute/nova-compute]"))

	r := run(t, diffArgs(s, flags, "-o", "json")...)
	res := decodeDiff(t, r.stdout)
	wantExit(t, "no changes", r, 0)
	if res.HasChanges() {
		t.Fatalf("no changes: changes in the plan\n%s", r.stdout)
	}
	want := diff.Danger{Flag: diff.DangerTargetNotReady, Cluster: "hypervisor", Object: "Kustomization/" + s.Namespace + "/hypervisor-apps",
		Message: "not Ready: HealthCheckFailed: timeout waiting for: [DaemonSet/nova-compute/nova-compute]"}
	if len(res.Dangers) != 1 {
		t.Fatalf("dangers %+v, want only %+v", res.Dangers, want)
	}
	expect.Equal(t, "danger", res.Dangers[0], want)
	if len(res.Images) != 0 {
		t.Errorf("images %+v, want none", res.Images)
	}
	fail := run(t, diffArgs(s, flags, "--fail-on-danger")...)
	wantExit(t, "--fail-on-danger", fail, 1)
	expect.Contains(t, "--fail-on-danger: stderr", fail.stderr, "danger flags raised: 1 (--fail-on-danger")
	expect.Contains(t, "--fail-on-danger: stdout", fail.stdout, "DANGER hypervisor: target-not-ready: Kustomization/"+s.Namespace+"/hypervisor-apps")
	for _, format := range []string{"markdown", "html"} {
		out := run(t, diffArgs(s, flags, "-o", format, "--fail-on-danger")...)
		wantExit(t, "-o "+format, out, 1)
		expect.Contains(t, "-o "+format, out.stdout, "target-not-ready", "hypervisor-apps")
	}
}
