package api

import (
	"errors"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes the server puts into a GraphQL error's extensions.code that the bridge
// acts on.
const (
	CodeTokenInvalid    = "TOKEN_INVALID"
	CodeTokenExpired    = "TOKEN_EXPIRED"
	CodeTokenUsed       = "TOKEN_ALREADY_USED"
	CodeIllegalState    = "ILLEGAL_STATE"
	CodeInvalidInput    = "INVALID_INPUT"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeNotFound        = "NOT_FOUND"
	CodeInternal        = "INTERNAL"
)

// Code returns the server's error code in err (the first GraphQL error's
// extensions.code), or "" when err carries none: a network error, for instance.
func Code(err error) string {
	var list gqlerror.List
	if errors.As(err, &list) {
		for _, e := range list {
			if c, ok := e.Extensions["code"].(string); ok {
				return c
			}
		}
	}
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		if c, ok := ge.Extensions["code"].(string); ok {
			return c
		}
	}
	var he *graphql.HTTPError
	if errors.As(err, &he) {
		for _, e := range he.Response.Errors {
			if c, ok := e.Extensions["code"].(string); ok {
				return c
			}
		}
		if he.StatusCode == 401 {
			return CodeUnauthenticated
		}
	}
	return ""
}

// Message returns the message a person can act on: the server's message of the first
// GraphQL error, or err's text.
func Message(err error) string {
	var list gqlerror.List
	if errors.As(err, &list) && len(list) > 0 {
		return list[0].Message
	}
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		return ge.Message
	}
	var he *graphql.HTTPError
	if errors.As(err, &he) && len(he.Response.Errors) > 0 {
		return he.Response.Errors[0].Message
	}
	return err.Error()
}
