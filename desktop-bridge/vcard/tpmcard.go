package vcard

import (
	"bytes"
	"crypto/rand"
	"fmt"
)

// Labels of the two references that release a TPM card's key secret.
const (
	labelPIN = "pin"
	labelPUK = "puk"
)

// keySecretSize is the size of a TPM card's key secret and file secret
// (the authValue size of SHA-256 objects).
const keySecretSize = 32

// A TPM card's PIN (or PUK) reference is one byte, 1 when it is the factory
// default (for GET METADATA, which cannot ask the TPM without spending a
// try), followed by the TPM blob of a DA-protected sealed object that holds
// the card's key secret under the PIN's authValue.

// newRef returns the reference data for a padded PIN or PUK: the value
// itself on a software card, on a TPM card secret sealed under it.
func (s *state) newRef(label string, padded []byte, def string, secret []byte) ([]byte, error) {
	if s.tpm == nil {
		return clone(padded), nil
	}
	if len(secret) != keySecretSize {
		return nil, fmt.Errorf("seal %s: no key secret", label)
	}
	defPadded, _ := padPIN(def)
	blob, err := s.tpm.seal(secret, pinAuth(label, padded), false)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", label, err)
	}
	return append([]byte{boolByte(bytes.Equal(padded, defPadded))[0]}, blob...), nil
}

// unsealRef returns the secret a reference holds if got is its PIN.
func (t *TPM) unsealRef(label string, ref, got []byte) ([]byte, error) {
	if len(ref) < 1 {
		return nil, fmt.Errorf("unseal %s: empty reference", label)
	}
	return t.unseal(ref[1:], pinAuth(label, got))
}

// refIsDefault reports whether a reference is the factory default value.
func (s *state) refIsDefault(ref, defPadded []byte) bool {
	if s.tpm == nil {
		return bytes.Equal(ref, defPadded)
	}
	return len(ref) > 0 && ref[0] == 1
}

// setDefaultRefs sets PIN and PUK to the factory defaults; on a TPM card
// both seal secret, or a new random key secret when secret is nil (a card
// reset: the old PIN-bound keys are gone with it).
func (s *state) setDefaultRefs(secret []byte) error {
	pin, _ := padPIN(defaultPIN)
	puk, _ := padPIN(defaultPUK)
	return s.setRefs(pin, puk, secret)
}

func (s *state) setRefs(pin, puk, secret []byte) error {
	if s.tpm != nil && secret == nil {
		secret = make([]byte, keySecretSize)
		if _, err := rand.Read(secret); err != nil {
			return fmt.Errorf("generate key secret: %w", err)
		}
	}
	p, err := s.newRef(labelPIN, pin, defaultPIN, secret)
	if err != nil {
		return err
	}
	u, err := s.newRef(labelPUK, puk, defaultPUK, secret)
	if err != nil {
		return err
	}
	s.pin, s.puk = p, u
	return nil
}

// keyAuth returns the authValue of a TPM key: the PIN-released secret for a
// PIN-bound key (nil before VERIFY, which the TPM refuses), else the card's
// file secret.
func (c *Card) keyAuth(k *tpmKey) []byte {
	if k.pinBound {
		return c.sess.keyAuth
	}
	return c.st.fileSecret
}

// generateTPM makes a slot key in the TPM. A key that needs the PIN is bound
// to the PIN-released secret when this session has it; otherwise (GENERATE
// needs only the management key, and piv-go verifies the PIN afterwards) it
// starts under the file secret and is rebound at the next good VERIFY.
func (c *Card) generateTPM(alg Algorithm, pinPolicy byte) (*tpmKey, error) {
	if !tpmAlgorithm(alg) {
		return nil, fmt.Errorf("generate TPM key: unsupported algorithm %#x", byte(alg))
	}
	if pinPolicy != pinNever && c.sess.keyAuth != nil {
		return c.st.tpm.generate(alg, c.sess.keyAuth, true)
	}
	return c.st.tpm.generate(alg, c.st.fileSecret, false)
}

// bindPendingKeys rebinds the keys that need the PIN but were made before
// the PIN was verified to the PIN-released secret. A key that cannot be
// rebound stays as it is and is tried again at the next VERIFY.
func (c *Card) bindPendingKeys() {
	for ref, k := range c.st.keys {
		tk, ok := k.priv.(*tpmKey)
		if !ok || tk.pinBound || k.pinPolicy == pinNever {
			continue
		}
		next, err := tk.changeAuth(c.st.fileSecret, c.sess.keyAuth, true)
		if err != nil {
			continue
		}
		nk := *k
		nk.priv = next
		c.st.keys[ref] = &nk
	}
}

// initTPM turns a new software state into a TPM card's: PIN and PUK sealed
// with a new key secret, a file secret, and the attestation key made in the
// TPM.
func (s *state) initTPM(t *TPM) (*tpmKey, error) {
	s.tpm = t
	s.fileSecret = make([]byte, keySecretSize)
	if _, err := rand.Read(s.fileSecret); err != nil {
		return nil, fmt.Errorf("generate file secret: %w", err)
	}
	if err := s.setRefs(s.pin, s.puk, nil); err != nil {
		return nil, err
	}
	return t.generate(AlgECCP256, s.fileSecret, false)
}
