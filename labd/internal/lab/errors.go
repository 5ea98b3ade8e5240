package lab

import (
	"errors"
	"fmt"
	"time"
)

// Error codes shared with the API, which maps each to an HTTP status in one place.
const (
	ENotFound = "not_found"     // no such lab, session, node or step (or not the caller's)
	EConflict = "conflict"      // the action does not fit the session's state
	EInvalid  = "invalid"       // bad input
	ELimit    = "limit_reached" // a per-user or global limit
	EInternal = "internal"
	// EUnavailable: labd cannot answer yet (it is still adopting the
	// sessions of the labd before it); the same code as certificate's.
	EUnavailable = "unavailable"
)

// Error is a domain error with a code the API maps to a status and a message
// fit to show the user.
type Error struct {
	Code    string
	Message string
	// RetryAfter, for ELimit, is when capacity is expected to free up (zero if unknown).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// ErrorCode lets the API map any domain's error without importing it.
func (e *Error) ErrorCode() string { return e.Code }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCodeOf returns the code of err, EInternal when it has none.
func ErrorCodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}
