package krew

import (
	"fmt"
	"strings"
)

// Names of the plugin and of the files shipped in every archive.
const (
	// PluginName is the krew plugin name: `kubectl krew install c5c3`.
	PluginName = "c5c3"
	// BinaryName is the plugin executable kubectl finds on the PATH.
	BinaryName = "kubectl-c5c3"
	// ShimName is the completion executable kubectl (>= 1.26) runs for
	// `kubectl c5c3 <TAB>`.
	ShimName = "kubectl_complete-c5c3"
	// ChecksumsFile lists the sha256 of every archive, as sha256sum does.
	ChecksumsFile = "checksums.txt"
)

// Platform is one GOOS/GOARCH pair a release is built for.
type Platform struct {
	OS   string
	Arch string
}

// Platforms are the release platforms, in the order of the manifest's
// spec.platforms.
var Platforms = []Platform{
	{OS: "linux", Arch: "amd64"},
	{OS: "linux", Arch: "arm64"},
	{OS: "darwin", Arch: "amd64"},
	{OS: "darwin", Arch: "arm64"},
	{OS: "windows", Arch: "amd64"},
}

// ParsePlatform parses "os/arch" (or "os_arch").
func ParsePlatform(s string) (Platform, error) {
	os, arch, ok := strings.Cut(s, "/")
	if !ok {
		os, arch, ok = strings.Cut(s, "_")
	}
	if !ok || os == "" || arch == "" || strings.ContainsAny(arch, "/_") {
		return Platform{}, fmt.Errorf("invalid platform %q: want os/arch, e.g. linux/amd64", s)
	}
	return Platform{OS: os, Arch: arch}, nil
}

// String is "os/arch".
func (p Platform) String() string { return p.OS + "/" + p.Arch }

// Windows reports whether p is a Windows platform.
func (p Platform) Windows() bool { return p.OS == "windows" }

// Binary is the plugin executable's name on p: kubectl-c5c3 or kubectl-c5c3.exe.
func (p Platform) Binary() string {
	if p.Windows() {
		return BinaryName + ".exe"
	}
	return BinaryName
}

// Shim is the completion shim's name on p: kubectl_complete-c5c3, or
// kubectl_complete-c5c3.cmd on Windows (found through PATHEXT).
func (p Platform) Shim() string {
	if p.Windows() {
		return ShimName + ".cmd"
	}
	return ShimName
}

// ArchiveExt is ".zip" on Windows and ".tar.gz" elsewhere.
func (p Platform) ArchiveExt() string {
	if p.Windows() {
		return ".zip"
	}
	return ".tar.gz"
}

// ArchiveName is the release asset name for version on p, e.g.
// kubectl-c5c3_v0.1.0_linux_amd64.tar.gz.
func (p Platform) ArchiveName(version string) string {
	return BinaryName + "_" + version + "_" + p.OS + "_" + p.Arch + p.ArchiveExt()
}
