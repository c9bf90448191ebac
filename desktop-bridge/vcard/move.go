package vcard

import (
	"errors"
	"fmt"
)

// insMoveKey is the YubiKey 5.7 MOVE KEY instruction: P1 the slot the key goes to (0xFF:
// nowhere, the key is deleted), P2 the slot it comes from.
const insMoveKey = 0xF6

// slotNone as MOVE KEY's destination deletes the key.
const slotNone = 0xFF

// ErrNoKey is returned by MoveKey when the source slot holds no key.
var ErrNoKey = errors.New("the slot holds no key")

// moveKey implements MOVE KEY; like the YubiKey it needs the management key.
func (c *Card) moveKey(cmd *command) response {
	if len(cmd.data) != 0 {
		return status(swWrongLength)
	}
	if !c.sess.mgmtAuthed {
		return status(swSecurityNotSatisfied)
	}
	if !asymmetricSlot(cmd.p2) || (cmd.p1 != slotNone && (!asymmetricSlot(cmd.p1) || cmd.p1 == cmd.p2)) {
		return status(swWrongP1P2)
	}
	if c.st.keys[cmd.p2] == nil {
		return status(swRefNotFound)
	}
	c.st.move(cmd.p2, cmd.p1)
	return status(swOK)
}

// move moves the key of slot from to slot to, replacing what to held, or deletes it when
// to is slotNone. The slots' certificates stay where they are, as on the YubiKey.
func (s *state) move(from, to byte) {
	k := s.keys[from]
	delete(s.keys, from)
	if to != slotNone {
		s.keys[to] = k
	}
}

// MoveKey moves the key of slot from to slot to (0xFF deletes it) and writes the card, as
// MOVE KEY does, for the card's host: the Desktop App renews a card by generating new keys
// in retired slots and moving them into place only once their certificates exist, and
// piv-go v2.6 does not send MOVE KEY. The host owns the card file, so this asks for no
// management key, as deleting the card does not.
func (c *Card) MoveKey(from, to byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return errors.New("move key: the card is closed")
	case !asymmetricSlot(from) || (to != slotNone && (!asymmetricSlot(to) || to == from)):
		return fmt.Errorf("move key: cannot move slot %02X to %02X", from, to)
	case c.st.keys[from] == nil:
		return fmt.Errorf("move key from slot %02X: %w", from, ErrNoKey)
	}
	c.st.move(from, to)
	if !c.commit() {
		c.st = c.committed.clone()
		return fmt.Errorf("move key from slot %02X: the card could not be written", from)
	}
	return nil
}
