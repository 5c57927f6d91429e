package plugin

import (
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"testing"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/status"
)

// accessOf returns the checks of kind check on the named cluster.
func accessOf(t *testing.T, rep *status.Report, cluster, check string) []status.AccessCheck {
	t.Helper()
	var out []status.AccessCheck
	for _, c := range rep.Clusters {
		if c.Name != cluster {
			continue
		}
		for _, a := range c.Access {
			if a.Check == check {
				out = append(out, a)
			}
		}
		return out
	}
	t.Fatalf("no cluster %s in the report", cluster)
	return nil
}

// TestStatusAccessHealthy: the fleet's own credentials (a year) and
// versions pass every default check, and the hub's Flux APIs are the ones
// the plugin reads.
func TestStatusAccessHealthy(t *testing.T) {
	t.Parallel()
	_, flags := sharedSample(t)
	r := run(t, append([]string{"status", "-o", "json"}, flags...)...)
	rep := decode(t, r.stdout)
	wantExit(t, "status of a healthy fleet", r, 0)
	if rep.Summary.AccessFailing != 0 {
		t.Errorf("summary: %d access checks failing, want 0", rep.Summary.AccessFailing)
	}
	if rep.Summary.AccessWarnings != 0 {
		t.Errorf("summary: %d access warnings, want 0", rep.Summary.AccessWarnings)
	}
	if len(rep.Hub.Access) != 1 {
		t.Fatalf("hub access checks %+v, want the Flux API check only", rep.Hub.Access)
	}
	if a := rep.Hub.Access[0]; a.Check != status.CheckFluxAPI {
		t.Errorf("hub access check %q, want %s", a.Check, status.CheckFluxAPI)
	}
	if a := rep.Hub.Access[0]; a.State != status.AccessOK {
		t.Errorf("hub access state %q, want %s", a.State, status.AccessOK)
	}
	expect.Contains(t, "hub access message", rep.Hub.Access[0].Message, "Kustomization v1, HelmRelease v2, GitRepository v1, OCIRepository v1, HelmChart v1, FluxReport v1")
	for _, spoke := range testfleet.SpokeNames {
		for _, check := range []string{status.CheckClientCertificate, status.CheckCertificateAuthority, status.CheckVersionSkew} {
			got := accessOf(t, rep, spoke, check)
			if len(got) != 1 || got[0].State != status.AccessOK {
				t.Errorf("%s %s: %+v", spoke, check, got)
			}
		}
		if sk := accessOf(t, rep, spoke, status.CheckVersionSkew); len(sk) == 1 && (sk[0].MinorSkew == nil || *sk[0].MinorSkew != 0) {
			t.Errorf("%s: skew %+v", spoke, sk[0])
		}
	}
}
