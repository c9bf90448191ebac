package auth

import (
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// TestSameData: an unchanged session compares equal however gob ordered its values map
// (Go's map order is random, so the bytes of two encodings rarely match), and a changed
// one does not. Comparing bytes wrote most unchanged sessions back on every request.
func TestSameData(t *testing.T) {
	deadline := time.Now().Add(time.Hour).UTC()
	values := map[string]any{keyUserID: "usr_1", keyRoles: []string{"user", "admin"}, keyIDToken: "eyJ…", "x": "y"}
	first, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		again, err := scs.GobCodec{}.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		if !sameData(first, again) {
			t.Fatal("two encodings of the same session data compare different")
		}
	}
	changed, _ := scs.GobCodec{}.Encode(deadline, map[string]any{keyUserID: "usr_2", keyRoles: []string{"user", "admin"}, keyIDToken: "eyJ…", "x": "y"})
	if sameData(first, changed) {
		t.Error("a changed user id compares equal")
	}
	later, _ := scs.GobCodec{}.Encode(deadline.Add(time.Minute), values)
	if sameData(first, later) {
		t.Error("a changed deadline compares equal")
	}
}
