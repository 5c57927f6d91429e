package plugin

import (
	"errors"
	"fmt"
)

// Exit codes shared by every command.
const (
	// CodeOK means success (status: everything Ready; diff: no changes).
	CodeOK = 0
	// CodeAttention means the command worked and found something to look
	// at (status: something failing; diff: changes).
	CodeAttention = 1
	// CodeError means the command could not do its job: bad input, an
	// unreachable hub, missing CRDs.
	CodeError = 2
	// CodeInterrupted means the command was interrupted (Ctrl-C, SIGTERM)
	// and ended early: 128 + SIGINT, as a shell reports a process killed
	// by it.
	CodeInterrupted = 130
)

// ExitError carries an exit code. Err, when not nil, is printed once by
// Execute as "error: <msg>".
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return CodeOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return CodeError
}

// usageErrorf is a flag or argument mistake: exit code 2 and the message
// (usage is not printed; flag parse errors point at --help instead).
func usageErrorf(format string, a ...any) error {
	return &ExitError{Code: CodeError, Err: fmt.Errorf(format, a...)}
}

func asExitError(err error, target **ExitError) bool { return errors.As(err, target) }
