package plugin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/c5c3/kubectl-c5c3/internal/testfleet"
	"github.com/c5c3/kubectl-c5c3/status"
)

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until cond holds for the output, failing the test after a
// minute (a bound for a hung process, not a timing assertion).
func waitFor(t *testing.T, what string, out *syncBuffer, cond func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s; output so far:\n%q", what, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const clearScreen = "\x1b[H\x1b[2J"

var stampLine = regexp.MustCompile(`^# \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// TestStatusWatch runs the real binary with --watch: under a terminal
// (script(1), as TestDiffProgressOnTTY) it redraws the screen after a
// Kustomization turns not Ready on the hub and ends with exit code 0 on
// Ctrl-C; into a pipe it prints one block per change after a timestamp
// line (-o json: one document per change) and ends with exit code 0 on
// SIGINT.
func TestStatusWatch(t *testing.T) {
	t.Parallel()
	testfleet.Get(t)
	bin := buildPlugin(t)

	t.Run("terminal", func(t *testing.T) {
		s, flags := loadSample(t, testfleet.SampleOptions{})
		args := append([]string{"exec", bin, "status", "--watch"}, flags...)
		// script gives the command a terminal; what the test writes to
		// script's stdin is typed into it, so \x03 is a real Ctrl-C.
		cmd := exec.Command("script", "-qec", strings.Join(args, " "), "/dev/null")
		cmd.Env = terminalEnv()
		stdin, err := cmd.StdinPipe()
		expect.NoError(t, err)
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		expect.NoError(t, cmd.Start())
		defer func() { _ = cmd.Process.Kill() }()

		waitFor(t, "the first view", out, func(s string) bool { return strings.Contains(s, "healthy: 4 clusters") })
		if strings.Count(out.String(), clearScreen) != 1 {
			t.Fatalf("first view not drawn on a cleared screen: %q", out.String())
		}
		expect.NoError(t, s.Fail(ctx(t), "Kustomization", "storage-apps", "HealthCheckFailed", "watch-test: timeout waiting for rook"))
		waitFor(t, "the redraw", out, func(o string) bool {
			frames := strings.Split(o, clearScreen)
			last := frames[len(frames)-1]
			return strings.Contains(last, "watch-test: timeout waiting for rook") && strings.Contains(last, "needs attention: 4 clusters")
		})
		if _, err := stdin.Write([]byte{3}); err != nil {
			t.Fatal(err)
		}
		if err := waitExit(cmd); err != nil {
			t.Fatalf("after Ctrl-C: %v\n%q", err, out.String())
		}
		if strings.Contains(out.String(), "error:") {
			t.Errorf("watch printed an error:\n%s", out.String())
		}
	})

	t.Run("pipe", func(t *testing.T) {
		s, flags := loadSample(t, testfleet.SampleOptions{})
		cmd := exec.Command(bin, append([]string{"status", "--watch"}, flags...)...)
		stdout, err := cmd.StdoutPipe()
		expect.NoError(t, err)
		stderr := &syncBuffer{}
		cmd.Stderr = stderr
		expect.NoError(t, cmd.Start())
		defer func() { _ = cmd.Process.Kill() }()

		next := nextBlock(t, stdout, stderr)
		first := next("the first block")
		if !strings.Contains(first, "healthy: 4 clusters") || strings.Contains(first, "\x1b") {
			t.Fatalf("first block:\n%q", first)
		}
		expect.NoError(t, s.Fail(ctx(t), "Kustomization", "storage-apps", "HealthCheckFailed", "watch-test: timeout waiting for rook"))
		for b := next("a block after the change"); !strings.Contains(b, "watch-test: timeout waiting for rook"); b = next("the block with the failure") {
			if !strings.Contains(b, "needs attention") && !strings.Contains(b, "healthy") {
				t.Fatalf("block without a summary:\n%s", b)
			}
		}
		expect.NoError(t, cmd.Process.Signal(os.Interrupt))
		if err := waitExit(cmd); err != nil {
			t.Fatalf("after SIGINT: %v; stderr %q", err, stderr.String())
		}
		if stderr.String() != "" {
			t.Errorf("stderr %q", stderr.String())
		}
	})

	t.Run("pipe, json stream", func(t *testing.T) {
		// One FleetStatus document per change, a stream json.Decoder reads.
		s, flags := loadSample(t, testfleet.SampleOptions{})
		cmd := exec.Command(bin, append([]string{"status", "-w", "-o", "json"}, flags...)...)
		stdout, err := cmd.StdoutPipe()
		expect.NoError(t, err)
		stderr := &syncBuffer{}
		cmd.Stderr = stderr
		expect.NoError(t, cmd.Start())
		defer func() { _ = cmd.Process.Kill() }()

		docs := make(chan status.Report, 64)
		go func() {
			defer close(docs)
			dec := json.NewDecoder(stdout)
			dec.DisallowUnknownFields()
			for {
				var r status.Report
				if dec.Decode(&r) != nil {
					return
				}
				docs <- r
			}
		}()
		next := func(what string) status.Report {
			t.Helper()
			select {
			case r, ok := <-docs:
				if !ok {
					t.Fatalf("stream ended before %s; stderr %q", what, stderr.String())
				}
				return r
			case <-time.After(time.Minute):
				t.Fatalf("gave up waiting for %s", what)
			}
			return status.Report{}
		}
		r := next("the first document")
		if r.Kind != status.Kind {
			t.Fatalf("first document: kind %q, want %s", r.Kind, status.Kind)
		}
		if !r.Summary.Healthy {
			t.Fatalf("first document: summary %+v, want healthy", r.Summary)
		}
		if r.Summary.Objects != 12 {
			t.Fatalf("first document: %d objects, want 12", r.Summary.Objects)
		}
		expect.NoError(t, s.Fail(ctx(t), "HelmRelease", "memcached", "UpgradeFailed", "watch-test"))
		for r := next("a document after the change"); r.Summary.Failed != 1; {
			r = next("the document with the failure")
		}
		expect.NoError(t, cmd.Process.Signal(os.Interrupt))
		if err := waitExit(cmd); err != nil {
			t.Fatalf("after SIGINT: %v; stderr %q", err, stderr.String())
		}
	})
}

// TestStatusWatchFirstReadFails: a hub without Flux is an error (exit 2)
// with --watch too, not an endless wait.
func TestStatusWatchFirstReadFails(t *testing.T) {
	t.Parallel()
	f := testfleet.Get(t)
	r := run(t, "status", "--watch", "--kubeconfig", f.Dir+"/control-plane.kubeconfig", "--color", "never")
	wantExit(t, "--watch against a hub without Flux", r, 2)
	expect.Contains(t, "--watch against a hub without Flux: stderr", r.stderr, "the Flux CRDs are not installed on the hub")
	if r.stdout != "" {
		t.Fatalf("--watch against a hub without Flux: stdout %q, want nothing", r.stdout)
	}
}

// waitExit waits for cmd to end after an interrupt, which must be with
// exit code 130, and kills it after a minute (a bound for a process that
// ignored the interrupt, not a timing assertion).
func waitExit(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee) && ee.ExitCode() == CodeInterrupted:
			return nil
		case err == nil:
			return fmt.Errorf("exit 0 after the interrupt, want %d", CodeInterrupted)
		}
		return err
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		return fmt.Errorf("still running a minute after the interrupt: %w", <-done)
	}
}

// nextBlock reads watch output from r in blocks (readBlocks) and returns
// a function that waits for the next one, failing the test when the
// output ends or after a minute (a bound for a hung process, not a timing
// assertion).
func nextBlock(t *testing.T, r io.Reader, stderr *syncBuffer) func(what string) string {
	blocks := make(chan string, 64)
	go readBlocks(r, blocks)
	return func(what string) string {
		t.Helper()
		select {
		case b, ok := <-blocks:
			if !ok {
				t.Fatalf("output ended before %s; stderr %q", what, stderr.String())
			}
			return b
		case <-time.After(time.Minute):
			t.Fatalf("gave up waiting for %s", what)
		}
		return ""
	}
}

// readBlocks splits watch output into blocks: a "# <time>" line, then the
// view up to a blank line. A line outside that shape ends the stream.
func readBlocks(r io.Reader, blocks chan<- string) {
	defer close(blocks)
	sc := bufio.NewScanner(r)
	var b strings.Builder
	inBlock := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !inBlock && stampLine.MatchString(line):
			inBlock = true
		case !inBlock:
			return
		case line == "":
			blocks <- b.String()
			b.Reset()
			inBlock = false
		default:
			b.WriteString(line + "\n")
		}
	}
}

// TestStatusWatchReprobe: without any change on the hub, --watch contacts
// the spokes again every probe interval (30 s; 1 s here, set through the
// options, not a flag): a spoke that goes down — its kubeconfig Secret now
// names a closed port, which no hub watch sees — shows in the next block.
func TestStatusWatchReprobe(t *testing.T) {
	t.Parallel()
	s, flags := loadSample(t, testfleet.SampleOptions{})
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: stderr}
	o := NewOptions(streams)
	o.watchProbeInterval = time.Second
	cmd := NewRootCmd(o)
	cmd.SetArgs(append([]string{"status", "--watch", "--request-timeout", "10s"}, flags...))
	c, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- execute(c, cmd, streams)
		_ = pw.Close()
	}()
	next := nextBlock(t, pr, stderr)
	if first := next("the first block"); !strings.Contains(first, "healthy: 4 clusters") {
		t.Fatalf("first block:\n%s", first)
	}
	expect.NoError(t, s.BreakKubeconfig(ctx(t), "hypervisor", testfleet.FaultUnreachable))
	b := next("the block after the spoke went down")
	expect.Contains(t, "next block, with the spoke down", b, "cluster hypervisor · unreachable", "127.0.0.1:1", "needs attention: 4 clusters")
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }() // drain until the pipe closes
	select {
	case got := <-code:
		if got != CodeInterrupted {
			t.Fatalf("exit %d after cancel, want %d (Ctrl-C); stderr %q", got, CodeInterrupted, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("--watch did not end after its context was cancelled")
	}
	if strings.Contains(stderr.String(), "unreachable-token-must-never-be-printed") {
		t.Fatal("kubeconfig contents leaked")
	}
}
