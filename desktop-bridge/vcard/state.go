package vcard

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"maps"
)

// Algorithm is a PIV algorithm identifier (NIST SP 800-78-4 table 6-2 plus
// the YubiKey extensions).
type Algorithm byte

// Algorithms the card implements.
const (
	Alg3DES     Algorithm = 0x03
	AlgAES128   Algorithm = 0x08
	AlgAES192   Algorithm = 0x0A
	AlgAES256   Algorithm = 0x0C
	AlgRSA2048  Algorithm = 0x07
	AlgRSA3072  Algorithm = 0x05
	AlgRSA4096  Algorithm = 0x16
	AlgECCP256  Algorithm = 0x11
	AlgECCP384  Algorithm = 0x14
	AlgEd25519  Algorithm = 0xE0
	AlgX25519   Algorithm = 0xE1
	algPINOrPUK Algorithm = 0xFF
)

// managementKeyLen returns the key length of a management key algorithm, or
// 0 when alg is not one.
func managementKeyLen(alg Algorithm) int {
	switch alg {
	case Alg3DES, AlgAES192:
		return 24
	case AlgAES128:
		return 16
	case AlgAES256:
		return 32
	}
	return 0
}

// PIN and touch policy values as they appear on the wire.
const (
	policyDefault = 0x00
	pinNever      = 0x01
	pinOnce       = 0x02
	pinAlways     = 0x03
	touchNever    = 0x01
	touchCached   = 0x03
)

// Key origins reported by GET METADATA.
const (
	originGenerated = 0x01
	originImported  = 0x02
)

// Key references.
const (
	slotAuthentication = 0x9A
	slotManagement     = 0x9B
	slotSignature      = 0x9C
	slotKeyManagement  = 0x9D
	slotCardAuth       = 0x9E
	slotAttestation    = 0xF9
	refPIN             = 0x80
	refPUK             = 0x81
)

// Factory defaults, the same as a new YubiKey 5.7.
var (
	defaultPIN           = "123456"
	defaultPUK           = "12345678"
	defaultManagementKey = []byte{
		1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	}
	defaultVersion = [3]byte{5, 7, 1}
)

const defaultRetries = 3

// assymetricSlot reports whether ref names a slot that holds a private key
// the holder can use: the four PIV slots and the retired key management
// slots 82-95.
func asymmetricSlot(ref byte) bool {
	switch ref {
	case slotAuthentication, slotSignature, slotKeyManagement, slotCardAuth:
		return true
	}
	return ref >= 0x82 && ref <= 0x95
}

// slotKey is a private key held in a slot. It is never modified in place;
// changes replace the whole value, so state clones can share it.
type slotKey struct {
	alg         Algorithm
	pinPolicy   byte
	touchPolicy byte
	origin      byte
	// priv is *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey or
	// *ecdh.PrivateKey (X25519).
	priv crypto.PrivateKey
}

// public returns the slot's public key.
func (k *slotKey) public() crypto.PublicKey {
	switch p := k.priv.(type) {
	case *tpmKey:
		return p.pub
	case *ecdsa.PrivateKey:
		return &p.PublicKey
	case *rsa.PrivateKey:
		return &p.PublicKey
	case ed25519.PrivateKey:
		return p.Public()
	case *ecdh.PrivateKey:
		return p.PublicKey()
	}
	return nil
}

// counter is a retry counter.
type counter struct {
	Max, Left int
}

// state is everything the card remembers across power cycles. Byte slices and
// slot keys are replaced, never mutated, so clone can copy shallowly.
type state struct {
	serial  uint32
	version [3]byte

	// pin and puk are stored padded to 8 bytes with 0xFF, as they arrive.
	pin, puk       []byte
	pinTry, pukTry counter

	// unblockTry counts the wrong responses to offline unblock challenges the
	// card still takes; unblockChallenge is the outstanding challenge
	// (canonical), "" for none. Kept across power cycles: the person reads the
	// challenge here and may come back with the response much later.
	unblockTry       counter
	unblockChallenge string

	mgmtAlg Algorithm
	mgmtKey []byte

	keys map[byte]*slotKey

	// tpm is set for a card whose keys, PIN and PUK live in a TPM. Then pin
	// and puk are references (see tpmcard.go), not the padded values, and
	// fileSecret is the authValue of the keys that need no PIN.
	tpm        *TPM
	fileSecret []byte

	// objects maps a data object tag (for example 0x5FC105) to the content
	// of its 53 template.
	objects map[uint32][]byte
}

func (s *state) clone() *state {
	c := *s
	c.keys = maps.Clone(s.keys)
	c.objects = maps.Clone(s.objects)
	return &c
}

// equal reports whether two states are the same, for tests and fuzzing.
func (s *state) equal(o *state) bool {
	if s.serial != o.serial || s.version != o.version || s.pinTry != o.pinTry || s.pukTry != o.pukTry ||
		s.unblockTry != o.unblockTry || s.unblockChallenge != o.unblockChallenge ||
		s.mgmtAlg != o.mgmtAlg || !bytes.Equal(s.pin, o.pin) || !bytes.Equal(s.puk, o.puk) ||
		!bytes.Equal(s.mgmtKey, o.mgmtKey) || len(s.keys) != len(o.keys) || len(s.objects) != len(o.objects) {
		return false
	}
	for ref, k := range s.keys {
		if o.keys[ref] != k { // keys are immutable, so identity is equality
			return false
		}
	}
	for tag, v := range s.objects {
		w, ok := o.objects[tag]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// padPIN encodes a PIN or PUK the way it travels in APDUs.
func padPIN(pin string) ([]byte, error) {
	if len(pin) < 6 || len(pin) > 8 {
		return nil, fmt.Errorf("check pin: length %d not in 6..8", len(pin))
	}
	b := bytes.Repeat([]byte{0xFF}, 8)
	copy(b, pin)
	if !validPIN(b) {
		return nil, fmt.Errorf("check pin: must not contain 0xFF")
	}
	return b, nil
}

// validPIN checks the format of a padded 8-byte PIN or PUK: 6 to 8 bytes
// other than 0xFF followed by 0xFF padding.
func validPIN(b []byte) bool {
	if len(b) != 8 {
		return false
	}
	n := bytes.IndexByte(b, 0xFF)
	if n < 0 {
		n = 8
	}
	if n < 6 {
		return false
	}
	for _, c := range b[n:] {
		if c != 0xFF {
			return false
		}
	}
	return true
}

// equalContent is like equal but compares keys by value, for states loaded
// from disk.
func (s *state) equalContent(o *state) bool {
	a, b := s.clone(), o.clone()
	for ref, k := range a.keys {
		ok := b.keys[ref]
		if ok == nil || ok.alg != k.alg || ok.pinPolicy != k.pinPolicy || ok.touchPolicy != k.touchPolicy || ok.origin != k.origin {
			return false
		}
		if tk, is := k.priv.(*tpmKey); is {
			if otk, same := ok.priv.(*tpmKey); !same || !bytes.Equal(tk.blob, otk.blob) {
				return false
			}
		} else if eq, is := k.priv.(interface{ Equal(crypto.PrivateKey) bool }); !is || !eq.Equal(ok.priv) {
			return false
		}
		b.keys[ref] = k
	}
	return a.equal(b)
}
