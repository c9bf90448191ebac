package tpmevidence

import (
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/vscard/vscard/desktop-bridge/vcard"
	"github.com/vscard/vscard/server/tpmverify"
)

// Cards makes the evidence for the cards of the vcard TPM key store, on the
// key store's own TPM connection (vcard.TPM.Do: transient objects belong to a
// connection, and the TPM serialises commands). It is what a Desktop App's
// card host answers handoff.EvidenceSource with. The attestation key is a
// primary, recreated for each step and flushed after it, so the card's keys
// keep the TPM's few object slots.
type Cards struct {
	// Card returns the open card with the serial.
	Card func(serial uint32) (*vcard.Card, error)
}

// tpmOf returns the card's TPM key store; nil for a software card.
func (s Cards) tpmOf(serial uint32) (*vcard.TPM, *vcard.Card, error) {
	c, err := s.Card(serial)
	if err != nil {
		return nil, nil, err
	}
	return c.TPM(), c, nil
}

// withAttestor runs f with an Attestor open on t's connection.
func withAttestor(t *vcard.TPM, f func(a *Attestor) error) error {
	return t.Do(func(tpm transport.TPM) error {
		a, err := Open(tpm)
		if err != nil {
			return err
		}
		defer a.Close()
		return f(a)
	})
}

// TPMIdentity returns the EK certificate and AK of the card's TPM. ok is false
// for a software card and for a TPM without an EK certificate in NV, which
// cannot be attested: the order's KEY_PROTECTION decides what that means.
func (s Cards) TPMIdentity(serial uint32) (id tpmverify.Identity, ok bool, err error) {
	t, _, err := s.tpmOf(serial)
	if err != nil || t == nil {
		return id, false, err
	}
	err = withAttestor(t, func(a *Attestor) error {
		id = a.Identity()
		return nil
	})
	if errors.Is(err, ErrNoEKCertificate) {
		return id, false, nil
	}
	return id, err == nil, err
}

// TPMActivate answers the server's credential challenge with the card's TPM.
func (s Cards) TPMActivate(serial uint32, credentialBlob, encryptedSecret []byte) (secret []byte, err error) {
	t, _, err := s.tpmOf(serial)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, vcard.ErrNotTPM
	}
	err = withAttestor(t, func(a *Attestor) error {
		secret, err = a.Activate(credentialBlob, encryptedSecret)
		return err
	})
	return secret, err
}

// TPMCertify has the AK certify the key in the card's slot for the challenge
// whose activated secret is secret (vcard.Card.CertifyTPMKey, with the PIN).
func (s Cards) TPMCertify(serial uint32, slot byte, pin string, secret []byte) (*Certification, error) {
	t, c, err := s.tpmOf(serial)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, vcard.ErrNotTPM
	}
	pub2b, err := c.TPMKeyPublic(slot)
	if err != nil {
		return nil, err
	}
	pub, err := tpm2.Unmarshal[tpm2.TPM2BPublic](pub2b)
	if err != nil {
		return nil, fmt.Errorf("read key public: %w", err)
	}
	keyPub, err := pub.Contents()
	if err != nil {
		return nil, fmt.Errorf("read key public: %w", err)
	}
	// The AK stays loaded between the two calls: CertifyTPMKey takes the
	// connection itself to load the slot key.
	var a *Attestor
	if err := t.Do(func(tpm transport.TPM) error {
		a, err = Open(tpm)
		return err
	}); err != nil {
		return nil, err
	}
	defer func() { _ = t.Do(func(transport.TPM) error { a.Close(); return nil }) }()
	attest, sig, err := c.CertifyTPMKey(slot, pin, a.AK(), tpmverify.Nonce(secret))
	if err != nil {
		return nil, err
	}
	return &Certification{KeyPublic: tpm2.Marshal(keyPub), CertifyInfo: attest, Signature: sig}, nil
}
