// Package buildinfo holds the version information injected at build time
// with -ldflags "-X github.com/c5c3/kubectl-c5c3/internal/buildinfo.Version=...".
package buildinfo

import "runtime"

// Set by the linker; see the Makefile's LDFLAGS.
var (
	// Version is the plugin's semantic version, e.g. v0.1.0.
	Version = "dev"
	// Commit is the git commit the binary was built from.
	Commit = "unknown"
	// Date is the commit date (RFC 3339), used instead of the build time so
	// builds stay reproducible.
	Date = "unknown"
)

// Info is the version information printed by `kubectl c5c3 version`.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build information of the running binary.
func Get() Info {
	return Info{
		Version:   Version,
		Commit:    Commit,
		Date:      Date,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}
