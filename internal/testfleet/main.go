package testfleet

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

var (
	shared   *Fleet
	startErr error
	nsSeq    atomic.Int64
)

// Run starts the shared fleet (unless -short), runs the tests and stops the
// fleet. Use it from TestMain: os.Exit(testfleet.Run(m)).
func Run(m *testing.M) int {
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	if !testing.Short() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		shared, startErr = Start(ctx, Options{NodesPerSpoke: 3})
		cancel()
		if startErr != nil {
			fmt.Fprintf(os.Stderr, "testfleet: %v\n", startErr)
		}
	}
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
	if startErr != nil {
		t.Fatalf("test fleet did not start: %v", startErr)
	}
	if shared == nil {
		t.Fatal("test fleet not started: call testfleet.Run from TestMain")
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
