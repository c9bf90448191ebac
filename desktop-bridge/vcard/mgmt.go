package vcard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/subtle"
)

// Tags of the dynamic authentication template (SP 800-73-4 part 2, 3.2.4).
const (
	tagDynAuth   = 0x7C
	tagWitness   = 0x80
	tagChallenge = 0x81
	tagResponse  = 0x82
	tagExponent  = 0x85
)

// managementCipher returns the block cipher of the card's management key.
func (c *Card) managementCipher() (cipher.Block, error) {
	if c.st.mgmtAlg == Alg3DES {
		return des.NewTripleDESCipher(c.st.mgmtKey)
	}
	return aes.NewCipher(c.st.mgmtKey)
}

// authenticateManagement implements GENERAL AUTHENTICATE with the card
// management key (9B): mutual authentication (witness, then witness plus
// challenge) and external authentication (challenge, then response). Both
// take two commands; witness is what the previous command left, if it was
// the first step.
func (c *Card) authenticateManagement(cmd *command, witness []byte, mode byte) response {
	if Algorithm(cmd.p1) != c.st.mgmtAlg {
		return status(swWrongData)
	}
	tmpl, err := parseOne(cmd.data, tagDynAuth)
	if err != nil {
		return status(swWrongData)
	}
	items, err := parseTLVs(tmpl)
	if err != nil {
		return status(swWrongData)
	}
	block, err := c.managementCipher()
	if err != nil {
		return status(swUnknown)
	}
	n := block.BlockSize()
	w, hasW := find(items, tagWitness)
	ch, hasCh := find(items, tagChallenge)
	resp, hasResp := find(items, tagResponse)

	switch {
	case len(items) == 1 && hasW && len(w) == 0: // step 1 of mutual
		plain := make([]byte, n)
		_, _ = rand.Read(plain)
		enc := make([]byte, n)
		block.Encrypt(enc, plain)
		c.sess.mgmtWitness, c.sess.mgmtMode = plain, tagWitness
		return reply(tlvBytes(tagDynAuth, tlvBytes(tagWitness, enc)))

	case len(items) == 1 && hasCh && len(ch) == 0: // step 1 of external
		plain := make([]byte, n)
		_, _ = rand.Read(plain)
		c.sess.mgmtWitness, c.sess.mgmtMode = plain, tagChallenge
		return reply(tlvBytes(tagDynAuth, tlvBytes(tagChallenge, plain)))

	case len(items) == 2 && hasW && hasCh: // step 2 of mutual
		if mode != tagWitness || len(w) != n || len(ch) != n {
			c.sess.mgmtAuthed = false
			return status(swSecurityNotSatisfied)
		}
		if subtle.ConstantTimeCompare(w, witness) != 1 {
			c.sess.mgmtAuthed = false
			return status(swSecurityNotSatisfied)
		}
		enc := make([]byte, n)
		block.Encrypt(enc, ch)
		c.sess.mgmtAuthed = true
		return reply(tlvBytes(tagDynAuth, tlvBytes(tagResponse, enc)))

	case len(items) == 1 && hasResp: // step 2 of external
		if mode != tagChallenge || len(resp) != n {
			c.sess.mgmtAuthed = false
			return status(swSecurityNotSatisfied)
		}
		want := make([]byte, n)
		block.Encrypt(want, witness)
		if subtle.ConstantTimeCompare(resp, want) != 1 {
			c.sess.mgmtAuthed = false
			return status(swSecurityNotSatisfied)
		}
		c.sess.mgmtAuthed = true
		return status(swOK)
	}
	return status(swWrongData)
}

// setManagementKey implements the YubiKey SET MANAGEMENT KEY command:
// P1 FF, P2 FF (or FE, "touch required", which this card stores as no
// touch), data: algorithm, 9B, length, key.
func (c *Card) setManagementKey(cmd *command) response {
	if cmd.p1 != 0xFF || (cmd.p2 != 0xFF && cmd.p2 != 0xFE) {
		return status(swWrongP1P2)
	}
	if !c.sess.mgmtAuthed {
		return status(swSecurityNotSatisfied)
	}
	d := cmd.data
	if len(d) < 3 || d[1] != slotManagement || int(d[2]) != len(d)-3 {
		return status(swWrongData)
	}
	alg := Algorithm(d[0])
	if n := managementKeyLen(alg); n == 0 || n != len(d)-3 {
		return status(swWrongData)
	}
	c.st.mgmtAlg = alg
	c.st.mgmtKey = clone(d[3:])
	return status(swOK)
}
