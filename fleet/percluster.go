package fleet

import "sync"

// PerCluster calls fn for every cluster of clusters concurrently and
// returns its results by cluster name.
func PerCluster[T any](clusters []*Cluster, fn func(c *Cluster) T) map[string]T {
	out := make(map[string]T, len(clusters))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range clusters {
		wg.Go(func() {
			r := fn(c)
			mu.Lock()
			out[c.Name] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}
