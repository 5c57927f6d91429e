// Package plugin wires the cobra commands of `kubectl c5c3` to the engine
// packages (status, diff, promote). Every command is built by a constructor
// from the shared Options, and Execute returns the process exit code so that
// tests never hit os.Exit.
package plugin
