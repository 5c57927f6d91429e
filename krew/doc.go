// Package krew will render the krew-index plugin manifest (.krew.yaml) for a
// release from the dist archives.
package krew
