package testfleet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FluxBinDir finds the kustomize-controller and helm-controller binaries:
// $FLUX_BIN, else bin/flux in the module root. It fails with a hint when
// one is missing.
func FluxBinDir() (string, error) {
	return binDir("FLUX_BIN", "flux", "make flux-bins", "kustomize-controller", "helm-controller")
}

// Controller is a running Flux controller process (kustomize-controller
// or helm-controller), reconciling the objects of one hub namespace.
type Controller struct {
	// Name is the controller binary.
	Name string
	// Namespace is the only hub namespace it watches.
	Namespace string
	// LogFile holds its stdout and stderr.
	LogFile string

	cmd     *exec.Cmd
	log     *os.File
	done    chan struct{}
	waitErr error
	stop    sync.Once
}

// StartController starts the real kustomize-controller against the hub,
// watching only namespace: no leader election, metrics and health on free
// ports of 127.0.0.1, no remote bases, dependencies re-checked every 2 s
// (instead of 30 s) so that dependsOn chains settle quickly. Remote spokes
// are reached through the kubeconfig Secrets in the namespace. Its logs go
// to a file in the fleet's directory; Stop ends it. extra flags are
// appended (e.g. --feature-gates=ObjectLevelWorkloadIdentity=true).
func (f *Fleet) StartController(namespace string, extra ...string) (*Controller, error) {
	return f.startController("kustomize-controller", namespace, append([]string{
		"--watch-all-namespaces=false",
		"--enable-leader-election=false",
		"--metrics-addr=127.0.0.1:0",
		"--health-addr=127.0.0.1:0",
		"--no-remote-bases=true",
		"--concurrent=4",
		"--requeue-dependency=2s",
		"--max-retry-delay=10s",
		"--log-encoding=console",
		"--log-level=info",
	}, extra...)...)
}

// StartHelmController starts the real helm-controller against the hub,
// watching only namespace, like StartController: it installs and upgrades
// the namespace's HelmReleases on their targets through the kubeconfig
// Secrets, loading charts from the artifact URLs of their sources
// (PublishChartArtifact).
func (f *Fleet) StartHelmController(namespace string) (*Controller, error) {
	return f.startController("helm-controller", namespace,
		"--watch-all-namespaces=false",
		"--enable-leader-election=false",
		"--metrics-addr=127.0.0.1:0",
		"--health-addr=127.0.0.1:0",
		"--concurrent=4",
		"--requeue-dependency=2s",
		"--log-encoding=console",
		"--log-level=info",
	)
}

func (f *Fleet) startController(name, namespace string, args ...string) (*Controller, error) {
	bin, err := FluxBinDir()
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(f.Dir, name+"-"+namespace)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	c := &Controller{Name: name, Namespace: namespace, LogFile: tmp + ".log", done: make(chan struct{})}
	if c.log, err = os.Create(c.LogFile); err != nil {
		return nil, err
	}
	c.cmd = exec.Command(filepath.Join(bin, name), args...)
	// The controller's own temp dirs (it purges stale ones at start-up) are
	// kept apart from everything else on the machine.
	c.cmd.Env = append(filterEnv(os.Environ(), "KUBECONFIG", "RUNTIME_NAMESPACE", "TMPDIR"),
		"KUBECONFIG="+f.HubKubeconfig,
		"RUNTIME_NAMESPACE="+namespace,
		"TMPDIR="+tmp,
	)
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	c.cmd.SysProcAttr = procAttr()
	f.Hub.thread.run(func() { err = c.cmd.Start() })
	if err != nil {
		c.log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func filterEnv(env []string, drop ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range drop {
			if name == d {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// Exited returns a non-nil error once the process has ended.
func (c *Controller) Exited() error {
	select {
	case <-c.done:
		if c.waitErr != nil {
			return fmt.Errorf("%s exited: %w", c.Name, c.waitErr)
		}
		return errors.New(c.Name + " exited")
	default:
		return nil
	}
}

// Stop ends the process (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (c *Controller) Stop() error {
	var err error
	c.stop.Do(func() {
		if c.Exited() == nil {
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.done:
			case <-time.After(10 * time.Second):
				_ = c.cmd.Process.Kill()
				<-c.done
				err = errors.New(c.Name + " did not stop on SIGTERM within 10s; killed")
			}
		}
		if cerr := c.log.Close(); err == nil {
			err = cerr
		}
	})
	return err
}

// LogTail returns the last n lines of the controller's log.
func (c *Controller) LogTail(n int) string {
	b, err := os.ReadFile(c.LogFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// LogErrors returns the controller's log lines at level ERROR.
func (c *Controller) LogErrors() []string {
	b, err := os.ReadFile(c.LogFile)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "\tERROR\t") {
			out = append(out, l)
		}
	}
	return out
}
