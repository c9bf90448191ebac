package api

import (
	"errors"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The server's error codes are the schema's enum ErrorCode, which genqlient generates into
// generated.go (ErrorCode, its constants and AllErrorCode, through the ErrorCodes query in
// errors.graphql): the bridge keeps no list of its own.

// Code returns the server's error code in err (the first GraphQL error's
// extensions.code), or "" when err carries none: a network error, for instance.
func Code(err error) ErrorCode {
	var list gqlerror.List
	if errors.As(err, &list) {
		for _, e := range list {
			if c, ok := e.Extensions["code"].(string); ok {
				return ErrorCode(c)
			}
		}
	}
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		if c, ok := ge.Extensions["code"].(string); ok {
			return ErrorCode(c)
		}
	}
	var he *graphql.HTTPError
	if errors.As(err, &he) {
		for _, e := range he.Response.Errors {
			if c, ok := e.Extensions["code"].(string); ok {
				return ErrorCode(c)
			}
		}
		if he.StatusCode == 401 {
			return ErrorCodeUnauthenticated
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

// Reason returns the first GraphQL error's extensions.reason (e.g. a TPM evidence
// refusal's TPM_EVIDENCE_MISSING), or "".
func Reason(err error) string {
	var list gqlerror.List
	if errors.As(err, &list) && len(list) > 0 {
		r, _ := list[0].Extensions["reason"].(string)
		return r
	}
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		r, _ := ge.Extensions["reason"].(string)
		return r
	}
	var he *graphql.HTTPError
	if errors.As(err, &he) && len(he.Response.Errors) > 0 {
		r, _ := he.Response.Errors[0].Extensions["reason"].(string)
		return r
	}
	return ""
}
