package audit

import (
	"context"
	"reflect"
	"testing"
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
