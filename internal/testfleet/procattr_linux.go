package testfleet

import "syscall"

// procAttr makes the kernel kill a started controller when the test
// process dies, so an aborted test run leaves no controller behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
