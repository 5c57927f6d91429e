package testfleet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Proc is a process as Linux's /proc shows it: what a test needs to find
// the kube-apiservers, etcds and controllers a fleet owner started and to
// check, after the owner is gone, that none of them survived.
type Proc struct {
	PID, PPID int
	// Name is the base name of argv[0] (the wrappers of ownedAssets exec
	// the real binary, so it is kube-apiserver or etcd).
	Name string
	// start is the start time in clock ticks after boot: it tells a
	// reused pid apart.
	start string
}

// Children are the live processes whose parent is pid (none where there
// is no /proc).
func Children(pid int) []Proc {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []Proc
	for _, d := range dirs {
		var p int
		if _, err := fmt.Sscan(filepath.Base(d), &p); err != nil {
			continue
		}
		proc, state, ok := readProc(p)
		if !ok || state == "Z" || proc.PPID != pid {
			continue
		}
		if argv0 := argv0Of(d); argv0 != "" {
			proc.Name = filepath.Base(argv0)
		}
		out = append(out, proc)
	}
	return out
}

// argv0Of reads argv[0] of the process in /proc directory d. A process
// caught in the middle of its exec shows an empty cmdline (and a command
// name cut to 15 characters) for a moment: it is read again for up to a
// second before giving up.
func argv0Of(d string) string {
	for range 100 {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			return ""
		}
		if argv0, _, _ := strings.Cut(string(cmdline), "\x00"); argv0 != "" {
			return argv0
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ""
}

// Alive reports whether p still runs: the same process (start time), not
// a zombie nobody reaped.
func (p Proc) Alive() bool {
	now, state, ok := readProc(p.PID)
	return ok && now.start == p.start && state != "Z"
}

// readProc parses /proc/PID/stat: the fields after the parenthesised
// command name are state, ppid, ... and, 22nd of the line, the start time.
func readProc(pid int) (Proc, string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Proc{}, "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return Proc{}, "", false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return Proc{}, "", false
	}
	p := Proc{PID: pid, Name: s[strings.IndexByte(s, '(')+1 : i], start: fields[19]}
	if _, err := fmt.Sscan(fields[1], &p.PPID); err != nil {
		return Proc{}, "", false
	}
	return p, fields[0], true
}
