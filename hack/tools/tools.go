//go:build tools

// Package tools pins the development tools `make lint` builds into bin/:
// staticcheck, at the version of this module's go.mod.
package tools

import _ "honnef.co/go/tools/cmd/staticcheck"
