package vcard

import (
	"bytes"
	"errors"
	"testing"
)

// TestMoveKey: MOVE KEY needs the management key, moves a key with its policies (the
// destination's key is replaced) and deletes with 0xFF; the host's MoveKey does the same
// and refuses an empty source.
func TestMoveKey(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		c := newMemoryCard(t, Options{Serial: 7, KeyStore: ks})
		_, sw := call(t, c, insMoveKey, 0x9A, 0x95, nil)
		mustSW(t, swSecurityNotSatisfied, sw, "move without the management key")

		authDefault(t, c)
		pub95, sw := call(t, c, insGenerate, 0, 0x95, h("AC 03 80 01 11"))
		mustSW(t, swOK, sw, "generate in 95")
		authDefault(t, c)
		_, sw = call(t, c, insGenerate, 0, 0x9A, h("AC 03 80 01 11"))
		mustSW(t, swOK, sw, "generate in 9A")
		old9A := c.st.keys[0x9A]

		authDefault(t, c)
		_, sw = call(t, c, insMoveKey, 0x9A, 0x9A, nil)
		mustSW(t, swWrongP1P2, sw, "move onto itself")
		authDefault(t, c)
		_, sw = call(t, c, insMoveKey, 0x91, 0x9A, nil) // 9A's key aside
		mustSW(t, swOK, sw, "move 9A to 91")
		authDefault(t, c)
		_, sw = call(t, c, insMoveKey, 0x9A, 0x95, nil) // the new key into place
		mustSW(t, swOK, sw, "move 95 to 9A")
		if c.st.keys[0x95] != nil || c.st.keys[0x91] != old9A {
			t.Fatal("keys not where they were moved")
		}
		if got := publicKeyTemplate(c.st.keys[0x9A].priv); !bytes.Contains(pub95, got) {
			t.Fatal("9A does not hold the key generated in 95")
		}
		authDefault(t, c)
		_, sw = call(t, c, insMoveKey, 0x9A, 0x95, nil)
		mustSW(t, swRefNotFound, sw, "move from an empty slot")

		if err := c.MoveKey(0x91, slotNone); err != nil {
			t.Fatal(err)
		}
		if c.st.keys[0x91] != nil {
			t.Fatal("0xFF did not delete the key")
		}
		if err := c.MoveKey(0x91, 0x9A); !errors.Is(err, ErrNoKey) {
			t.Fatalf("move from an empty slot: %v", err)
		}
		if err := c.MoveKey(0x9A, 0x9B); err == nil {
			t.Fatal("moved a key into the management key's slot")
		}
	})
}
