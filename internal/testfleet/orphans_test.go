package testfleet

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ownerEnv makes TestNoOrphans, run again as a child, the fleet's owner.
const ownerEnv = "C5C3_TESTFLEET_OWNER"

// TestNoOrphans SIGKILLs a process that owns a fleet — this test binary run
// again, which starts a hub, a spoke and a kustomize-controller — and finds
// none of the kube-apiservers, etcds and controllers it started alive
// afterwards (in /proc).
func TestNoOrphans(t *testing.T) {
	if os.Getenv(ownerEnv) != "" {
		ownFleet(t)
		return
	}
	if testing.Short() {
		t.Skip("fleet test: needs real apiservers, skipped with -short")
	}
	if _, err := AssetsDir(); err != nil {
		t.Fatal(err)
	}
	if _, err := FluxBinDir(); err != nil {
		t.Fatal(err)
	}
	owner := exec.Command(os.Args[0], "-test.run=^TestNoOrphans$", "-test.v")
	// The owner is killed and cannot remove its fleet's directories (etcd
	// data, certificates): they go under this test's own temporary
	// directory, which the test removes.
	owner.Env = append(os.Environ(), ownerEnv+"=1", "TMPDIR="+t.TempDir())
	out, err := owner.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	owner.Stderr = os.Stderr
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	var log []string
	ready := false
	for sc := bufio.NewScanner(out); sc.Scan(); {
		log = append(log, sc.Text())
		if ready = strings.Contains(sc.Text(), "fleet owner ready"); ready {
			break
		}
	}
	children := Children(owner.Process.Pid)
	t.Cleanup(func() {
		for _, p := range children {
			if p.Alive() {
				_ = syscall.Kill(p.PID, syscall.SIGKILL)
			}
		}
	})
	_ = owner.Process.Kill()
	_ = owner.Wait()
	if !ready {
		t.Fatalf("the fleet owner did not start its fleet:\n%s", strings.Join(log, "\n"))
	}

	var names []string
	for _, p := range children {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	want := []string{"etcd", "etcd", "kube-apiserver", "kube-apiserver", "kustomize-controller"}
	if !slices.Equal(names, want) {
		t.Fatalf("the owner's children are %v, want %v", names, want)
	}
	// SIGKILL is asynchronous: the children get a minute to go.
	deadline := time.Now().Add(time.Minute)
	for {
		var alive []string
		for _, p := range children {
			if p.Alive() {
				alive = append(alive, fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
			}
		}
		if len(alive) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphans survived their SIGKILLed owner: %v", alive)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ownFleet starts a hub, one spoke and a kustomize-controller, says so on
// stdout and waits to be killed.
func ownFleet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f, err := Start(ctx, Options{Spokes: []string{"orphan"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.StartController("default"); err != nil {
		t.Fatal(err)
	}
	fmt.Println("fleet owner ready")
	time.Sleep(time.Hour)
}
