package vcard

import (
	"strconv"

	"github.com/vscard/vscard/server/cardproof"
)

// Prove answers a server's challenge with the card's management key (server/cardproof):
// the Desktop App proves which card it speaks for without the PIN and without the key
// ever leaving the card. It is a method of the card rather than an APDU: only the process
// that hosts the card may ask, so no PC/SC program gets a MAC oracle under the key.
func (c *Card) Prove(challenge []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cardproof.Response(c.st.mgmtKey, strconv.FormatUint(uint64(c.st.serial), 10), challenge)
}

// PINStatus returns how many wrong PINs the card still takes and whether its PUK is
// blocked, as VERIFY and RESET RETRY COUNTER without data would tell, but without
// touching the session (a verified PIN stays verified).
func (c *Card) PINStatus() (triesLeft int, pukBlocked bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.pinTry.Left, c.st.pukTry.Left == 0
}
