package testfleet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// procAttr makes the kernel kill a started controller when the test
// process dies, so an aborted test run leaves no controller behind. The
// kernel sends the signal when the *thread* that started the child ends,
// so controllers are started on the fleet's owner thread (ownerThread).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// ownedAssets gives envtest, which starts kube-apiserver and etcd itself
// without a way to set Pdeathsig, wrappers in dir for the binaries in
// assets: each sets the parent-death signal with util-linux's setpriv and
// then execs the real binary in the same process, so envtest still stops
// the binary it started. The check of the parent's pid after setpriv closes
// the race of a parent that died before the signal was armed.
func ownedAssets(assets, dir string) (string, error) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		return "", fmt.Errorf("the test fleet ties kube-apiserver and etcd to the test process with setpriv: install util-linux: %w", err)
	}
	out := filepath.Join(dir, "bin")
	if err := os.MkdirAll(out, 0o700); err != nil {
		return "", err
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		script := fmt.Sprintf(`#!/bin/sh
# %[1]s of the c5c3 test fleet: killed when process %[2]d ends.
exec %[3]q --pdeathsig KILL -- /bin/sh -c 'test "$PPID" = "$0" || exit 1; exec "$@"' %[2]d %[4]q "$@"
`, name, os.Getpid(), setpriv, filepath.Join(assets, name))
		if err := os.WriteFile(filepath.Join(out, name), []byte(script), 0o700); err != nil {
			return "", err
		}
	}
	return out, nil
}
