package testfleet

import (
	"context"
	"sync"
	"testing"
	"time"
)

// SharedSample is one sample for the tests of a package that only read it:
// they never edit its checkout, its objects in the hub or on the spokes,
// or the fleet. The first test that asks for it (Get) loads it, with its
// own namespaces; the others reuse it. Such a test calls t.Parallel first.
// Two samples share no object: namespaces and cluster-scoped objects are
// the sample's own (SampleOptions.OwnNamespaces), so readers may run beside
// tests that load and edit samples of their own.
type SharedSample struct {
	// Options for LoadSample; Get sets Namespace and OwnNamespaces.
	Options SampleOptions
	// Setup, when set, runs once after the load: what its readers share
	// besides the sample (more hub objects, say).
	Setup func(ctx context.Context, s *Sample) error

	once sync.Once
	s    *Sample
	err  error
}

// Get returns the sample, loading it on the first call. A load that failed
// fails every test that asks for it.
func (sh *SharedSample) Get(t testing.TB) *Sample {
	t.Helper()
	f := Get(t)
	sh.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		opts := sh.Options
		opts.Namespace, opts.OwnNamespaces = Namespace(t), true
		if sh.s, sh.err = f.LoadSample(ctx, opts); sh.err == nil && sh.Setup != nil {
			sh.err = sh.Setup(ctx, sh.s)
		}
	})
	if sh.err != nil {
		t.Fatalf("loading the shared sample: %v", sh.err)
	}
	return sh.s
}
