package vcard

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
)

// newMemoryCard returns a card that keeps its state in memory only.
func newMemoryCard(t testing.TB, opts Options) *Card {
	t.Helper()
	st, err := newState(opts)
	if err != nil {
		t.Fatalf("new state: %v", err)
	}
	return newCard(st, nil)
}

// h decodes hex with spaces, for readable APDUs in tests.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// tx sends one APDU and splits the answer.
func tx(t testing.TB, c *Card, apdu []byte) ([]byte, uint16) {
	t.Helper()
	r := c.Transmit(apdu)
	if len(r) < 2 {
		t.Fatalf("response %x shorter than 2 bytes", r)
	}
	return r[:len(r)-2], uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])
}

// call sends a command like piv-go does: chained when the data is long,
// collecting 61xx responses with GET RESPONSE.
func call(t testing.TB, c *Card, ins, p1, p2 byte, data []byte) ([]byte, uint16) {
	t.Helper()
	for len(data) > 255 {
		apdu := append([]byte{0x10, ins, p1, p2, 0xFF}, data[:255]...)
		if _, sw := tx(t, c, apdu); sw != swOK {
			return nil, sw
		}
		data = data[255:]
	}
	apdu := append([]byte{0x00, ins, p1, p2, byte(len(data))}, data...)
	out, sw := tx(t, c, apdu)
	for sw&0xFF00 == swMoreData {
		var more []byte
		more, sw = tx(t, c, h("00 C0 00 00 00"))
		out = append(out, more...)
	}
	return out, sw
}

func mustSW(t testing.TB, want, got uint16, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: SW %04X, want %04X", what, got, want)
	}
}

func pinBytes(pin string) []byte {
	b := bytes.Repeat([]byte{0xFF}, 8)
	copy(b, pin)
	return b
}

func verifyPIN(t testing.TB, c *Card, pin string) uint16 {
	t.Helper()
	_, sw := call(t, c, insVerify, 0, refPIN, pinBytes(pin))
	return sw
}

// authenticate runs mutual authentication with the management key.
func authenticate(t testing.TB, c *Card, alg Algorithm, key []byte) uint16 {
	t.Helper()
	var block cipher.Block
	var err error
	if alg == Alg3DES {
		block, err = des.NewTripleDESCipher(key)
	} else {
		block, err = aes.NewCipher(key)
	}
	if err != nil {
		t.Fatal(err)
	}
	n := block.BlockSize()
	resp, sw := call(t, c, insGenAuth, byte(alg), slotManagement, h("7C 02 80 00"))
	if sw != swOK {
		return sw
	}
	if len(resp) != 4+n || resp[0] != 0x7C || resp[2] != 0x80 {
		t.Fatalf("witness response %x", resp)
	}
	witness := make([]byte, n)
	block.Decrypt(witness, resp[4:])
	challenge := make([]byte, n)
	rand.Read(challenge)
	body := appendTLV(tlvBytes(0x80, witness), 0x81, challenge)
	resp, sw = call(t, c, insGenAuth, byte(alg), slotManagement, tlvBytes(0x7C, body))
	if sw != swOK {
		return sw
	}
	want := make([]byte, n)
	block.Encrypt(want, challenge)
	if !bytes.Equal(resp, tlvBytes(0x7C, tlvBytes(0x82, want))) {
		t.Fatalf("card response to challenge %x, want %x", resp, want)
	}
	return swOK
}

func authDefault(t testing.TB, c *Card) {
	t.Helper()
	mustSW(t, swOK, authenticate(t, c, AlgAES192, defaultManagementKey), "authenticate")
}
