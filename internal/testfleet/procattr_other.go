//go:build !linux

package testfleet

import "syscall"

// procAttr: only Linux can tie the child's life to the test process.
func procAttr() *syscall.SysProcAttr { return nil }

// ownedAssets: only Linux can tie the child's life to the test process, so
// envtest runs the binaries as they are.
func ownedAssets(assets, _ string) (string, error) { return assets, nil }
