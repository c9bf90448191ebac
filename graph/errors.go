package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/privacy"
	"github.com/vscard/vscard/server/errs"
)

// presentError is the one place that turns errors into what clients see: the domain's
// code and message, never an internal cause. Internal errors are logged with a reference
// the client also gets, so support can find the log line.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var de *errs.Error
		switch {
		case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
			// The request's deadline passed or its client went away: not a fault of
			// ours to log at ERROR each time.
			log.DebugContext(ctx, "graphql request ended before it was answered", "err", err)
			e := endedError(ctx.Err())
			gerr.Message = e.Message
			gerr.Extensions = extensions(e.Code, nil)
		case errors.As(err, &de):
			gerr.Message = de.Message
			gerr.Extensions = extensions(de.Code, de.Details)
			if de.Code == errs.Internal && de.Cause != nil {
				ref := logInternal(ctx, log, err)
				gerr.Extensions["reference"] = ref
			}
		case errors.Is(err, privacy.Deny):
			gerr.Message = "You may not do this."
			gerr.Extensions = extensions(errs.Forbidden, nil)
		case ent.IsNotFound(err):
			gerr.Message = "Not found."
			gerr.Extensions = extensions(errs.NotFound, nil)
		case ent.IsValidationError(err):
			gerr.Message = "A value is not valid: " + validationField(err)
			gerr.Extensions = extensions(errs.InvalidInput, nil)
		case isRequestError(err):
			// Parse and validation errors, bad variables, unknown enum values: the
			// message is gqlparser's and names the problem; keep it.
			if gerr.Extensions == nil || gerr.Extensions["code"] == nil {
				gerr.Extensions = extensions(errs.InvalidInput, nil)
			}
		default:
			ref := logInternal(ctx, log, err)
			gerr.Message = "Something went wrong on our side. Reference: " + ref
			gerr.Extensions = extensions(errs.Internal, map[string]any{"reference": ref})
		}
		return gerr
	}
}

// isRequestError reports whether err is gqlgen/gqlparser's own complaint about the
// request, as opposed to a resolver's error.
func isRequestError(err error) bool {
	var g *gqlerror.Error
	if !errors.As(err, &g) {
		return false
	}
	return g.Err == nil || isRequestError(g.Err)
}

func extensions(code errs.Code, details map[string]any) map[string]any {
	ext := map[string]any{"code": string(code)}
	for k, v := range details {
		ext[k] = v
	}
	return ext
}

func validationField(err error) string {
	var ve *ent.ValidationError
	if errors.As(err, &ve) {
		return ve.Name
	}
	return "input"
}

func logInternal(ctx context.Context, log *slog.Logger, err error) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	ref := hex.EncodeToString(b[:])
	path := ""
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		path = fc.Path().String()
	}
	log.ErrorContext(ctx, "graphql internal error", "reference", ref, "path", path, "err", err)
	return ref
}

// recoverPanic turns a resolver panic into an INTERNAL error; the stack goes to the log.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errs.New(errs.Internal, "Something went wrong on our side.")
	}
}
