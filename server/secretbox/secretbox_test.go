package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k1, k2 := NewKey(), NewKey()
	old, err := New(k1)
	if err != nil {
		t.Fatal(err)
	}
	sealedOld := old.Seal([]byte("12345678"), "card:puk:crd_1")
	if bytes.Contains(sealedOld, []byte("12345678")) {
		t.Fatal("plaintext visible in sealed value")
	}
	rotated, err := New(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		box     *Box
		sealed  []byte
		context string
		wantErr bool
	}{
		{"ok/same key", old, sealedOld, "card:puk:crd_1", false},
		{"ok/previous key after rotation", rotated, sealedOld, "card:puk:crd_1", false},
		{"error/other context", old, sealedOld, "card:puk:crd_2", true},
		{"error/unknown key", mustNew(t, NewKey()), sealedOld, "card:puk:crd_1", true},
		{"error/damaged", old, append(append([]byte{}, sealedOld[:len(sealedOld)-1]...), sealedOld[len(sealedOld)-1]^1), "card:puk:crd_1", true},
		{"error/garbage", old, []byte("v1:zz"), "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := tt.box.Open(tt.sealed, tt.context)
			if tt.wantErr {
				if !errors.Is(err, ErrOpen) {
					t.Fatalf("Open error = %v, want ErrOpen", err)
				}
				return
			}
			if err != nil || string(pt) != "12345678" {
				t.Fatalf("Open = %q, %v", pt, err)
			}
		})
	}
	if !rotated.NeedsRotation(sealedOld) || rotated.NeedsRotation(rotated.Seal([]byte("x"), "c")) {
		t.Fatal("NeedsRotation wrong")
	}
}

func mustNew(t *testing.T, k Key) *Box {
	b, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
