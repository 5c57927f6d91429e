// Package krew builds the release artifacts of kubectl-c5c3 and the
// krew-index plugin manifest that points at them.
//
// The archives are reproducible: the same inputs and modification time give
// byte-identical .tar.gz and .zip files (sorted entries, fixed modes, owner
// 0:0, one mtime). Render executes the top-level .krew.yaml template with the
// two functions krew-release-bot offers (addURIAndSha and indent), taking
// the sha256 of each archive from checksums.txt instead of downloading it.
//
// The package takes typed inputs and returns typed results; it does not
// import cobra or pflag, nor sigs.k8s.io/krew (whose validation package is
// internal and whose go.mod would break this module's dependencies).
package krew
