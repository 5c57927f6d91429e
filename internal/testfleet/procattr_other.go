//go:build !linux

package testfleet

import "syscall"

// procAttr: only Linux can tie the child's life to the test process.
func procAttr() *syscall.SysProcAttr { return nil }
