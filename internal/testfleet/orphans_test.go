package testfleet

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	owner.Env = append(os.Environ(), ownerEnv+"=1")
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
	children := processes(t, func(p proc) bool { return p.ppid == owner.Process.Pid })
	t.Cleanup(func() {
		for _, p := range children {
			if p.alive() {
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
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
		names = append(names, p.name)
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
			if p.alive() {
				alive = append(alive, fmt.Sprintf("%s (pid %d)", p.name, p.pid))
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

// proc is a process as /proc shows it; start tells a reused pid apart.
type proc struct {
	pid, ppid int
	name      string
	start     string
}

// processes lists the processes that match keep.
func processes(t *testing.T, keep func(proc) bool) []proc {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	var out []proc
	for _, d := range dirs {
		var pid int
		if _, err := fmt.Sscan(filepath.Base(d), &pid); err != nil {
			continue
		}
		p, state, ok := readProc(pid)
		if !ok || state == "Z" || !keep(p) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		if argv0, _, _ := strings.Cut(string(cmdline), "\x00"); argv0 != "" {
			p.name = filepath.Base(argv0)
		}
		out = append(out, p)
	}
	return out
}

// alive reports whether p still runs: the same process (start time), not
// a zombie nobody reaped.
func (p proc) alive() bool {
	now, state, ok := readProc(p.pid)
	return ok && now.start == p.start && state != "Z"
}

// readProc parses /proc/PID/stat: the fields after the parenthesised
// command name are state, ppid, ... and, 22nd of the line, the start time.
func readProc(pid int) (proc, string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return proc{}, "", false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return proc{}, "", false
	}
	p := proc{pid: pid, name: s[strings.IndexByte(s, '(')+1 : i], start: fields[19]}
	if _, err := fmt.Sscan(fields[1], &p.ppid); err != nil {
		return proc{}, "", false
	}
	return p, fields[0], true
}
