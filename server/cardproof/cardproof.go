// Package cardproof is how the Desktop App proves which card it speaks for when no order
// binds it to one: when it reports a card's PIN state, a PIN change made without the
// portal, or follows the card's state (the cardUpdated subscription).
//
// # Design
//
// Outside an order the Desktop App has no session: the hand-off link's token and the
// bridge session it buys are bound to one order and end with it. What binds a desktop to
// a card for good is the card's management key (PIV key 9B): the server generated it,
// keeps it sealed, and gave it to the card once, at personalisation; nobody else has it
// and no PIN is needed to use it. So the card answers a server's challenge with it:
//
//  1. The Desktop App asks for a challenge for the card's serial (cardChallenge). The
//     server draws 32 random bytes, keeps only their SHA-256 on the card's row with an
//     expiry (ChallengeTTL, on the server's injected clock), and returns them.
//  2. The card computes Response(managementKey, serial, challenge): an HMAC-SHA-256
//     keyed with the management key over a label, the serial and the challenge. The
//     Desktop App sends serial, challenge and response with what it reports.
//  3. The server consumes the challenge — a conditional update that clears it only if
//     it is the card's current one and not expired, so a challenge works once — then
//     recomputes the response with the key it holds and compares in constant time.
//
// Why a MAC and not GENERAL AUTHENTICATE with 9B itself: PIV's mutual and external
// authentication need the host to hold the key (it decrypts the card's witness or
// encrypts its challenge), and the Desktop App must not hold it outside the card; and
// letting the card encrypt any block a host sends with 9B would be an oracle that
// answers external authentication for anyone, i.e. admin rights on the card without the
// key. An HMAC under a label of its own can never be an answer to a PIV challenge.
//
// What it proves: that whoever answered holds the card's current management key, i.e.
// the card (or a copy of its file and the desktop's card key). Binding the serial into
// the MAC and the challenge to the serial's row makes a response for one card useless for
// another; single use and the short expiry make a recorded one useless later. A card
// whose management key was changed by someone holding it (a PIV tool) can no longer
// prove itself: the server then keeps the state it has, and the Desktop App keeps the
// card (it is refused, not told to remove it).
//
// One challenge is outstanding per card: a new one replaces the old (the Desktop App
// asks, then answers at once). Someone who knows a serial can displace the Desktop
// App's challenge and make that one contact fail; the next contact tries again, and
// the server limits challenges per serial.
package cardproof

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"time"
)

// ChallengeTTL is how long a challenge may be answered: long enough for a Desktop App to
// answer over a slow link, short enough that a recorded one is of no use.
const ChallengeTTL = 2 * time.Minute

// ChallengeLen is the length of a challenge in bytes.
const ChallengeLen = 32

const label = "vscard card proof v1\x00"

// NewChallenge returns ChallengeLen random bytes.
func NewChallenge() []byte {
	b := make([]byte, ChallengeLen)
	_, _ = rand.Read(b)
	return b
}

// Response is the card's answer to challenge: HMAC-SHA-256 under the management key
// over the label, the serial and the challenge.
func Response(managementKey []byte, serial string, challenge []byte) []byte {
	m := hmac.New(sha256.New, managementKey)
	m.Write([]byte(label))
	m.Write([]byte(serial))
	m.Write([]byte{0})
	m.Write(challenge)
	return m.Sum(nil)
}

// Verify reports whether response answers challenge for the card serial with the
// management key, in constant time.
func Verify(managementKey []byte, serial string, challenge, response []byte) bool {
	return hmac.Equal(Response(managementKey, serial, challenge), response)
}

// Digest is what the server keeps of a challenge it handed out.
func Digest(challenge []byte) []byte {
	d := sha256.Sum256(challenge)
	return d[:]
}
