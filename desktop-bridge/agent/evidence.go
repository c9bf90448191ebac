package agent

import (
	"fmt"

	"github.com/vscard/vscard/desktop-bridge/tpmevidence"
	"github.com/vscard/vscard/desktop-bridge/vcard"
	"github.com/vscard/vscard/server/tpmverify"
)

// The agent's TPM cards prove to the server that their keys are in this
// computer's TPM (handoff.EvidenceSource; tpmevidence.Cards makes the
// evidence on the key store's own TPM connection). Software cards send none.

func (a *Agent) evidence() tpmevidence.Cards {
	return tpmevidence.Cards{Card: func(serial uint32) (*vcard.Card, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if c := a.cards[serial]; c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("card %d: %w", serial, vcard.ErrNotFound)
	}}
}

// TPMIdentity implements handoff.EvidenceSource.
func (a *Agent) TPMIdentity(serial uint32) (tpmverify.Identity, bool, error) {
	return a.evidence().TPMIdentity(serial)
}

// TPMActivate implements handoff.EvidenceSource.
func (a *Agent) TPMActivate(serial uint32, credentialBlob, encryptedSecret []byte) ([]byte, error) {
	return a.evidence().TPMActivate(serial, credentialBlob, encryptedSecret)
}

// TPMCertify implements handoff.EvidenceSource.
func (a *Agent) TPMCertify(serial uint32, slot byte, pin string, secret []byte) (*tpmevidence.Certification, error) {
	return a.evidence().TPMCertify(serial, slot, pin, secret)
}
