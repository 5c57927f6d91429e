// Package diff will hold the server-side-apply dry-run diff engine behind
// `kubectl c5c3 diff`: it builds each cluster path of a local gitops checkout
// and compares it with the live clusters. It never imports cobra.
package diff
