// Package promote will hold the engine behind `kubectl c5c3 promote`, which
// commits revision changes from one environment to the next. It never
// imports cobra.
package promote
