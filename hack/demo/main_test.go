package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
)

// demoEnv makes the test binary, run again by TestDemoStopsOnSignal, the
// demo itself: main with the arguments it was given.
const demoEnv = "C5C3_DEMO_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(demoEnv) != "" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestDemoStopsOnSignal runs the demo — this test binary run again as
// main, its output a pipe as in `make demo 2>&1 | tee demo.log` — until it
// waits for Ctrl-C, then ends it as an operator does: Ctrl-C after tee is
// gone (the pipe's reader closed, then SIGINT: every line it writes while
// stopping raises SIGPIPE), or a closed terminal (SIGHUP). Either way the
// demo must stop its fleet itself and exit 0 — not die of the signal in
// the middle of the cleanup — remove its directory, and leave none of the
// kube-apiservers and etcds it started running. The plugin the demo shows
// is not under test: `true` stands in for it.
func TestDemoStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a fleet: needs real apiservers, skipped with -short")
	}
	if _, err := testfleet.AssetsDir(); err != nil {
		t.Fatal(err)
	}
	stand, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		sig         syscall.Signal
		closeReader bool
	}{
		{"Ctrl-C after tee is gone", syscall.SIGINT, true},
		{"terminal closed", syscall.SIGHUP, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "demo")
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			demo := exec.Command(os.Args[0], "-plugin", stand, "-dir", dir)
			demo.Env = append(os.Environ(), demoEnv+"=1")
			demo.Stdout, demo.Stderr = w, w
			if err := demo.Start(); err != nil {
				t.Fatal(err)
			}
			_ = w.Close()
			exited := make(chan error, 1)
			go func() { exited <- demo.Wait() }()
			var log []string
			ready := false
			sc := bufio.NewScanner(r)
			for !ready && sc.Scan() {
				log = append(log, sc.Text())
				ready = strings.HasPrefix(sc.Text(), "Press Ctrl-C to stop it")
			}
			children := testfleet.Children(demo.Process.Pid)
			t.Cleanup(func() {
				for _, p := range children {
					if p.Alive() {
						_ = syscall.Kill(p.PID, syscall.SIGKILL)
					}
				}
			})
			if !ready {
				_ = demo.Process.Kill()
				<-exited
				t.Fatalf("the demo did not get to wait for Ctrl-C:\n%s", strings.Join(log, "\n"))
			}
			var names []string
			for _, p := range children {
				names = append(names, p.Name)
			}
			slices.Sort(names)
			if want := []string{"etcd", "etcd", "etcd", "etcd", "kube-apiserver", "kube-apiserver", "kube-apiserver", "kube-apiserver"}; !slices.Equal(names, want) {
				t.Errorf("the demo's children are %v, want %v", names, want)
			}
			if tc.closeReader {
				_ = r.Close()
			} else {
				go func() { _, _ = io.Copy(io.Discard, r) }()
				t.Cleanup(func() { _ = r.Close() })
			}
			if err := demo.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err = <-exited:
			case <-time.After(3 * time.Minute):
				_ = demo.Process.Kill()
				t.Fatalf("the demo did not end after %v", tc.sig)
			}
			if err != nil {
				t.Errorf("the demo ended with %v after %v, want exit 0 after stopping its fleet", err, tc.sig)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the demo's directory %s is left (stat: %v): it did not finish its cleanup", dir, err)
			}
			var alive []string
			for _, p := range children {
				if p.Alive() {
					alive = append(alive, fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
				}
			}
			if len(alive) > 0 {
				t.Errorf("left running after the demo stopped: %v", alive)
			}
		})
	}
}
