// Package errs is vscard's one error vocabulary.
//
// Domain packages return *Error values (or wrap them); the GraphQL error presenter and the
// HTTP handlers turn the Code into `extensions.code` / a status and show only Message. The
// Cause is for logs: it never reaches a client.
package errs

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error class. Clients switch on it; tests assert it.
type Code string

// The codes. Keep this list short: a new code is an API change.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	InvalidInput    Code = "INVALID_INPUT"
	IllegalState    Code = "ILLEGAL_STATE"
	UserNotActive   Code = "USER_NOT_ACTIVE"
	TokenInvalid    Code = "TOKEN_INVALID"
	TokenExpired    Code = "TOKEN_EXPIRED"
	TokenUsed       Code = "TOKEN_ALREADY_USED"
	PINPolicy       Code = "PIN_POLICY"
	ScriptError     Code = "SCRIPT_ERROR"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
	// QueryTooComplex refuses a GraphQL document over one of the server's limits before
	// the server works on it; details name the limit ("limit") and its value ("max").
	QueryTooComplex Code = "QUERY_TOO_COMPLEX"
	// IntrospectionDisabled refuses schema introspection to a caller not allowed it.
	IntrospectionDisabled Code = "INTROSPECTION_DISABLED"
	// Timeout ends a request that ran past its deadline or whose client went away.
	Timeout  Code = "TIMEOUT"
	Internal Code = "INTERNAL"
)

// Error is a domain error: a code, a message a person can act on, and an internal cause.
type Error struct {
	Code    Code
	Message string
	// Details are safe, structured extras for clients (e.g. script error positions).
	Details map[string]any
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap exposes the cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, &Error{Code: X}) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Cause == nil && t.Code == e.Code
}

// New returns an error with code and a user-facing message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with code and a user-facing message that keeps cause for the logs.
func Wrap(cause error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// WithDetails attaches client-safe structured details and returns e.
func (e *Error) WithDetails(d map[string]any) *Error {
	e.Details = d
	return e
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Sentinel returns a matcher for errors.Is: errors.Is(err, errs.Sentinel(errs.NotFound)).
func Sentinel(code Code) error { return &Error{Code: code} }

// CodeOfMessage returns the safe "CODE: message" of err for notes shown to users, or
// "INTERNAL" when err carries no *Error.
func CodeOfMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return string(e.Code) + ": " + e.Message
	}
	return string(Internal)
}
