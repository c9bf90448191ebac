package vcard

import (
	"crypto"
	"errors"
	"fmt"
)

// The card's host (the Desktop App's agent) repairs a card whose renewal was cut short:
// it compares the keys in a slot, its staging and its backup slot with the certificates
// the server has in force, keeps the one that matches, and writes that certificate into
// the slot's object. It owns the card file, so, as with MoveKey, no management key.

// slotCertObject is the data object that holds the certificate of each PIV key slot.
var slotCertObject = map[byte]uint32{
	slotAuthentication: objAuthCert,
	slotSignature:      objSignCert,
	slotKeyManagement:  objKeyMgmtCert,
	slotCardAuth:       objCardAuthCert,
}

// PublicKey returns the public key of the key in slot ref, or nil when it holds none.
func (c *Card) PublicKey(ref byte) crypto.PublicKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := c.st.keys[ref]; k != nil {
		return k.public()
	}
	return nil
}

// SetSlotCertificate writes der as the certificate of PIV slot ref (9A, 9C, 9D, 9E), in
// the container piv-go and OpenSC read (70 certificate, 71 uncompressed, FE), and writes
// the card.
func (c *Card) SetSlotCertificate(ref byte, der []byte) error {
	tag, ok := slotCertObject[ref]
	if !ok {
		return fmt.Errorf("set certificate: slot %02X has no certificate object", ref)
	}
	if len(der) == 0 || len(der) > maxObjectSize-16 {
		return fmt.Errorf("set certificate of slot %02X: %d bytes", ref, len(der))
	}
	content := certObject(der)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("set certificate: the card is closed")
	}
	c.st.objects[tag] = content
	if !c.commit() {
		c.st = c.committed.clone()
		return fmt.Errorf("set certificate of slot %02X: the card could not be written", ref)
	}
	return nil
}
