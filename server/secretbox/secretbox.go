// Package secretbox encrypts the secrets vscard keeps at rest (card management keys and
// PUKs) with AES-256-GCM.
//
// A sealed value is "v1:<key id>:" followed by nonce and ciphertext. The key id makes
// rotation possible: configure the new key as current and keep the old ones as previous;
// Open finds the key by id, and Seal always uses the current one. `vscard-server
// rotate-secrets` re-seals every stored value under the current key.
package secretbox

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

const version = "v1"

// Box seals and opens secrets. The zero value is not usable; use New.
type Box struct {
	current string
	keys    map[string]cipher.AEAD
}

// Key is one 32-byte AES key; its id is derived from the key so it never needs storing.
type Key [32]byte

// ID returns a short, non-secret identifier of the key.
func (k Key) ID() string {
	sum := sha256.Sum256(append([]byte("vscard-secretbox-id"), k[:]...))
	return hex.EncodeToString(sum[:4])
}

// ParseKey decodes a hex-encoded 32-byte key.
func ParseKey(s string) (Key, error) {
	var k Key
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(k) {
		return k, errors.New("parse secret key: want 64 hex characters (32 bytes)")
	}
	copy(k[:], b)
	return k, nil
}

// NewKey returns a random key.
func NewKey() Key {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		panic(err)
	}
	return k
}

// New returns a box that seals with current and opens values sealed with current or any
// of previous.
func New(current Key, previous ...Key) (*Box, error) {
	b := &Box{current: current.ID(), keys: map[string]cipher.AEAD{}}
	for _, k := range append([]Key{current}, previous...) {
		block, err := aes.NewCipher(k[:])
		if err != nil {
			return nil, fmt.Errorf("create cipher: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("create gcm: %w", err)
		}
		b.keys[k.ID()] = aead
	}
	return b, nil
}

// Seal encrypts plaintext. context binds the ciphertext to its use (e.g. "card:puk:<id>"),
// so a value copied to another row or field does not open.
func (b *Box) Seal(plaintext []byte, context string) []byte {
	aead := b.keys[b.current]
	prefix := []byte(version + ":" + b.current + ":")
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := append(prefix, nonce...)
	return aead.Seal(out, nonce, plaintext, []byte(context))
}

// ErrOpen is returned when a value cannot be decrypted.
var ErrOpen = errors.New("open secret: wrong key, wrong context or damaged value")

// Open decrypts a value made by Seal with the same context.
func (b *Box) Open(sealed []byte, context string) ([]byte, error) {
	parts := bytes.SplitN(sealed, []byte(":"), 3)
	if len(parts) != 3 || string(parts[0]) != version {
		return nil, ErrOpen
	}
	aead, ok := b.keys[string(parts[1])]
	if !ok {
		return nil, fmt.Errorf("open secret: key %s is not configured: %w", parts[1], ErrOpen)
	}
	rest := parts[2]
	if len(rest) < aead.NonceSize() {
		return nil, ErrOpen
	}
	pt, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], []byte(context))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// NeedsRotation reports whether sealed was made with a key other than the current one.
func (b *Box) NeedsRotation(sealed []byte) bool {
	return !bytes.HasPrefix(sealed, []byte(version+":"+b.current+":"))
}
