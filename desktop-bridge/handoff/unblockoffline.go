package handoff

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/vscard/vscard/desktop-bridge/internal/pcsc"
	"github.com/vscard/vscard/server/cardspec/unblockcode"
)

// Offline unblock (unblock-pin-offline) talks to the card only: the person carries the
// challenge to the portal on another device and brings the response back. The card's
// commands are vscard's own (package vcard's doc), which piv-go cannot send, so they go
// through package pcsc. Each step holds the card only for its commands: the person may
// take minutes between them, and the card keeps its challenge meanwhile.

// APDUs of vscard's offline unblock (CLA 80) and PIV's GET SERIAL (YubiKey's).
var (
	apduGetSerial               = []byte{0x00, 0xF8, 0x00, 0x00, 0x00}
	apduUnblockChallenge        = []byte{0x80, 0x50, 0x00, 0x00, 0x00}
	unblockPINHeader            = []byte{0x80, 0x52, 0x00, 0x00, unblockcode.Length + 8}
	swOK                 uint16 = 0x9000
)

// OfflineChallenge asks the card serial in reader for a challenge and returns it as a
// person reads it (XXXX-XXXX-XXXX). A card that took too many wrong responses answers
// CodeUnblockUsedUp.
func OfflineChallenge(ctx context.Context, reader string, serial uint32) (string, error) {
	var ch string
	err := withCard(reader, serial, func(c *pcsc.Card) error {
		data, sw, err := c.Transmit(apduUnblockChallenge)
		switch {
		case err != nil:
			return err
		case sw == 0x6983:
			return &Error{Code: CodeUnblockUsedUp, Detail: "card refuses offline unblock challenges"}
		case sw != swOK:
			return fmt.Errorf("get unblock challenge: card answered %04X", sw)
		}
		if ch, err = unblockcode.Parse(string(data)); err != nil {
			return fmt.Errorf("get unblock challenge: card answered %q: %w", data, err)
		}
		return nil
	})
	return unblockcode.Format(ch), err
}

// OfflineUnblock gives the card serial in reader the response to its challenge, as the
// person typed it, and the new PIN; the card sets the PIN and gives it all its tries. A
// response with a typing mistake is refused here (ProblemResponseMistyped) and costs the
// card nothing. Refusals of the card: a wrong response (CodeUnblockResponseWrong; the
// challenge is used up, so the person starts again), no challenge outstanding
// (CodeUnblockNoChallenge), no tries left (CodeUnblockUsedUp). The new PIN is the
// caller's to check against the policy.
func OfflineUnblock(ctx context.Context, reader string, serial uint32, response, newPIN string) error {
	resp, err := unblockcode.Parse(response)
	if err != nil {
		return &Error{Code: ProblemResponseMistyped, Detail: err.Error()}
	}
	if len(newPIN) < 6 || len(newPIN) > 8 {
		return fmt.Errorf("unblock PIN: a PIV PIN has 6 to 8 characters, not %d", len(newPIN))
	}
	pin := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	copy(pin, newPIN)
	apdu := append(append(append([]byte(nil), unblockPINHeader...), resp...), pin...)
	defer clear(apdu)
	defer clear(pin)
	return withCard(reader, serial, func(c *pcsc.Card) error {
		_, sw, err := c.Transmit(apdu)
		switch {
		case err != nil:
			return err
		case sw == swOK:
			return nil
		case sw&0xFFF0 == 0x63C0:
			return &Error{Code: CodeUnblockResponseWrong, Detail: fmt.Sprintf("card refused the response; %d tries left", sw&0xF)}
		case sw == 0x6985:
			return &Error{Code: CodeUnblockNoChallenge, Detail: "card has no challenge outstanding"}
		case sw == 0x6983:
			return &Error{Code: CodeUnblockUsedUp, Detail: "card refuses offline unblock"}
		}
		return fmt.Errorf("unblock PIN: card answered %04X", sw)
	})
}

// withCard runs fn on the card in reader once it checked that the card is serial.
func withCard(reader string, serial uint32, fn func(*pcsc.Card) error) error {
	c, err := pcsc.Connect(reader)
	if err != nil {
		return fmt.Errorf("open card %d: %w", serial, err)
	}
	defer c.Close()
	data, sw, err := c.Transmit(apduGetSerial)
	if err != nil {
		return fmt.Errorf("read card serial: %w", err)
	}
	if sw != swOK || len(data) != 4 {
		return fmt.Errorf("read card serial: card answered %04X", sw)
	}
	if got := binary.BigEndian.Uint32(data); got != serial {
		return &Error{Code: CodeCardNotHere, Detail: fmt.Sprintf("reader %q holds card %d, not %d", reader, got, serial)}
	}
	return fn(c)
}
