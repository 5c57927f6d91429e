// Package printers holds the output helpers shared by every command: the
// colour decision (--color, NO_COLOR, TTY), a kubectl-style borderless table
// and a tree printer. Data goes to the writer it is given; nothing here
// touches os.Stdout.
package printers
