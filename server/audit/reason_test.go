package audit

import (
	"context"
	"reflect"
	"testing"

	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

func TestReasoned(t *testing.T) {
	own := map[string]any{"reason": "changed my mind"}
	for _, tc := range []struct {
		name    string
		reason  string
		details map[string]any
		want    map[string]any
	}{
		{"ok/no reason leaves details", "", map[string]any{"a": 1}, map[string]any{"a": 1}},
		{"ok/blank reason is none", "  ", nil, nil},
		{"ok/reason added", " left the company ", map[string]any{"a": 1}, map[string]any{"a": 1, "reason": "left the company"}},
		{"ok/reason into nil details", "lost", nil, map[string]any{"reason": "lost"}},
		{"ok/the event's own reason wins", "lost", own, own},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]any(nil)
			if tc.details != nil {
				in = map[string]any{}
				for k, v := range tc.details {
					in[k] = v
				}
			}
			got := Reasoned(WithReason(context.Background(), tc.reason), in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if !reflect.DeepEqual(in, tc.details) {
				t.Errorf("details changed to %v", in)
			}
		})
	}
}

// TestRequireReason: a person acting on someone else needs a reason that is not blank;
// their own actions, the Desktop App's (acting for its order's owner) and the server's
// need none.
func TestRequireReason(t *testing.T) {
	as := func(k viewer.Kind, id string) context.Context {
		return viewer.NewContext(context.Background(), &viewer.Viewer{Kind: k, UserID: id, Roles: []string{"operator"}})
	}
	olga := as(viewer.KindUser, "usr_olga")
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		subject string
		want    errs.Code
	}{
		{"error/for someone else without a reason", olga, "usr_ann", errs.ReasonRequired},
		{"error/a blank reason is none", WithReason(olga, " \n\t"), "usr_ann", errs.ReasonRequired},
		{"ok/for someone else with a reason", WithReason(olga, "left the company"), "usr_ann", ""},
		{"ok/for oneself", olga, "usr_olga", ""},
		{"ok/the Desktop App for its order's owner", as(viewer.KindBridge, "usr_ann"), "usr_ann", ""},
		{"ok/the server", viewer.AsServer(context.Background()), "usr_ann", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := RequireReason(tc.ctx, tc.subject)
			if got := errs.CodeOf(err); (err == nil) != (tc.want == "") || (err != nil && got != tc.want) {
				t.Errorf("RequireReason = %v, want code %q", err, tc.want)
			}
		})
	}
}
