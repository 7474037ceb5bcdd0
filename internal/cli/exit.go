package cli

import (
	"errors"
	"fmt"
)

// Exit codes (docs/exit-codes.md). They follow `terraform plan
// -detailed-exitcode`: 2 means the command ran and found what the user asked
// it to fail on, so CI can tell "found problems" from "could not run".
const (
	ExitOK       = 0
	ExitError    = 1
	ExitFindings = 2
)

// FindingsError reports that a command completed and found problems the
// user asked to fail on (a capacity FAIL, drift). The command has already
// printed its report; main only sets the exit code.
type FindingsError struct{ Summary string }

func (e *FindingsError) Error() string { return e.Summary }

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	var f *FindingsError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &f):
		return ExitFindings
	}
	var s *silentExit
	if errors.As(err, &s) {
		return s.code
	}
	return ExitError
}

// silentExit ends the process with a code after the command has printed
// its own error (the sandbox's eksctl prints eksctl's).
type silentExit struct{ code int }

func (e *silentExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError marks flag and argument mistakes, for which the command's
// usage line is shown.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }
