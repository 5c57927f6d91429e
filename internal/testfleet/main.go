package testfleet

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

var (
	shared    *Fleet
	startErr  error
	startOnce sync.Once
	running   bool
	nsSeq     atomic.Int64
)

// Run runs the tests and stops the shared fleet afterwards. The fleet is
// started by the first Get, so a package whose selected tests need none
// does not pay for it. Use it from TestMain: os.Exit(testfleet.Run(m)).
func Run(m *testing.M) int {
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	running = true
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testfleet: stopping: %v\n", err)
		}
	}
	return code
}

// Get returns the shared fleet. Under -short it skips the test; otherwise a
// fleet that could not start fails it (missing binaries are a failure).
func Get(t testing.TB) *Fleet {
	t.Helper()
	if testing.Short() {
		t.Skip("fleet test: needs real apiservers, skipped with -short")
	}
	if !running {
		t.Fatal("test fleet: call testfleet.Run from TestMain")
	}
	startOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		shared, startErr = Start(ctx, Options{NodesPerSpoke: 3})
	})
	if startErr != nil {
		t.Fatalf("test fleet did not start: %v", startErr)
	}
	return shared
}

// Namespace returns a fresh hub namespace for one test. Names have a fixed
// width (fleet-t0001, ...) so golden files can normalise them without
// moving table columns.
func Namespace(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("fleet-t%04d", nsSeq.Add(1))
}

// StartForTest starts a fleet of its own for one test of a package without
// a shared one (no TestMain) and stops it when the test ends. Under -short
// it skips the test; a fleet that cannot start fails it.
func StartForTest(t testing.TB, opts Options) *Fleet {
	t.Helper()
	if testing.Short() {
		t.Skip("fleet test: needs real apiservers, skipped with -short")
	}
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("test fleet did not start: %v", err)
	}
	t.Cleanup(func() {
		if err := f.Stop(); err != nil {
			t.Errorf("stopping the test fleet: %v", err)
		}
	})
	return f
}
