// Package unblockcode is the arithmetic of "Unblock PIN offline" (unblock-pin-offline), shared
// by the virtual card, which issues a challenge and checks the response, and the server,
// which computes the response from the card's management key: neither can drift from the
// other.
//
// A challenge and a response are codes a person reads on one screen and types on another,
// so each is 12 symbols of Crockford's base32 (0-9 and A-Z without I, L, O, U), shown in
// three groups of four, "7K2M-Q9XD-4HBW". Eleven symbols carry 55 bits; the twelfth is a
// Luhn mod 32 check symbol, which catches every single mistyped symbol and most swaps of
// neighbours before the code reaches the card or the server. Reading is forgiving the way
// Crockford's alphabet means it to be: case, spaces and dashes do not matter, and O, I and
// L read as 0, 1 and 1.
//
// A challenge is 45 random bits and a 10-bit tag of the card's serial, so that the server
// can tell a person who typed the challenge of another of their cards (or of someone
// else's) from one who mistyped. The response is the first 55 bits of
// HMAC-SHA256(management key, purpose, serial, challenge): bound to that challenge and
// that card, and useless for anything else the management key does. Its 55 bits against a
// card that takes a few wrong responses before it refuses any leave guessing hopeless.
package unblockcode

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Length is the number of symbols of a code, without the dashes between groups.
const Length = 12

// dataBits are the bits a code carries: every symbol but the check symbol.
const dataBits = 5 * (Length - 1)

// tagBits of a challenge name the card.
const tagBits = 10

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// purpose keeps the MAC from meaning anything else a management key could authenticate.
const purpose = "vscard unblock-pin-offline v1"

// Errors of Parse, checked with errors.Is.
var (
	// ErrFormat: not 12 symbols of the alphabet.
	ErrFormat = errors.New("not a code of 12 symbols")
	// ErrCheck: 12 symbols whose check symbol does not match: a typing mistake.
	ErrCheck = errors.New("code has a typing mistake")
)

// value of each symbol a person may type, -1 for none.
var value = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i, c := range alphabet {
		v[c] = int8(i)
		v[c|0x20] = int8(i) // lower case (digits are unaffected: '0'|0x20 == '0')
	}
	for c, to := range map[byte]byte{'O': '0', 'I': '1', 'L': '1'} {
		v[c], v[c|0x20] = v[to], v[to]
	}
	return v
}()

// Parse reads a code as a person typed it and returns its canonical form (12 symbols, upper
// case, no dashes), or ErrFormat or ErrCheck.
func Parse(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == ' ' || c == '\t' {
			continue
		}
		if value[c] < 0 || b.Len() == Length {
			return "", ErrFormat
		}
		b.WriteByte(alphabet[value[c]])
	}
	if b.Len() != Length {
		return "", ErrFormat
	}
	code := b.String()
	if luhn(code, 1) != 0 {
		return "", ErrCheck
	}
	return code, nil
}

// Format shows a canonical code in groups of four: "7K2M-Q9XD-4HBW".
func Format(code string) string {
	if len(code) != Length {
		return code
	}
	return code[0:4] + "-" + code[4:8] + "-" + code[8:12]
}

// NewChallenge returns a fresh challenge (canonical) for the card serial, from random.
func NewChallenge(serial string, random io.Reader) (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("make challenge: %w", err)
	}
	nonce := binary.BigEndian.Uint64(b[:]) >> (64 - (dataBits - tagBits))
	return encode(nonce<<tagBits | tag(serial)), nil
}

// ForCard reports whether the canonical challenge was made for the card serial. One in 1024
// challenges of another card passes; its response then fails on the card.
func ForCard(challenge, serial string) bool {
	v, ok := decode(challenge)
	return ok && v&(1<<tagBits-1) == tag(serial)
}

// Response is the canonical response to the canonical challenge of card serial, whose
// management key is key.
func Response(key []byte, serial, challenge string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(serial))
	m.Write([]byte{0})
	m.Write([]byte(challenge))
	sum := m.Sum(nil)
	return encode(binary.BigEndian.Uint64(sum) >> (64 - dataBits))
}

// Equal compares two canonical codes in constant time.
func Equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// tag is the card's 10-bit tag in a challenge.
func tag(serial string) uint64 {
	sum := sha256.Sum256([]byte("vscard unblock-pin-offline card\x00" + serial))
	return uint64(binary.BigEndian.Uint16(sum[:])) >> (16 - tagBits)
}

// encode writes 55 bits as 11 symbols and appends the check symbol.
func encode(v uint64) string {
	var b [Length]byte
	for i := Length - 2; i >= 0; i-- {
		b[i] = alphabet[v&31]
		v >>= 5
	}
	b[Length-1] = alphabet[(32-luhn(string(b[:Length-1]), 2))%32]
	return string(b[:])
}

// decode reads the 55 bits of a canonical code.
func decode(code string) (uint64, bool) {
	if len(code) != Length {
		return 0, false
	}
	var v uint64
	for i := 0; i < Length-1; i++ {
		d := value[code[i]]
		if d < 0 {
			return 0, false
		}
		v = v<<5 | uint64(d)
	}
	return v, true
}

// luhn is the Luhn mod 32 sum of s, doubling every other symbol from the right starting
// with factor: 2 to compute a check symbol for s, 1 to check s including it (0 when good).
func luhn(s string, factor int) int {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		a := factor * int(value[s[i]])
		sum += a/32 + a%32
		factor = 3 - factor
	}
	return sum % 32
}
