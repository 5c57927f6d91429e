package testfleet

import (
	"context"
	"net/http"
	"net/url"
	"sync"

	"k8s.io/client-go/rest"

	"github.com/c5c3/kubectl-c5c3/fleet"
	"github.com/c5c3/kubectl-c5c3/kube"
)

// RequestCounter counts requests by "cluster METHOD path". An attempt the
// apiserver's flow control answers with 429 is not counted: client-go
// retries it, and the retry is.
type RequestCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

// NewRequestCounter returns an empty counter.
func NewRequestCounter() *RequestCounter { return &RequestCounter{calls: map[string]int{}} }

// Wrap returns a transport wrapper that counts under the cluster name
// returned by cluster.
func (c *RequestCounter) Wrap(cluster func(*http.Request) string) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(r)
			if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
				return resp, err
			}
			c.mu.Lock()
			c.calls[cluster(r)+" "+r.Method+" "+r.URL.Path]++
			c.mu.Unlock()
			return resp, err
		})
	}
}

// Calls returns a copy of the counts.
func (c *RequestCounter) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// Total is the number of requests counted.
func (c *RequestCounter) Total() int {
	n := 0
	for _, v := range c.Calls() {
		n += v
	}
	return n
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// DiscoverCounted discovers the fleet in hub namespace ns with a fresh hub
// client, counting every request to the hub ("hub") and to each spoke (its
// name) in c — also those the spoke clients built later send.
func (f *Fleet) DiscoverCounted(ctx context.Context, ns string, c *RequestCounter) (*fleet.Fleet, error) {
	names := map[string]string{hostOf(f.Hub.Config): "hub"}
	for name, s := range f.Spokes {
		names[hostOf(s.Config)] = name
	}
	wrap := c.Wrap(func(r *http.Request) string { return names[r.URL.Host] })
	cfg := rest.CopyConfig(f.Hub.Config)
	cfg.Wrap(wrap)
	hub, err := kube.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return fleet.Discover(ctx, hub, fleet.Options{Namespace: ns, Spoke: kube.SpokeOptions{WrapTransport: wrap}})
}

func hostOf(cfg *rest.Config) string {
	u, err := url.Parse(cfg.Host)
	if err != nil || u.Host == "" {
		return cfg.Host
	}
	return u.Host
}
