// Package errs is vscard's one error vocabulary.
//
// Domain packages return *Error values (or wrap them); the GraphQL error presenter and the
// HTTP handlers turn the Code into `extensions.code` (and, in HTTP handlers, a status from
// HTTPStatus) and show only Message. The Cause is for logs: it never reaches a client.
package errs

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Code is a stable, machine-readable error class. Clients switch on it; tests assert it.
//
// The codes are API: the GraphQL schema declares them as enum ErrorCode (graph/schema.graphqls,
// bound to this type in gqlgen.yml), so the desktop bridge's client (genqlient) and the SPA's
// types (graphql-codegen) are generated from the same list. graph's TestErrorCodesAreTheSchemas
// keeps the list below and the schema's enum equal.
type Code string

// The codes. Keep this list short: a new code is an API change (add it to the schema's
// ErrorCode with a description, to HTTPStatus, and give the SPA words for it).
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
	// RequestTooLarge refuses a request body over the server's limit before it is read.
	RequestTooLarge Code = "REQUEST_TOO_LARGE"
	// IntrospectionDisabled refuses schema introspection to a caller not allowed it.
	IntrospectionDisabled Code = "INTROSPECTION_DISABLED"
	// Timeout ends a request that ran past its deadline or whose client went away.
	Timeout Code = "TIMEOUT"
	// Unavailable says that something the server needs for the answer (the identity
	// provider, the session store) cannot be reached right now: try again later.
	Unavailable Code = "UNAVAILABLE"
	// ReasonRequired refuses an action on someone else's account, card or order that
	// gives no reason: the audit log says why a help desk acted for a person.
	ReasonRequired Code = "REASON_REQUIRED"
	Internal       Code = "INTERNAL"
)

// codes are the codes with the HTTP status each is answered with when an HTTP handler,
// not a GraphQL response, carries it: one list, so a code cannot lack a status.
var codes = []struct {
	code   Code
	status int
}{
	{Unauthenticated, http.StatusUnauthorized},
	{Forbidden, http.StatusForbidden},
	{NotFound, http.StatusNotFound},
	{InvalidInput, http.StatusBadRequest},
	{IllegalState, http.StatusConflict},
	{UserNotActive, http.StatusForbidden},
	{TokenInvalid, http.StatusUnauthorized},
	{TokenExpired, http.StatusUnauthorized},
	{TokenUsed, http.StatusUnauthorized},
	{PINPolicy, http.StatusBadRequest},
	{ScriptError, http.StatusBadRequest},
	{Conflict, http.StatusConflict},
	{RateLimited, http.StatusTooManyRequests},
	// 422 is what gqlgen answers a document it refuses before running it with.
	{QueryTooComplex, http.StatusUnprocessableEntity},
	{RequestTooLarge, http.StatusRequestEntityTooLarge},
	{IntrospectionDisabled, http.StatusForbidden},
	{Timeout, http.StatusServiceUnavailable},
	{Unavailable, http.StatusServiceUnavailable},
	{ReasonRequired, http.StatusBadRequest},
	{Internal, http.StatusInternalServerError},
}

// Codes lists every code, in the order of the schema's enum ErrorCode.
func Codes() []Code {
	out := make([]Code, len(codes))
	for i, c := range codes {
		out[i] = c.code
	}
	return out
}

// Valid reports whether c is one of the codes.
func (c Code) Valid() bool { return HTTPStatus(c) != 0 }

// HTTPStatus is the one mapping from a code to the HTTP status of an answer that carries
// it (like smallstep's errs.StatusCode): every handler that answers with a code takes its
// status from here. It is 0 for a string that is not a code.
func HTTPStatus(c Code) int {
	for _, x := range codes {
		if x.code == c {
			return x.status
		}
	}
	return 0
}

// StatusOf is the HTTP status for err: that of its code, INTERNAL's for an error without one.
func StatusOf(err error) int { return HTTPStatus(CodeOf(err)) }

// MarshalGQL writes c as a GraphQL enum value (gqlgen's graphql.Marshaler).
func (c Code) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(c))) }

// UnmarshalGQL reads c from a GraphQL enum value (gqlgen's graphql.Unmarshaler).
func (c *Code) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !Code(s).Valid() {
		return fmt.Errorf("%v is not an error code", v)
	}
	*c = Code(s)
	return nil
}

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
