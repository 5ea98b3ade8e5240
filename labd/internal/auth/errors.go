package auth

import (
	"fmt"
	"time"
)

// Error codes the API maps to statuses (labd/internal/api/errors.go).
const (
	EInvalid      = "invalid"       // bad input: an e-mail, a weak password, an unknown role
	ENotFound     = "not_found"     // no such user or invitation
	EConflict     = "conflict"      // a duplicate e-mail, a used invitation
	EExpired      = "expired"       // an invitation past its time
	EUnauthorized = "unauthorized"  // wrong e-mail or password, no valid session
	EForbidden    = "forbidden"     // the caller's role may not do this
	ELimit        = "limit_reached" // too many failed sign-ins
)

// Error is an account error with a code the API maps to a status and a
// message fit to show the user.
type Error struct {
	Code    string
	Message string
	// RetryAfter, for ELimit, is when trying again can succeed.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// ErrorCode lets the API map the error without knowing this package.
func (e *Error) ErrorCode() string { return e.Code }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
