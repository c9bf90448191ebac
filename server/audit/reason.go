package audit

import (
	"context"
	"maps"
	"strings"

	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// MaxReason is how long a reason may be, in characters: a sentence or two for the log.
const MaxReason = 500

// reasonKey carries the reason an operator gave for a request (WithReason).
type reasonKey struct{}

// WithReason marks every audit event written in ctx with reason: an operator's action
// for someone else says why ("left the company"), and the events of that request (the
// order started, the card locked, the sessions ended) carry it, whichever code writes them.
// An empty reason leaves ctx as it is.
func WithReason(ctx context.Context, reason string) context.Context {
	if reason = strings.TrimSpace(reason); reason == "" {
		return ctx
	}
	return context.WithValue(ctx, reasonKey{}, reason)
}

// Reason is the reason ctx carries, or "".
func Reason(ctx context.Context) string {
	r, _ := ctx.Value(reasonKey{}).(string)
	return r
}

// Reasoned is details with the reason of ctx under "reason", unless details has one of
// its own (a cancellation's reason, say) or ctx carries none. details is not changed.
func Reasoned(ctx context.Context, details map[string]any) map[string]any {
	r := Reason(ctx)
	if r == "" {
		return details
	}
	if _, ok := details["reason"]; ok {
		return details
	}
	out := maps.Clone(details)
	if out == nil {
		out = map[string]any{}
	}
	out["reason"] = r
	return out
}

// RequireReason refuses, with REASON_REQUIRED, an action the signed-in person in ctx takes
// on someone else's account, cards or orders (subjectID is the person it concerns) when
// ctx carries no reason (WithReason): the log must say why a help desk acted for someone.
// A person's own actions, the Desktop App's and the server's need none.
func RequireReason(ctx context.Context, subjectID string) error {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser || v.UserID == subjectID || Reason(ctx) != "" {
		return nil
	}
	return errs.New(errs.ReasonRequired, "Say why you do this for someone else: the reason goes to the audit log.").
		WithDetails(map[string]any{"field": "reason", "max": MaxReason})
}
