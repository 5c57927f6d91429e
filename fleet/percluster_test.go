package fleet

import (
	"sync"
	"testing"
)

// TestPerCluster: every cluster's result under its name, the calls
// running at once (each waits until all have started).
func TestPerCluster(t *testing.T) {
	clusters := []*Cluster{{Name: "management", Hub: true}, {Name: "control-plane"}, {Name: "storage"}}
	var started sync.WaitGroup
	started.Add(len(clusters))
	got := PerCluster(clusters, func(c *Cluster) string {
		started.Done()
		started.Wait()
		return "probed " + c.Name
	})
	if len(got) != len(clusters) {
		t.Errorf("got %d results, want %d: %v", len(got), len(clusters), got)
	}
	for _, c := range clusters {
		if got[c.Name] != "probed "+c.Name {
			t.Errorf("result of %s = %q, want %q", c.Name, got[c.Name], "probed "+c.Name)
		}
	}
	if empty := PerCluster(nil, func(*Cluster) int { return 1 }); empty == nil || len(empty) != 0 {
		t.Errorf("no clusters: got %#v, want an empty map", empty)
	}
}
