package auth

import (
	"reflect"
	"testing"
)

// TestRoles: the operator and admin groups (or the values "operator" and "admin") each add
// their role, in any order and together; other groups add nothing.
func TestRoles(t *testing.T) {
	cfg := (&Config{}).withDefaults()
	for _, tc := range []struct {
		claim any
		want  []string
	}{
		{nil, []string{"user"}},
		{[]any{"staff"}, []string{"user"}},
		{[]any{"vscard-operators"}, []string{"user", "operator"}},
		{"operator", []string{"user", "operator"}},
		{[]any{"vscard-admins"}, []string{"user", "admin"}},
		{[]any{"vscard-admins", "vscard-operators"}, []string{"user", "operator", "admin"}},
	} {
		if got := roles(&cfg, tc.claim); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("roles(%v) = %v, want %v", tc.claim, got, tc.want)
		}
	}
}
