// Package sourceview is the view of a directory that source-controller's
// artifact of it holds: what a GitRepository (or Bucket) artifact contains
// when source-controller packs a checkout. Files excluded by .sourceignore
// files at any level, by the source's spec.ignore and, when neither gives a
// pattern, by source-controller's default exclusions (VCS files, CI
// configuration, archives and images, .sops.yaml, .flux.yaml) are not in
// the view, nor are symlinks and anything reached through them. The
// directory is only read, never written.
package sourceview
