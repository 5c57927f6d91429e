package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds the plugin into the test's directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := filepath.Join(t.TempDir(), "kubectl-c5c3")
	if out, err := exec.Command("go", "build", "-ldflags", "-s -w", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// hubKubeconfig writes a kubeconfig for server with the given user.
func hubKubeconfig(t *testing.T, server, user string) string {
	t.Helper()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: hub, cluster: {server: "`+server+`", insecure-skip-tls-verify: true}}]
users: [{name: u, user: `+user+`}]
contexts: [{name: hub, context: {cluster: hub, user: u}}]
current-context: hub
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// startUntil starts cmd and waits until ready is closed; it fails the test
// if cmd ends first.
func startUntil(t *testing.T, cmd *exec.Cmd, ready <-chan struct{}, stderr *strings.Builder) <-chan error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("ended before it reached the hub: %v\n%s", err, stderr.String())
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("never reached the hub")
	}
	return done
}

// TestInterruptExits130 runs the real binary against a hub that takes
// connections and never answers, not even the TLS handshake, with no
// request timeout: SIGINT ends it with exit code 130.
func TestInterruptExits130(t *testing.T) {
	bin := buildBinary(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lis.Close() }()
	accepted := make(chan struct{})
	go func() {
		var held []net.Conn // kept open, never answered
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			if held = append(held, c); len(held) == 1 {
				close(accepted)
			}
		}
	}()
	kubeconfig := hubKubeconfig(t, "https://"+lis.Addr().String(), "{token: not-a-real-token}")
	cmd := exec.Command(bin, "status", "--kubeconfig", kubeconfig, "--request-timeout", "0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	done := startUntil(t, cmd, accepted, &stderr)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("after SIGINT: %v (want exit 130)\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("SIGINT did not end the process\n%s", stderr.String())
	}
}

// TestSecondInterruptEndsTheProcess runs the real binary where it waits
// for something that does not watch the command's context: the hub's
// exec credential plugin (client-go runs it without one), which hangs. The
// first SIGINT asks the command to wind down; the second must end the
// process, killed by that signal.
func TestSecondInterruptEndsTheProcess(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "asked")
	plugin := filepath.Join(dir, "credential-plugin")
	if err := os.WriteFile(plugin, []byte("#!/bin/sh\n: > "+marker+"\nexec sleep 120 >/dev/null 2>&1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	kubeconfig := hubKubeconfig(t, "https://127.0.0.1:1",
		`{exec: {apiVersion: client.authentication.k8s.io/v1, command: "`+plugin+`", interactiveMode: Never}}`)
	cmd := exec.Command(bin, "status", "--kubeconfig", kubeconfig, "--request-timeout", "0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	asked := make(chan struct{})
	go func() {
		for {
			if _, err := os.Stat(marker); err == nil {
				close(asked)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	done := startUntil(t, cmd, asked, &stderr)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		// Winding down on the first signal is fine too, if it says so.
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("after one SIGINT: %v (want exit 130)\n%s", err, stderr.String())
		}
		return
	case <-time.After(2 * time.Second):
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("after the second SIGINT: %v", err)
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
			t.Fatalf("after the second SIGINT the process ended with %v, want killed by SIGINT\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the second SIGINT did not end the process\n%s", stderr.String())
	}
}
