package fleet

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ProbeResult is what Probe learns about a cluster.
type ProbeResult struct {
	ServerVersion string
	Nodes         int
	Err           error
}

// Probe contacts every cluster concurrently (server version and a
// metadata-only node list) and returns the results by cluster name.
func (f *Fleet) Probe(ctx context.Context, clusters []*Cluster) map[string]ProbeResult {
	out := make(map[string]ProbeResult, len(clusters))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.probe(ctx, c)
			mu.Lock()
			out[c.Name] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (f *Fleet) probe(ctx context.Context, c *Cluster) ProbeResult {
	cl, err := f.Client(ctx, c, "")
	if err != nil {
		return ProbeResult{Err: err}
	}
	v, err := cl.Discovery.ServerVersion()
	if err != nil {
		return ProbeResult{Err: fmt.Errorf("cluster %s is unreachable: %w", c.Name, err)}
	}
	nodes := &metav1.PartialObjectMetadataList{}
	nodes.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "NodeList"})
	n := 0
	if err := cl.Client.List(ctx, nodes); err == nil {
		n = len(nodes.Items)
	} else {
		n = -1 // not allowed to list nodes: unknown
	}
	return ProbeResult{ServerVersion: v.GitVersion, Nodes: n}
}
