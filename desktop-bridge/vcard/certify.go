package vcard

import (
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// Errors of CertifyTPMKey, checked with errors.Is.
var (
	// ErrNotTPM: the card or the slot's key is not in a TPM.
	ErrNotTPM = errors.New("the key is not in a TPM")
	// ErrWrongPIN: the PIN was wrong (a try was spent) or is blocked.
	ErrWrongPIN = errors.New("wrong or blocked PIN")
)

// Do runs f with the key store's TPM connection, serialised with the cards'
// own commands. Transient objects are per connection, so an attestation key
// that CertifyTPMKey should use must be created or loaded here.
func (t *TPM) Do(f func(tpm transport.TPM) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return f(t.tpm)
}

// TPMKeyPublic returns the TPM2B_PUBLIC of the key in slot: what a verifier
// compares with the name a TPM2_Certify attests (and whose attributes,
// fixedTPM, fixedParent and sensitiveDataOrigin, it checks).
func (c *Card) TPMKeyPublic(slot byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tk, err := c.tpmSlotKey(slot)
	if err != nil {
		return nil, err
	}
	pub, _, err := splitBlob(tk.blob)
	if err != nil {
		return nil, err
	}
	return tpm2.Marshal(pub), nil
}

func (c *Card) tpmSlotKey(slot byte) (*tpmKey, error) {
	if c.closed {
		return nil, errors.New("certify key: the card is closed")
	}
	k := c.st.keys[slot]
	if k == nil {
		return nil, fmt.Errorf("certify key in slot %02X: %w", slot, ErrNoKey)
	}
	tk, ok := k.priv.(*tpmKey)
	if !ok {
		return nil, fmt.Errorf("certify key in slot %02X: %w", slot, ErrNotTPM)
	}
	return tk, nil
}

// CertifyTPMKey runs TPM2_Certify on the key in slot, signed by the
// attestation key ak (loaded on this card's TPM connection through TPM.Do,
// with its authorisation), with qualifyingData (the verifier's nonce). It
// returns the TPM2B_ATTEST and the TPMT_SIGNATURE as the TPM marshals them.
//
// Certify needs the key's ADMIN role, which for these keys is the same
// authValue as use (adminWithPolicy clear, see doc.go), so it takes the PIN:
// the PIN is checked like VERIFY, under the PIN retry counter and the TPM's
// dictionary-attack protection, but the session's security state is left
// alone. The PIN is also needed for keys with PIN policy never, so certify is
// never a way around the PIN.
func (c *Card) CertifyTPMKey(slot byte, pin string, ak tpm2.AuthHandle, qualifyingData []byte) (attest, sig []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tk, err := c.tpmSlotKey(slot)
	if err != nil {
		return nil, nil, err
	}
	padded, err := padPIN(pin)
	if err != nil {
		return nil, nil, fmt.Errorf("certify key: %w", err)
	}
	r, secret, good := c.check(&c.st.pinTry, labelPIN, c.st.pin, padded)
	if !c.commit() {
		c.st = c.committed.clone()
		return nil, nil, errors.New("certify key: the card could not be written")
	}
	if !good {
		return nil, nil, fmt.Errorf("certify key: %w (SW %04X)", ErrWrongPIN, r.sw)
	}
	auth := c.st.fileSecret
	if tk.pinBound {
		auth = secret
	}
	err = tk.withKey(auth, encryptInOut, func(h tpm2.AuthHandle) error {
		rsp, err := tpm2.Certify{
			ObjectHandle:   h,
			SignHandle:     ak,
			QualifyingData: tpm2.TPM2BData{Buffer: qualifyingData},
			InScheme:       tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgNull},
		}.Execute(tk.tpm.tpm)
		if err != nil {
			return fmt.Errorf("certify key: %w", err)
		}
		attest, sig = tpm2.Marshal(rsp.CertifyInfo), tpm2.Marshal(rsp.Signature)
		return nil
	})
	return attest, sig, err
}

// TPM returns the key store of a TPM card, whose connection (TPM.Do) an
// attestation key for CertifyTPMKey must be made on; nil for a software card.
func (c *Card) TPM() *TPM {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.tpm
}
