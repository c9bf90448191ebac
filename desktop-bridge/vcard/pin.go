package vcard

import (
	"crypto/subtle"
	"errors"
)

// verify implements VERIFY for the PIV Card Application PIN (SP 800-73-4
// part 2, 3.2.1): with no data it reports the status, with P1 FF it resets
// the security status, with a PIN it checks it.
func (c *Card) verify(cmd *command) response {
	if cmd.p2 != refPIN {
		return status(swRefNotFound)
	}
	switch {
	case cmd.p1 == 0xFF:
		if len(cmd.data) != 0 {
			return status(swWrongLength)
		}
		c.sess.pinVerified, c.sess.pinFresh = false, false
		return status(swOK)
	case cmd.p1 != 0x00:
		return status(swWrongP1P2)
	case len(cmd.data) == 0:
		if c.st.pinTry.Left == 0 {
			return status(swAuthBlocked)
		}
		if c.sess.pinVerified {
			return status(swOK)
		}
		return status(retriesSW(c.st.pinTry.Left))
	case len(cmd.data) != 8:
		return status(swWrongLength)
	}
	c.sess.pinVerified, c.sess.pinFresh = false, false
	r, secret, good := c.check(&c.st.pinTry, labelPIN, c.st.pin, cmd.data)
	if !good {
		return r
	}
	c.sess.pinVerified, c.sess.pinFresh = true, true
	if c.st.tpm != nil {
		c.sess.keyAuth = secret
		c.bindPendingKeys()
	}
	return status(swOK)
}

// check compares a PIN or PUK with its reference value under the retry
// counter tc. The counter is decremented and committed first and restored
// only after a match. On a TPM card the TPM compares (and counts the failure
// in its dictionary-attack counter) and a match returns the card's secret.
func (c *Card) check(tc *counter, label string, ref, got []byte) (response, []byte, bool) {
	if tc.Left == 0 {
		return status(swAuthBlocked), nil, false
	}
	tc.Left--
	if !c.commit() {
		return status(swMemoryFailure), nil, false
	}
	if c.st.tpm == nil {
		if subtle.ConstantTimeCompare(ref, got) != 1 {
			return status(retriesSW(tc.Left)), nil, false
		}
		tc.Left = tc.Max
		return status(swOK), nil, true
	}
	secret, err := c.st.tpm.unsealRef(label, ref, got)
	switch {
	case errors.Is(err, errTPMAuth):
		return status(retriesSW(tc.Left)), nil, false
	case errors.Is(err, errTPMLockout):
		// The TPM did not look at the PIN: the try is not the card's to count.
		tc.Left++
		return status(swAuthBlocked), nil, false
	case err != nil:
		tc.Left++
		return status(swUnknown), nil, false
	}
	tc.Left = tc.Max
	return status(swOK), secret, true
}

// changeReference implements CHANGE REFERENCE DATA for the PIN (80) and the
// PUK (81).
func (c *Card) changeReference(cmd *command) response {
	if cmd.p1 != 0x00 {
		return status(swWrongP1P2)
	}
	var tc *counter
	var ref *[]byte
	label, def := labelPIN, defaultPIN
	switch cmd.p2 {
	case refPIN:
		tc, ref = &c.st.pinTry, &c.st.pin
	case refPUK:
		tc, ref = &c.st.pukTry, &c.st.puk
		label, def = labelPUK, defaultPUK
	default:
		return status(swRefNotFound)
	}
	if len(cmd.data) != 16 {
		return status(swWrongLength)
	}
	old, next := cmd.data[:8], cmd.data[8:]
	if !validPIN(next) {
		return status(swWrongData)
	}
	if cmd.p2 == refPIN {
		c.sess.pinVerified, c.sess.pinFresh = false, false
	}
	r, secret, good := c.check(tc, label, *ref, old)
	if !good {
		return r
	}
	nref, err := c.st.newRef(label, next, def, secret)
	if err != nil {
		return status(swMemoryFailure)
	}
	*ref = nref
	// Knowing the secret is not a verified PIN, but keys generated later in
	// this session can be bound to it at once (tpmcard.go).
	c.sess.keyAuth = secret
	return status(swOK)
}

// resetRetryCounter implements RESET RETRY COUNTER: the PUK unblocks the PIN
// and sets a new one.
func (c *Card) resetRetryCounter(cmd *command) response {
	if cmd.p1 != 0x00 {
		return status(swWrongP1P2)
	}
	if cmd.p2 != refPIN {
		return status(swRefNotFound)
	}
	if len(cmd.data) != 16 {
		return status(swWrongLength)
	}
	puk, next := cmd.data[:8], cmd.data[8:]
	if !validPIN(next) {
		return status(swWrongData)
	}
	r, secret, good := c.check(&c.st.pukTry, labelPUK, c.st.puk, puk)
	if !good {
		return r
	}
	pinRef, err := c.st.newRef(labelPIN, next, defaultPIN, secret)
	if err != nil {
		return status(swMemoryFailure)
	}
	c.st.pin = pinRef
	c.st.pinTry.Left = c.st.pinTry.Max
	// Whoever holds the PUK may also try offline unblock again.
	c.st.unblockTry.Left, c.st.unblockChallenge = c.st.unblockTry.Max, ""
	c.sess.pinVerified, c.sess.pinFresh = false, false
	return status(swOK)
}

// setRetries implements the YubiKey SET PIN RETRIES command: P1 PIN tries,
// P2 PUK tries. It needs the management key and the PIN, and like a YubiKey
// it resets PIN and PUK to their defaults.
func (c *Card) setRetries(cmd *command) response {
	if len(cmd.data) != 0 {
		return status(swWrongLength)
	}
	if cmd.p1 == 0 || cmd.p2 == 0 {
		return status(swWrongP1P2)
	}
	if !c.sess.mgmtAuthed || !c.sess.pinVerified {
		return status(swSecurityNotSatisfied)
	}
	c.st.pinTry = counter{Max: int(cmd.p1), Left: int(cmd.p1)}
	c.st.pukTry = counter{Max: int(cmd.p2), Left: int(cmd.p2)}
	if err := c.st.setDefaultRefs(c.sess.keyAuth); err != nil {
		return status(swMemoryFailure)
	}
	c.sess.pinVerified, c.sess.pinFresh = false, false
	return status(swOK)
}

// reset implements the YubiKey RESET command: allowed only once both PIN and
// PUK are blocked, it returns the application to its factory state. The
// serial number and the attestation key survive, as on a YubiKey.
func (c *Card) reset(cmd *command) response {
	if cmd.p1 != 0 || cmd.p2 != 0 || len(cmd.data) != 0 {
		return status(swWrongP1P2)
	}
	if c.st.pinTry.Left != 0 || c.st.pukTry.Left != 0 {
		return status(swConditionsNotMet)
	}
	att := c.st.keys[slotAttestation]
	attCert := c.st.objects[objAttestation]
	fresh, err := factoryState(c.st.serial, c.st.version)
	if err != nil {
		return status(swMemoryFailure)
	}
	fresh.tpm, fresh.fileSecret = c.st.tpm, c.st.fileSecret
	if err := fresh.setDefaultRefs(nil); err != nil {
		return status(swMemoryFailure)
	}
	fresh.keys[slotAttestation] = att
	if attCert != nil {
		fresh.objects[objAttestation] = attCert
	}
	c.st = fresh
	c.sess = session{}
	return status(swOK)
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
