package diff_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/c5c3/kubectl-c5c3/diff"
	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// TestSelectionContactsOnlySelected counts every request of narrowed diff
// runs: a cluster none of whose Kustomizations (or their HelmReleases)
// targets is never contacted, and on the hub only the selected Kustomizations' kinds are
// listed, and a spoke's Kustomization that is not selected is not built.
func TestSelectionContactsOnlySelected(t *testing.T) {
	f := testfleet.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := f.LoadSample(ctx, testfleet.SampleOptions{Namespace: testfleet.Namespace(t), OwnNamespaces: true})
	if err != nil {
		t.Fatalf("loading the sample: %v", err)
	}
	for _, tc := range []struct {
		args     []string
		ks       string // the Kustomizations diffed
		clusters string // the clusters contacted ("hub" is the management hub)
		hubLists bool   // whether the hub's objects are listed (a hub Kustomization is selected)
	}{
		{[]string{"storage"}, "storage-apps storage-rook-operator", "hub storage", false},
		{[]string{s.Namespace + "/control-plane-apps"}, "control-plane-apps", "control-plane hub", false},
		// management-apps' HelmReleases are rendered and dry-run on the
		// spokes they target.
		{[]string{s.Namespace + "/management-apps"}, "management-apps", "control-plane hub hypervisor storage", true},
		{[]string{"apps/keystone/base"}, "control-plane-apps", "control-plane hub", false},
		{[]string{"hypervisor", "storage"}, "hypervisor-apps storage-apps storage-rook-operator", "hub hypervisor storage", false},
	} {
		c := testfleet.NewRequestCounter()
		fl, err := s.Fleet.DiscoverCounted(ctx, s.Namespace, c)
		if err != nil {
			t.Fatal(err)
		}
		res, err := diff.Run(ctx, fl, diff.Options{RepoDir: s.RepoDir, Targets: tc.args})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range res.Kustomizations {
			got = append(got, k.Name)
		}
		clusters := map[string]bool{}
		var hubObjectCalls []string
		for call := range c.Calls() {
			f := strings.Fields(call)
			clusters[f[0]] = true
			// Discovery and substitution read Flux objects, Secrets and
			// ConfigMaps of the test's namespace; any other hub request but
			// API discovery is about a diffed object.
			p := f[2]
			if f[0] == "hub" && !strings.Contains(p, "toolkit.fluxcd.io") && !strings.Contains(p, "/namespaces/"+s.Namespace+"/") &&
				p != "/api" && p != "/apis" && p != "/version" {
				hubObjectCalls = append(hubObjectCalls, call)
			}
		}
		var contacted []string
		for k := range clusters {
			contacted = append(contacted, k)
		}
		sort.Strings(contacted)
		if strings.Join(got, " ") != tc.ks || strings.Join(contacted, " ") != tc.clusters {
			t.Errorf("diff %v: Kustomizations %v (want %s), contacted %v (want %s)", tc.args, got, tc.ks, contacted, tc.clusters)
		}
		// Building control-plane-apps reads its substituteFrom ConfigMap from
		// the hub: an unselected one is not built.
		built := false
		for call := range c.Calls() {
			built = built || strings.HasSuffix(call, "/configmaps/cluster-vars")
		}
		if want := strings.Contains(tc.ks, "control-plane-apps"); built != want {
			t.Errorf("diff %v: control-plane-apps built: %v, want %v", tc.args, built, want)
		}
		if tc.hubLists != (len(hubObjectCalls) > 0) {
			t.Errorf("diff %v: hub object requests %v, want any: %v", tc.args, hubObjectCalls, tc.hubLists)
		}
	}
}
