package vcard

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/vscard/vscard/server/cardspec/unblockcode"
)

var testMgmtKey = bytes.Repeat([]byte{0x42}, 24)

// vscardCall sends one command of vscard's proprietary class.
func vscardCall(t testing.TB, c *Card, ins byte, data []byte) ([]byte, uint16) {
	t.Helper()
	apdu := []byte{claVscard, ins, 0, 0}
	if len(data) > 0 {
		apdu = append(append(apdu, byte(len(data))), data...)
	}
	out, sw := tx(t, c, append(apdu, 0))
	for sw&0xFF00 == swMoreData {
		var more []byte
		more, sw = tx(t, c, h("00 C0 00 00 00"))
		out = append(out, more...)
	}
	return out, sw
}

func getChallenge(t testing.TB, c *Card) string {
	t.Helper()
	out, sw := vscardCall(t, c, insUnblockChallenge, nil)
	mustSW(t, swOK, sw, "get unblock challenge")
	ch, err := unblockcode.Parse(string(out))
	if err != nil || ch != string(out) {
		t.Fatalf("challenge %q is not a canonical code: %v", out, err)
	}
	return ch
}

func unblockWith(t testing.TB, c *Card, response, pin string) uint16 {
	t.Helper()
	_, sw := vscardCall(t, c, insUnblockPIN, append([]byte(response), pinBytes(pin)...))
	return sw
}

func blockPIN(t testing.TB, c *Card) {
	t.Helper()
	for range c.st.pinTry.Max {
		verifyPIN(t, c, "999999")
	}
	mustSW(t, swAuthBlocked, verifyPIN(t, c, defaultPIN), "PIN blocked")
}

// TestOfflineUnblock: the right response to the card's challenge sets the new PIN and
// gives the PIN all its tries again.
func TestOfflineUnblock(t *testing.T) {
	c := newMemoryCard(t, Options{Serial: 4711, ManagementKey: testMgmtKey, PINRetries: 5})
	blockPIN(t, c)
	ch := getChallenge(t, c)
	if !unblockcode.ForCard(ch, "4711") {
		t.Fatalf("challenge %s is not tagged for card 4711", ch)
	}
	mustSW(t, swOK, unblockWith(t, c, unblockcode.Response(testMgmtKey, "4711", ch), "24681357"), "unblock")
	mustSW(t, swOK, verifyPIN(t, c, "24681357"), "verify the new PIN")
	if c.st.pinTry != (counter{Max: 5, Left: 5}) {
		t.Fatalf("PIN tries %+v, want 5 of 5", c.st.pinTry)
	}
}

// TestOfflineUnblockRefusals: a wrong response, one for another card or another
// challenge, a replayed one, and one without a challenge are refused, each costing what it
// should; after unblockRetries wrong ones the card issues no challenge until a right PUK.
func TestOfflineUnblockRefusals(t *testing.T) {
	c := newMemoryCard(t, Options{Serial: 4711, ManagementKey: testMgmtKey})
	blockPIN(t, c)
	other := bytes.Repeat([]byte{0x43}, 24)

	// No challenge outstanding: refused without a try.
	mustSW(t, swConditionsNotMet, unblockWith(t, c, unblockcode.Response(testMgmtKey, "4711", "000000000000"), "24681357"), "no challenge")
	if c.st.unblockTry.Left != unblockRetries {
		t.Fatalf("a response without a challenge cost a try: %+v", c.st.unblockTry)
	}

	// The right response to an earlier challenge, which a newer one replaced.
	old := getChallenge(t, c)
	ch := getChallenge(t, c)
	mustSW(t, 0x63C2, unblockWith(t, c, unblockcode.Response(testMgmtKey, "4711", old), "24681357"), "response to a replaced challenge")
	// The challenge was consumed by the wrong attempt: its right response no longer works.
	mustSW(t, swConditionsNotMet, unblockWith(t, c, unblockcode.Response(testMgmtKey, "4711", ch), "24681357"), "right response after a wrong one")

	// The response of another card (same challenge, another serial or key).
	ch = getChallenge(t, c)
	mustSW(t, 0x63C1, unblockWith(t, c, unblockcode.Response(testMgmtKey, "4712", ch), "24681357"), "other card's serial")

	// A right response works once; replayed with the next challenge outstanding, it fails.
	ch = getChallenge(t, c)
	right := unblockcode.Response(testMgmtKey, "4711", ch)
	mustSW(t, swOK, unblockWith(t, c, right, "24681357"), "right response")
	if c.st.unblockTry.Left != unblockRetries {
		t.Fatalf("a right response did not restore the tries: %+v", c.st.unblockTry)
	}
	mustSW(t, swConditionsNotMet, unblockWith(t, c, right, "13572468"), "replay without a challenge")
	getChallenge(t, c)
	mustSW(t, 0x63C2, unblockWith(t, c, right, "13572468"), "replay against a new challenge")
	mustSW(t, swOK, verifyPIN(t, c, "24681357"), "the PIN the right response set")

	// Used up: no challenge, no attempt, whatever the response.
	for _, key := range [][]byte{other, other} {
		ch := getChallenge(t, c)
		unblockWith(t, c, unblockcode.Response(key, "4711", ch), "13572468")
	}
	if c.st.unblockTry.Left != 0 {
		t.Fatalf("tries %+v after three wrong responses", c.st.unblockTry)
	}
	if _, sw := vscardCall(t, c, insUnblockChallenge, nil); sw != swAuthBlocked {
		t.Fatalf("challenge with no tries left: SW %04X, want 6983", sw)
	}
	mustSW(t, swAuthBlocked, unblockWith(t, c, right, "13572468"), "unblock with no tries left")

	// The PUK (Reset PIN) gives offline unblock its tries back.
	_, sw := call(t, c, insResetRetry, 0, refPIN, append(pinBytes(defaultPUK), pinBytes("11223344")...))
	mustSW(t, swOK, sw, "unblock with the PUK")
	ch = getChallenge(t, c)
	mustSW(t, swOK, unblockWith(t, c, unblockcode.Response(testMgmtKey, "4711", ch), "55667788"), "offline unblock after the PUK")
}

// TestOfflineUnblockBadCommands: wrong lengths, parameters and PINs are refused before
// the challenge is consumed or a try is spent.
func TestOfflineUnblockBadCommands(t *testing.T) {
	c := newMemoryCard(t, Options{Serial: 4711, ManagementKey: testMgmtKey})
	ch := getChallenge(t, c)
	right := unblockcode.Response(testMgmtKey, "4711", ch)
	for name, apdu := range map[string][]byte{
		"challenge with data":     h("80 50 00 00 01 00 00"),
		"challenge with P1":       h("80 50 01 00 00"),
		"short response":          append(append([]byte{0x80, 0x52, 0, 0, 19}, right[:11]...), pinBytes("24681357")...),
		"long response":           append(append([]byte{0x80, 0x52, 0, 0, 21}, right+"0"...), pinBytes("24681357")...),
		"no data":                 h("80 52 00 00"),
		"PIN too short":           append(append([]byte{0x80, 0x52, 0, 0, 20}, right...), pinBytes("12345")...),
		"PIN with a hole":         append(append([]byte{0x80, 0x52, 0, 0, 20}, right...), 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0xFF, 0x37),
		"unknown instruction":     h("80 54 00 00 00"),
		"unblock with P2":         append(append([]byte{0x80, 0x52, 0, 1, 20}, right...), pinBytes("24681357")...),
		"chained proprietary cla": append(append([]byte{0x90, 0x52, 0, 0, 20}, right...), pinBytes("24681357")...),
	} {
		before := c.st.clone()
		if _, sw := tx(t, c, apdu); sw == swOK || sw&0xFFF0 == swVerifyFail {
			t.Errorf("%s: SW %04X, want a refusal", name, sw)
		}
		if !c.st.equal(before) {
			t.Errorf("%s changed the card", name)
		}
	}
	mustSW(t, swOK, unblockWith(t, c, right, "24681357"), "the right response after the bad commands")
}

// TestOfflineUnblockPersists: the outstanding challenge and the tries survive closing
// the card: the person may read the challenge today and come back with the response
// after a restart, and a restart does not give back tries.
func TestOfflineUnblockPersists(t *testing.T) {
	dir := t.TempDir()
	cards := filepath.Join(dir, "cards")
	ks := testKeyStore(t, dir)
	c, err := Create(cards, Options{Serial: 2024, KeyStore: ks, ManagementKey: testMgmtKey})
	if err != nil {
		t.Fatal(err)
	}
	ch := getChallenge(t, c)
	mustSW(t, 0x63C2, unblockWith(t, c, unblockcode.Response(testMgmtKey, "2023", ch), "24681357"), "wrong card")
	ch = getChallenge(t, c)
	c.Close()
	if c, err = Open(cards, 2024, ks); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.st.unblockTry.Left != 2 || c.st.unblockChallenge != ch {
		t.Fatalf("after reopening: tries %+v, challenge %q; want 2 left and %q", c.st.unblockTry, c.st.unblockChallenge, ch)
	}
	mustSW(t, swOK, unblockWith(t, c, unblockcode.Response(testMgmtKey, "2024", ch), "24681357"), "unblock after reopening")
}

// TestOfflineUnblockTPMRefused: on a TPM card the management key cannot set
// a PIN that opens the PIN-bound keys (doc.go), so the card offers no
// challenge rather than a PIN that unlocks nothing.
func TestOfflineUnblockTPMRefused(t *testing.T) {
	ks, _ := testTPMStore(t, 1000)
	c := newMemoryCard(t, Options{Serial: 4711, ManagementKey: testMgmtKey, KeyStore: ks})
	_, sw := vscardCall(t, c, insUnblockChallenge, nil)
	mustSW(t, swConditionsNotMet, sw, "unblock challenge on a TPM card")
}
