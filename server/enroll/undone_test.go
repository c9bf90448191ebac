package enroll

import (
	"testing"

	"github.com/vscard/vscard/server/record"
)

// TestEndingSaysWhatItUndid: the step that ends an order records what the ending took
// back, so that the portal does not say "no card was created and every certificate was
// revoked" of an order that made a card, nor of one that issued nothing.
func TestEndingSaysWhatItUndid(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, env *testEnv) string
		want record.Undone
	}{
		{"ok/nothing made yet", func(t *testing.T, env *testEnv) string {
			o, err := env.e.Start(env.as(env.ann, false), ProcessGetVirtualSmartCard, "")
			if err != nil {
				t.Fatal(err)
			}
			return o.ID
		}, record.Undone{}},
		{"ok/a card, no certificates", func(t *testing.T, env *testEnv) string {
			o, _ := runToCreating(t, env)
			return o.ID
		}, record.Undone{CardDeleted: true}},
		{"ok/a card and a certificate", func(t *testing.T, env *testEnv) string {
			o, session := runToCreating(t, env)
			if _, err := submit(t, env, o, session); err != nil {
				t.Fatal(err)
			}
			return o.ID
		}, record.Undone{CardDeleted: true, CertificatesRevoked: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil)
			id := tt.run(t, env)
			if _, err := env.e.Cancel(env.as(env.ann, false), id, ""); err != nil {
				t.Fatal(err)
			}
			o := env.db.Order.GetX(env.sys, id)
			last := o.Steps[len(o.Steps)-1]
			if last.State != "CANCELLED" || last.Undone == nil || *last.Undone != tt.want {
				t.Fatalf("last step %+v (undone %+v), want CANCELLED undoing %+v", last, last.Undone, tt.want)
			}
		})
	}
}
