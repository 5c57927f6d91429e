package plugin

import (
	"bytes"
	"github.com/c5c3/kubectl-c5c3/internal/expect"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkInterrupt measures issue 20's "every command ends within 1 s of
// Ctrl-C": the real binary runs status, diff, trace, versions and promote
// against a black-holed hub and, with the hub answering, a black-holed
// control-plane spoke (real listeners that take the connection and never
// answer: silent, so the TLS handshake hangs, or tls up, so the request
// hangs; and for the spoke a proxy to the real one that never answers a
// LIST; --request-timeout is ten minutes). Once the command reaches the
// black hole it gets SIGINT, as Ctrl-C sends it (to its process group), and
// the benchmark reports the milliseconds from the signal until the process
// has exited and its output is closed (ms-to-exit), the exit code (exit,
// 130 wanted: any other fails the benchmark) and, as the baseline of the
// same run, the milliseconds `kubectl c5c3 version` takes from start to
// exit (ms-version) with the ratio (x-version).
func BenchmarkInterrupt(b *testing.B) {
	bin := buildPlugin(b)
	version := startToExit(b, bin, "version")
	b.Run("hub", func(b *testing.B) {
		repo := gitopsCheckout(b)
		for _, args := range hubInterruptCommands(repo) {
			for _, tlsUp := range []bool{false, true} {
				b.Run(args[0]+" "+holeModes[tlsUp], func(b *testing.B) {
					benchInterrupt(b, bin, version, func() (*blackHole, []string) {
						h := newBlackHole(b, tlsUp)
						return h, append(args, "--kubeconfig", h.kubeconfigFile(b))
					})
				})
			}
		}
	})
	b.Run("spoke", func(b *testing.B) {
		s, envs, flags := versionsSample(b)
		expect.NoError(b, s.LookCloned())
		holes := spokeHoles(s)
		for _, args := range spokeInterruptCommands(s) {
			for _, mode := range slices.Sorted(maps.Keys(holes)) {
				b.Run(args[0]+" "+mode, func(b *testing.B) {
					benchInterrupt(b, bin, version, func() (*blackHole, []string) {
						h := holes[mode](b)
						blackHoleSpoke(b, s, envs, h)
						return h, append(args, flags[:len(flags)-2]...)
					})
				})
			}
		}
	})
}

// benchInterrupt runs the binary once per iteration with the arguments
// setUp returns together with the fresh black hole they lead to, sends
// SIGINT when the binary reaches it and reports the time to exit.
func benchInterrupt(b *testing.B, bin string, version time.Duration, setUp func() (*blackHole, []string)) {
	var total, worst time.Duration
	n := 0
	for b.Loop() {
		h, args := setUp()
		took, code, out := interruptBinary(b, bin, h, append(args, "--request-timeout", "10m", "--color", "never")...)
		if code != CodeInterrupted {
			b.Fatalf("%v: exit %d after SIGINT, want %d\n%s", args, code, CodeInterrupted, out)
		}
		total += took
		worst = max(worst, took)
		n++
	}
	ms := float64(total.Microseconds()) / 1000 / float64(n)
	b.ReportMetric(ms, "ms-to-exit")
	b.ReportMetric(float64(worst.Microseconds())/1000, "ms-to-exit-max")
	b.ReportMetric(float64(CodeInterrupted), "exit")
	b.ReportMetric(float64(version.Microseconds())/1000, "ms-version")
	b.ReportMetric(ms/(float64(version.Microseconds())/1000), "x-version")
}

// interruptBinary starts the binary in a process group of its own, waits
// until it reaches the black hole, sends SIGINT to the group as a
// terminal's Ctrl-C does and returns the time from the signal until the
// binary has exited and closed its output, its exit code and its output.
func interruptBinary(b *testing.B, bin string, h *blackHole, args ...string) (time.Duration, int, string) {
	b.Helper()
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	expect.NoError(b, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-h.reached:
	case err := <-exited:
		b.Fatalf("%v ended (%v) before it reached the black hole\n%s", args, err, out.String())
	case <-time.After(3 * time.Minute):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		b.Fatalf("%v never reached the black hole\n%s", args, out.String())
	}
	sent := time.Now()
	expect.NoError(b, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT))
	var err error
	select {
	case err = <-exited:
	case <-time.After(2 * time.Minute):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		b.Fatalf("%v did not end after SIGINT\n%s", args, out.String())
	}
	took := time.Since(sent)
	return took, processExit(b, err), out.String()
}

// startToExit is the wall time of one run of the binary with args, from
// start to exit.
func startToExit(b *testing.B, bin string, args ...string) time.Duration {
	b.Helper()
	start := time.Now()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
	}
	return time.Since(start)
}

// processExit is the exit code Wait's error carries (0 for none).
func processExit(t testing.TB, err error) int {
	t.Helper()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	expect.NoError(t, err)
	return 0
}
