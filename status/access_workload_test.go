package status

import (
	"strings"
	"testing"
	"time"

	"github.com/c5c3/kubectl-c5c3/kube"
)

// TestWorkloadTokenCheck: a workload-identity token's hour is not a
// warning (it is renewed); one that came already expired fails. The
// message names whose token and the ConfigMap, never the token.
func TestWorkloadTokenCheck(t *testing.T) {
	exp := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	ok := workloadTokenCheck("ConfigMap/flux-system/edge-kubeconfig",
		&kube.TokenInfo{Provider: "generic", Identity: "ServiceAccount flux-system/edge-deployer", ExpiresAt: exp, Lifetime: time.Hour})
	want := "workload identity token (generic, ServiceAccount flux-system/edge-deployer) of ConfigMap/flux-system/edge-kubeconfig lives 60m, until 2026-12-07T18:00:00Z; renewed before it expires"
	if ok.Check != CheckToken || ok.State != AccessOK || ok.Message != want || ok.short != "workload identity token lives 60m" || !ok.Expires.Equal(exp) {
		t.Fatalf("hour-long token: %+v\nwant OK %q", ok, want)
	}
	bad := workloadTokenCheck("ConfigMap/flux-system/edge-kubeconfig",
		&kube.TokenInfo{Provider: "aws", Identity: "your aws credentials", ExpiresAt: exp, Lifetime: -time.Minute})
	if bad.State != AccessFailed || !bad.Failing() || !strings.Contains(bad.Message, "expired when issued (2026-12-07T18:00:00Z): check the clock of this machine") {
		t.Fatalf("expired token: %+v", bad)
	}
}
