package auth

import (
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// TestCachedCodec: the cached codec reads what plain gob wrote (sessions of an older
// version stay signed in), writes what plain gob reads, and a caller that changes the map
// it got does not change what the next caller of the same bytes gets.
func TestCachedCodec(t *testing.T) {
	deadline := time.Now().Add(time.Hour).UTC()
	values := map[string]any{keyUserID: "usr_1", keyRoles: []string{"user"}, keySignedInAt: int64(42)}
	old, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	c := newCachedCodec(2)
	for i := range 3 {
		d, got, err := c.Decode(old)
		if err != nil || !d.Equal(deadline) || !reflect.DeepEqual(got, values) {
			t.Fatalf("decode %d: %v %v %v", i, d, got, err)
		}
		got["x"] = "changed by scs"
	}
	b, err := c.Encode(deadline, map[string]any{keyUserID: "usr_2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := (scs.GobCodec{}).Decode(b); err != nil || got[keyUserID] != "usr_2" {
		t.Fatalf("plain gob reads %v, %v", got, err)
	}
	if d, err := c.decode(b); err != nil || d.values[keyUserID] != "usr_2" {
		t.Fatalf("cached decode %v, %v", d, err)
	}
	// Full: it starts afresh and still decodes.
	for i := range 5 {
		b, _ := c.Encode(deadline, map[string]any{"n": i})
		if d, err := c.decode(b); err != nil || d.values["n"] != i {
			t.Fatalf("after %d encodings: %v %v", i, d, err)
		}
	}
}
