package trace_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/kube"
	"github.com/c5c3/kubectl-c5c3/trace"
)

func TestMain(m *testing.M) { os.Exit(testfleet.Run(m)) }

// roundTrip is the trace as -o json prints it, read back strictly.
func roundTrip(t *testing.T, tr *trace.Trace) *trace.Trace {
	t.Helper()
	b, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var back trace.Trace
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("the trace is not an ObjectTrace: %v\n%s", err, b)
	}
	if back.APIVersion != trace.APIVersion || back.Kind != trace.Kind {
		t.Fatalf("schema header %s/%s", back.APIVersion, back.Kind)
	}
	return &back
}

func chainIDs(tr *trace.Trace) string {
	var ids []string
	for _, st := range tr.Chain {
		ids = append(ids, st.ID())
	}
	return strings.Join(ids, " ← ")
}

// wantOK checks what makes the command exit 0: no error, healthy.
func wantOK(t *testing.T, what string, tr *trace.Trace) {
	t.Helper()
	if tr.Summary.Error != "" || !tr.Summary.Healthy {
		t.Fatalf("%s: summary %+v, want healthy without an error", what, tr.Summary)
	}
}

// TestTraceRealController: what the real kustomize-controller writes —
// owner labels on what it applies to the spokes and the hub, inventories
// and revisions in the hub's status — is what trace follows.
func TestTraceRealController(t *testing.T) {
	t.Parallel()
	if !testing.Short() {
		if _, err := testfleet.FluxBinDir(); err != nil {
			t.Fatal(err) // before starting the fleet: fail fast
		}
	}
	fl := testfleet.Get(t)
	setup, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := fl.LoadSampleWithController(setup, testfleet.SampleOptions{Namespace: testfleet.Namespace(t), OwnNamespaces: true})
	if err != nil {
		t.Fatalf("real kustomize-controller: %v", err)
	}
	sns := s.SpokeNamespace
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kustomize-controller log %s (tail):\n%s", s.Controller.LogFile, s.Controller.LogTail(60))
		}
		if err := s.Close(); err != nil {
			t.Errorf("stopping kustomize-controller: %v", err)
		}
	})
	ctx, cancelCtx := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelCtx()
	if err := s.WriteFluxReport(ctx); err != nil {
		t.Fatal(err)
	}
	ns := s.Namespace
	// run traces as `kubectl c5c3 trace --hub-namespace <ns>
	// --flux-namespace <ns>` does, the result read back from -o json.
	run := func(opts trace.Options) *trace.Trace {
		t.Helper()
		hub, err := kube.NewClient(s.Fleet.Hub.Config)
		if err != nil {
			t.Fatal(err)
		}
		f, err := fleet.Discover(ctx, hub, fleet.Options{Namespace: ns, FluxNamespace: ns})
		if err != nil {
			t.Fatalf("discovering the fleet: %v", err)
		}
		opts.FluxNamespace = ns
		tr, err := trace.Run(ctx, f, opts)
		if err != nil {
			t.Fatalf("trace.Run %s/%s: %v", opts.Type, opts.Name, err)
		}
		return roundTrip(t, tr)
	}

	tr := run(trace.Options{Type: "deploy", Name: "keystone-api", Namespace: sns("openstack"), Cluster: "control-plane"})
	wantOK(t, "trace after the real controller", tr)
	if want := "Kustomization/" + ns + "/control-plane-apps ← Kustomization/" + ns + "/flux-system"; chainIDs(tr) != want {
		t.Fatalf("chain %s, want %s", chainIDs(tr), want)
	}
	for _, st := range tr.Chain {
		if st.Revision != s.Revision {
			t.Errorf("step %s: revision %q, want %s", st.ID(), st.Revision, s.Revision)
		}
		if st.InInventory == nil || !*st.InInventory {
			t.Errorf("step %s: inInventory %v, want true", st.ID(), st.InInventory)
		}
		if st.State != "Ready" {
			t.Errorf("step %s: state %q, want Ready", st.ID(), st.State)
		}
		if st.Stale {
			t.Errorf("step %s: stale, want not", st.ID())
		}
	}
	if want := "Kustomization/" + ns + "/control-plane-apps"; tr.Object.Owner != want {
		t.Errorf("owner %q, want %s", tr.Object.Owner, want)
	}
	if !tr.Chain[1].Root {
		t.Errorf("step %s is not the root", tr.Chain[1].ID())
	}

	// A hub object: the Kustomization control-plane-apps itself.
	tr = run(trace.Options{Type: "kustomizations.kustomize.toolkit.fluxcd.io", Name: "control-plane-apps", Namespace: ns})
	wantOK(t, "hub Kustomization", tr)
	if want := "Kustomization/" + ns + "/flux-system"; chainIDs(tr) != want {
		t.Fatalf("hub Kustomization: chain %s, want %s", chainIDs(tr), want)
	}
	if !tr.Object.Hub {
		t.Errorf("hub Kustomization: object not on the hub")
	}
	if !tr.Chain[0].Root {
		t.Errorf("hub Kustomization: step %s is not the root", tr.Chain[0].ID())
	}
	if tr.Chain[0].Cluster != "management" {
		t.Errorf("hub Kustomization: root on cluster %q, want management", tr.Chain[0].Cluster)
	}
}
