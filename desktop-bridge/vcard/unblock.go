package vcard

import (
	"crypto/rand"
	"strconv"

	"github.com/vscard/vscard/server/cardspec/unblockcode"
)

// Offline unblock is vscard's own extension (PIV has no command for it): the
// card issues a challenge, the person has the portal compute the response from
// the card's management key (which the server holds) and types it here with a
// new PIN. See the package doc for the APDUs and package unblockcode for the codes.

// claVscard is the class byte of vscard's proprietary commands (ISO/IEC
// 7816-4: b8 set, the proprietary class; no chaining, no secure messaging).
const claVscard = 0x80

// vscard's proprietary instructions.
const (
	insUnblockChallenge = 0x50
	insUnblockPIN       = 0x52
)

// unblockRetries is how many wrong responses the card takes before it issues
// no more challenges. A response carries 55 bits, so the limit is not what
// stops guessing; it stops a card being worn down by a person who keeps typing
// the wrong card's response, and leaves Reset PIN (the PUK) as the way back.
const unblockRetries = 3

// dispatchVscard runs a command of the proprietary class.
func (c *Card) dispatchVscard(cmd *command) response {
	switch cmd.ins {
	case insUnblockChallenge:
		return c.unblockChallenge(cmd)
	case insUnblockPIN:
		return c.unblockPIN(cmd)
	}
	return status(swINSNotSupported)
}

// unblockChallenge issues a fresh challenge, which replaces any outstanding
// one, and returns it as 12 ASCII symbols.
func (c *Card) unblockChallenge(cmd *command) response {
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return status(swWrongP1P2)
	}
	if len(cmd.data) != 0 {
		return status(swWrongLength)
	}
	if c.st.tpm != nil {
		// The PIN-bound keys' secret is released only by the PIN or the PUK
		// (doc.go): the management key cannot set a PIN that opens them.
		return status(swConditionsNotMet)
	}
	if c.st.unblockTry.Left == 0 {
		return status(swAuthBlocked)
	}
	ch, err := unblockcode.NewChallenge(c.serialString(), rand.Reader)
	if err != nil {
		return status(swUnknown)
	}
	c.st.unblockChallenge = ch
	return reply([]byte(ch))
}

// unblockPIN checks a response to the outstanding challenge and, if it is
// right, sets the new PIN and gives the PIN all its tries again. Data: the
// response (12 ASCII symbols, canonical) and the new PIN (8 bytes padded with
// FF). Any attempt consumes the challenge and, like a PIN, costs a try that
// is committed before the response is compared; a right one restores them.
func (c *Card) unblockPIN(cmd *command) response {
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return status(swWrongP1P2)
	}
	if len(cmd.data) != unblockcode.Length+8 {
		return status(swWrongLength)
	}
	got, next := cmd.data[:unblockcode.Length], cmd.data[unblockcode.Length:]
	if !validPIN(next) {
		return status(swWrongData)
	}
	if c.st.unblockTry.Left == 0 {
		return status(swAuthBlocked)
	}
	ch := c.st.unblockChallenge
	if ch == "" {
		return status(swConditionsNotMet)
	}
	c.st.unblockChallenge = ""
	c.st.unblockTry.Left--
	if !c.commit() {
		return status(swMemoryFailure)
	}
	if !unblockcode.Equal(string(got), unblockcode.Response(c.st.mgmtKey, c.serialString(), ch)) {
		return status(retriesSW(c.st.unblockTry.Left))
	}
	c.st.unblockTry.Left = c.st.unblockTry.Max
	if c.st.tpm != nil {
		return status(swConditionsNotMet)
	}
	c.st.pin = clone(next)
	c.st.pinTry.Left = c.st.pinTry.Max
	c.sess.pinVerified, c.sess.pinFresh = false, false
	return status(swOK)
}

// serialString is the serial as the server names the card.
func (c *Card) serialString() string { return strconv.FormatUint(uint64(c.st.serial), 10) }

// validChallenge reports whether a stored challenge is a canonical code.
func validChallenge(ch string) bool {
	got, err := unblockcode.Parse(ch)
	return err == nil && got == ch
}
