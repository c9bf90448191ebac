package vcard

import (
	"bytes"
	"sync"
	"testing"
)

// fuzzBase is a card with keys and objects that every fuzz input starts
// from, so that the interesting code paths are reachable.
var fuzzBase = sync.OnceValue(func() *state {
	t := &testing.T{}
	c := newMemoryCard(t, Options{Serial: 31337})
	authDefault(t, c)
	call(t, c, insGenerate, 0, 0x9A, h("AC 06 80 01 11 AA 01 02"))
	call(t, c, insGenerate, 0, 0x9C, h("AC 06 80 01 14 AA 01 03"))
	call(t, c, insGenerate, 0, 0x9D, h("AC 03 80 01 07"))
	call(t, c, insPutData, 0x3F, 0xFF, h("5C 03 5F C1 09 53 04 88 02 01 02"))
	return c.st.clone()
})

// FuzzTransmit feeds APDUs to a card. The first input byte selects the
// security state (bit 0: management key authenticated, bit 1: PIN
// verified); the rest is a sequence of APDUs, each prefixed by its length.
// The card must never panic, must always answer with a status word, and must
// leave its persistent state alone whenever it answers with an error.
func FuzzTransmit(f *testing.F) {
	seeds := [][]byte{
		h("00 05 00 FD 00 00 00"),
		h("03 05 00 20 00 80 00"),
		h("00 0D 00 20 00 80 08 31 32 33 34 35 36 FF FF"),
		h("01 0A 00 47 00 9A 05 AC 03 80 01 11"),
		h("02 0E 00 87 11 9A 09 7C 07 82 00 81 03 01 02 03"),
		h("01 10 00 DB 3F FF 0B 5C 03 5F C1 05 53 04 70 02 30 00"),
		h("00 0A 00 CB 3F FF 05 5C 03 5F C1 02 05 00 C0 00 00 00"),
		h("01 0A 10 DB 3F FF 05 5C 03 5F C1 05 09 00 DB 3F FF 03 53 01 00"),
		h("00 09 00 87 0A 9B 04 7C 02 80 00"),
		h("03 05 00 FA 05 05 00"),
		h("00 05 00 F9 9A 00 00"),
		h("00 07 00 F7 00 9B 00 00 00"),
		h("01 0B 00 FF FF FF 06 0A 9B 18 01 02 03"),
		h("00 15 00 2C 00 80 10 31 32 33 34 35 36 37 38 39 39 39 39 39 39 FF FF"),
		// vscard's offline unblock: a challenge, then a (wrong) response with a new PIN.
		h("00 05 80 50 00 00 00 19 80 52 00 00 14 30 30 30 30 30 30 30 30 30 30 30 30 31 32 33 34 35 36 FF FF"),
		h("00 19 80 52 00 00 14 30 30 30 30 30 30 30 30 30 30 30 30 31 32 33 34 35 36 FF FF"),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		c := newCard(fuzzBase().clone(), nil)
		if in[0]&1 != 0 {
			c.sess.mgmtAuthed = true
		}
		if in[0]&2 != 0 {
			c.sess.pinVerified, c.sess.pinFresh = true, true
		}
		for rest := in[1:]; len(rest) > 0; {
			n := int(rest[0])
			rest = rest[1:]
			if n > len(rest) {
				n = len(rest)
			}
			apdu := rest[:n]
			rest = rest[n:]
			if slowGenerate(apdu) {
				continue
			}
			before := c.st.clone()
			r := c.Transmit(apdu)
			if len(r) < 2 {
				t.Fatalf("response %X to %X", r, apdu)
			}
			sw := uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])
			success := sw == swOK || sw&0xFF00 == swMoreData || sw&0xFFF0 == swVerifyFail
			if !success && !c.st.equal(before) {
				t.Fatalf("APDU %X answered %04X but changed the card state", apdu, sw)
			}
			if !success && len(r) != 2 {
				t.Fatalf("APDU %X answered %04X with data", apdu, sw)
			}
		}
	})
}

// FuzzTLV checks that the TLV parser never panics, and that what it accepts
// survives re-encoding: DER-minimal output that parses back to the same
// elements.
func FuzzTLV(f *testing.F) {
	for _, s := range []string{
		"7C 06 82 00 81 02 01 02",
		"5C 03 5F C1 05 53 82 01 00",
		"53 81 80",
		"7F 49 04 86 02 04 00",
		"5F 2F 02 40 00",
		"1F 81 80 00",
		"30 83 01 00 00",
		"53 80",
	} {
		f.Add(h(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		items, err := parseTLVs(in)
		if err != nil {
			return
		}
		var out []byte
		for _, it := range items {
			out = appendTLV(out, it.tag, it.value)
		}
		again, err := parseTLVs(out)
		if err != nil {
			t.Fatalf("re-encoded %X does not parse: %v", out, err)
		}
		if len(again) != len(items) {
			t.Fatalf("re-encoded %X has %d elements, want %d", out, len(again), len(items))
		}
		for i := range items {
			if again[i].tag != items[i].tag || !bytes.Equal(again[i].value, items[i].value) {
				t.Fatalf("element %d changed: %X %X", i, again[i].tag, again[i].value)
			}
		}
		if len(out) > len(in) {
			t.Fatalf("re-encoding %X grew to %X: not minimal", in, out)
		}
	})
}

// FuzzParseCommand checks the APDU parser: no panic, and an accepted APDU's
// data lies within the input.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"00 A4 04 00 05 A0 00 00 03 08", "00 FD 00 00 00", "00 CB 3F FF 00 00 05 5C 03 5F C1 05 00 00", "00 20 00 80", "00 20 00 80 00 00 00"} {
		f.Add(h(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cmd, sw := parseCommand(in)
		if sw != swOK {
			return
		}
		if len(cmd.data) > len(in)-4 || cmd.ne < 0 || cmd.ne > 65536 {
			t.Fatalf("parsed %X into %d data bytes, ne %d", in, len(cmd.data), cmd.ne)
		}
		if len(cmd.data) > 0 && !bytes.Contains(in, cmd.data) {
			t.Fatalf("data %X not from input %X", cmd.data, in)
		}
	})
}

// slowGenerate spots key generation of RSA-3072 and -4096, which takes
// seconds and exercises no code that RSA-2048 does not.
func slowGenerate(apdu []byte) bool {
	return len(apdu) > 1 && apdu[1] == insGenerate &&
		(bytes.Contains(apdu, []byte{0x80, 0x01, 0x05}) || bytes.Contains(apdu, []byte{0x80, 0x01, 0x16}))
}
