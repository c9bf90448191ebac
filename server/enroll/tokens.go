package enroll

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"math/big"
	"strings"
)

// BridgeSessionPrefix marks a bearer token as a desktop-bridge session.
const BridgeSessionPrefix = "vsb_"

// newToken returns 256 random bits, base64url-encoded.
func newToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// hashToken is how tokens are stored: they are 256-bit random values, so a plain SHA-256
// is enough (no salt or stretching needed) and lets us look them up by hash.
func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// codeAlphabet leaves out characters people confuse (0/O, 1/I/L).
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// newVerificationCode returns a short code such as "K7Q-4MX" that the portal and the bridge
// both show, so the user sees the right order reached the desktop.
func newVerificationCode() string {
	var sb strings.Builder
	for i := 0; i < 6; i++ {
		if i == 3 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[randInt(len(codeAlphabet))])
	}
	return sb.String()
}

// newPUK returns an 8-digit PUK.
func newPUK() string {
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		sb.WriteByte(byte('0' + randInt(10)))
	}
	return sb.String()
}

// newCardSerial returns a PIV card serial: 8 decimal digits, fits in the card's uint32.
func newCardSerial() uint32 { return uint32(10_000_000 + randInt(90_000_000)) }

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err)
	}
	return int(v.Int64())
}

func randRead(b []byte) (int, error) { return io.ReadFull(rand.Reader, b) }
