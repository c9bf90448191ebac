package vcard

import (
	"crypto/rand"
	"fmt"
	"time"
)

// Data object tags (SP 800-73-4 part 1, table 3; YubiKey 5FFFxx).
const (
	objCardAuthCert  = 0x5FC101
	objCHUID         = 0x5FC102
	objFingerprints  = 0x5FC103
	objAuthCert      = 0x5FC105
	objSecurity      = 0x5FC106
	objCCC           = 0x5FC107
	objFacialImage   = 0x5FC108
	objPrinted       = 0x5FC109
	objSignCert      = 0x5FC10A
	objKeyMgmtCert   = 0x5FC10B
	objKeyHistory    = 0x5FC10C
	objIris          = 0x5FC121
	objPairingCode   = 0x5FC123
	objDiscovery     = 0x7E
	objBITGroup      = 0x7F61
	objAttestation   = 0x5FFF01
	tagTagList       = 0x5C
	tagDataContainer = 0x53
)

// maxObjectSize is the largest object content accepted, as on a YubiKey 5.
const maxObjectSize = 3052

// maxObjectsTotal bounds the storage all objects take together.
const maxObjectsTotal = 64 << 10

// pivAID is the full PIV Card Application AID (SP 800-73-4 part 1, 2.2).
var pivAID = []byte{0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00}

// storableObject reports whether PUT DATA may write tag.
func storableObject(tag uint32) bool {
	return (tag >= objCardAuthCert && tag <= objPairingCode) || (tag >= 0x5FFF00 && tag <= 0x5FFF15)
}

// pinProtected reports whether reading tag needs the PIN (SP 800-73-4 part
// 1, table 3; the YubiKey "printed information" object holds the PIN
// protected management key).
func pinProtected(tag uint32) bool {
	switch tag {
	case objFingerprints, objFacialImage, objPrinted, objIris, objPairingCode:
		return true
	}
	return false
}

// selectApp implements SELECT of the PIV application by (a prefix of) its
// AID and answers with the application property template.
func (c *Card) selectApp(cmd *command) response {
	if cmd.p1 != 0x04 || (cmd.p2 != 0x00 && cmd.p2 != 0x0C) {
		return status(swWrongP1P2)
	}
	if len(cmd.data) < 5 || len(cmd.data) > len(pivAID) || string(cmd.data) != string(pivAID[:len(cmd.data)]) {
		return status(swNotFound)
	}
	if cmd.p2 == 0x0C {
		return status(swOK)
	}
	var algs []byte
	for _, a := range []Algorithm{Alg3DES, AlgAES128, AlgAES192, AlgAES256, AlgRSA2048, AlgRSA3072, AlgRSA4096, AlgECCP256, AlgECCP384} {
		algs = appendTLV(algs, tagAlgorithm, []byte{byte(a)})
	}
	algs = appendTLV(algs, 0x06, []byte{0x00})
	var apt []byte
	apt = appendTLV(apt, 0x4F, pivAID[5:])
	apt = appendTLV(apt, 0x79, tlvBytes(0x4F, pivAID[:5]))
	apt = appendTLV(apt, 0x50, []byte("vscard virtual PIV"))
	apt = appendTLV(apt, tagGenControl, algs)
	return reply(tlvBytes(0x61, apt))
}

// discoveryObject is the constant content of the discovery object: the PIV
// AID and a PIN usage policy of "PIV Card Application PIN only".
func discoveryObject() []byte {
	return tlvBytes(objDiscovery, appendTLV(tlvBytes(0x4F, pivAID), 0x5F2F, []byte{0x40, 0x00}))
}

// readTagList reads the 5C tag list of GET DATA and PUT DATA.
func readTagList(b []byte) (tag uint32, rest []byte, good bool) {
	t, rest, err := readTLV(b)
	if err != nil || t.tag != tagTagList || len(t.value) == 0 || len(t.value) > 3 {
		return 0, nil, false
	}
	for _, c := range t.value {
		tag = tag<<8 | uint32(c)
	}
	return tag, rest, true
}

// getData implements GET DATA.
func (c *Card) getData(cmd *command) response {
	if cmd.p1 != 0x3F || cmd.p2 != 0xFF {
		return status(swWrongP1P2)
	}
	tag, rest, good := readTagList(cmd.data)
	if !good || len(rest) != 0 {
		return status(swWrongData)
	}
	if tag == objDiscovery {
		return reply(discoveryObject())
	}
	content, found := c.st.objects[tag]
	if !found {
		return status(swNotFound)
	}
	if pinProtected(tag) && !c.sess.pinVerified {
		return status(swSecurityNotSatisfied)
	}
	return reply(tlvBytes(tagDataContainer, content))
}

// putData implements PUT DATA of a 53 container; an empty container deletes
// the object.
func (c *Card) putData(cmd *command) response {
	if cmd.p1 != 0x3F || cmd.p2 != 0xFF {
		return status(swWrongP1P2)
	}
	if !c.sess.mgmtAuthed {
		return status(swSecurityNotSatisfied)
	}
	tag, rest, good := readTagList(cmd.data)
	if !good {
		return status(swWrongData)
	}
	if !storableObject(tag) {
		return status(swNotFound)
	}
	content, err := parseOne(rest, tagDataContainer)
	if err != nil {
		return status(swWrongData)
	}
	if len(content) > maxObjectSize {
		return status(swNoSpace)
	}
	if len(content) == 0 {
		delete(c.st.objects, tag)
		return status(swOK)
	}
	total := len(content)
	for t, v := range c.st.objects {
		if t != tag {
			total += len(v)
		}
	}
	if total > maxObjectsTotal {
		return status(swNoSpace)
	}
	c.st.objects[tag] = clone(content)
	return status(swOK)
}

// factoryState returns the state of a new card without attestation
// identity: default PIN, PUK and management key, a fresh CHUID and CCC.
func factoryState(serial uint32, version [3]byte) (*state, error) {
	pin, _ := padPIN(defaultPIN)
	puk, _ := padPIN(defaultPUK)
	chuid, err := newCHUID(serial, time.Now())
	if err != nil {
		return nil, err
	}
	ccc, err := newCCC()
	if err != nil {
		return nil, err
	}
	return &state{
		serial:  serial,
		version: version,
		pin:     pin,
		puk:     puk,
		pinTry:  counter{Max: defaultRetries, Left: defaultRetries},
		pukTry:  counter{Max: defaultRetries, Left: defaultRetries},
		mgmtAlg: AlgAES192,
		// unblockTry: see unblock.go.
		unblockTry: counter{Max: unblockRetries, Left: unblockRetries},
		mgmtKey:    clone(defaultManagementKey),
		keys:       map[byte]*slotKey{},
		objects:    map[uint32][]byte{objCHUID: chuid, objCCC: ccc},
	}, nil
}

// newCHUID builds a Card Holder Unique Identifier: a FASC-N that carries the
// serial as person identifier, a random GUID, an expiry date and an empty
// signature (the card is not issued by a PIV issuer).
func newCHUID(serial uint32, now time.Time) ([]byte, error) {
	guid := make([]byte, 16)
	if _, err := rand.Read(guid); err != nil {
		return nil, fmt.Errorf("create chuid: %w", err)
	}
	guid[6] = guid[6]&0x0F | 0x40 // RFC 4122 version 4
	guid[8] = guid[8]&0x3F | 0x80
	var out []byte
	out = appendTLV(out, 0x30, fascN(serial))
	out = appendTLV(out, 0x34, guid)
	out = appendTLV(out, 0x35, []byte(now.AddDate(10, 0, 0).Format("20060102")))
	out = appendTLV(out, 0x3E, nil)
	return appendTLV(out, 0xFE, nil), nil
}

// fascN encodes a FASC-N (TIG SCEPACS) with agency, system and credential
// codes of 9s (no federal agency), the serial as the 10-digit person
// identifier, organisational category 1, organisation 0000 and association 1.
// Each character is 4 data bits, least significant first, plus odd parity.
func fascN(serial uint32) []byte {
	const ss, fs, es = 0xB, 0xD, 0xF
	digits := func(s string) []int {
		d := make([]int, len(s))
		for i, r := range s {
			d[i] = int(r - '0')
		}
		return d
	}
	var chars []int
	chars = append(chars, ss)
	chars = append(chars, digits("9999")...)
	chars = append(chars, fs)
	chars = append(chars, digits("9999")...)
	chars = append(chars, fs)
	chars = append(chars, digits("999999")...)
	chars = append(chars, fs)
	chars = append(chars, 0) // credential series
	chars = append(chars, fs)
	chars = append(chars, 1) // individual credential issue
	chars = append(chars, fs)
	chars = append(chars, digits(fmt.Sprintf("%010d", serial))...)
	chars = append(chars, digits("1")...)    // organisational category
	chars = append(chars, digits("0000")...) // organisational identifier
	chars = append(chars, digits("1")...)    // person/organisation association
	chars = append(chars, es)
	lrc := 0
	for _, ch := range chars {
		lrc ^= ch
	}
	chars = append(chars, lrc)

	out := make([]byte, 25)
	bit := 0
	put := func(v int) {
		if v != 0 {
			out[bit/8] |= 0x80 >> (bit % 8)
		}
		bit++
	}
	for _, ch := range chars {
		ones := 0
		for i := range 4 {
			b := ch >> i & 1
			ones += b
			put(b)
		}
		put(1 - ones%2)
	}
	return out
}

// newCCC builds a Card Capability Container with a random card identifier.
func newCCC() ([]byte, error) {
	id := make([]byte, 14)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("create ccc: %w", err)
	}
	var out []byte
	// GSC-RID, manufacturer ID FF (none), card type 02 (Java card), ID.
	out = appendTLV(out, 0xF0, append([]byte{0xA0, 0x00, 0x00, 0x01, 0x16, 0xFF, 0x02}, id...))
	out = appendTLV(out, 0xF1, []byte{0x21}) // container version
	out = appendTLV(out, 0xF2, []byte{0x21}) // grammar version
	out = appendTLV(out, 0xF3, nil)
	out = appendTLV(out, 0xF4, []byte{0x00}) // PKCS#15: no
	out = appendTLV(out, 0xF5, []byte{0x10}) // data model: PIV
	for _, t := range []uint32{0xF6, 0xF7, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE} {
		out = appendTLV(out, t, nil)
	}
	return out, nil
}
