package handoff

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/Khan/genqlient/graphql"
	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/tpmevidence"
	"github.com/vscard/vscard/server/tpmverify"
)

// EvidenceSource is a CardHost whose cards keep their keys in the computer's TPM and can
// prove it to the server (server/tpmverify): the TPM key store of desktop-bridge/vcard. A
// CardHost without it (software keys) sends no evidence, which the option script's
// KEY_PROTECTION = TPM refuses and TPM_PREFERRED records as software keys.
type EvidenceSource interface {
	// TPMIdentity returns the TPM's EK certificate and attestation key for the card's
	// keys; ok is false when the card's keys are not in a TPM.
	TPMIdentity(serial uint32) (id tpmverify.Identity, ok bool, err error)
	// TPMActivate answers the server's credential challenge with the TPM
	// (tpmevidence.Attestor.Activate).
	TPMActivate(serial uint32, credentialBlob, encryptedSecret []byte) (secret []byte, err error)
	// TPMCertify has the attestation key certify the key in the card's PIV slot (its key
	// reference, e.g. 0x9A, or the retired slot a renewal makes it in) for the challenge
	// whose activated secret is secret: qualifying data tpmverify.Nonce(secret)
	// (tpmevidence.Attestor.Certify; vcard.Card.CertifyTPMKey, which needs the PIN
	// because TPM2_Certify takes the key's ADMIN role, its PIN-bound authValue).
	TPMCertify(serial uint32, slot byte, pin string, secret []byte) (*tpmevidence.Certification, error)
}

// attachTPMEvidence adds TPM evidence to each submission when the card host offers it:
// one challenge for the order, one certification per key. keySlot names the PIV slot a
// submission's key is in.
func attachTPMEvidence(ctx context.Context, gql graphql.Client, orderID string, host CardHost, serial uint32, pin string,
	keys []api.KeySubmission, keySlot func(slot string) (byte, error)) error {
	src, ok := host.(EvidenceSource)
	if !ok {
		return nil
	}
	id, ok, err := src.TPMIdentity(serial)
	if err != nil {
		return fmt.Errorf("read TPM identity: %w", err)
	}
	if !ok {
		return nil
	}
	b64 := base64.StdEncoding.EncodeToString
	identity := api.TpmIdentityInput{EkCertificate: b64(id.EKCert), AkPublic: b64(id.AKPublic)}
	ch, err := api.TpmChallenge(ctx, gql, orderID, identity)
	if err != nil {
		return fmt.Errorf("ask for TPM challenge: %w", err)
	}
	blob, err := base64.StdEncoding.DecodeString(ch.TpmChallenge.CredentialBlob)
	if err != nil {
		return fmt.Errorf("read TPM challenge: %w", err)
	}
	enc, err := base64.StdEncoding.DecodeString(ch.TpmChallenge.EncryptedSecret)
	if err != nil {
		return fmt.Errorf("read TPM challenge: %w", err)
	}
	secret, err := src.TPMActivate(serial, blob, enc)
	if err != nil {
		return fmt.Errorf("activate TPM challenge: %w", err)
	}
	for i := range keys {
		slot, err := keySlot(keys[i].Slot)
		if err != nil {
			return err
		}
		c, err := src.TPMCertify(serial, slot, pin, secret)
		if err != nil {
			return fmt.Errorf("certify key of slot %s: %w", keys[i].Slot, err)
		}
		keys[i].TpmEvidence = &api.TpmEvidenceInput{
			Identity: identity, Secret: b64(secret),
			KeyPublic: b64(c.KeyPublic), CertifyInfo: b64(c.CertifyInfo), Signature: b64(c.Signature),
		}
	}
	return nil
}

// keyRef turns a slot mapping into the PIV key reference of the slot a key is in.
func keyRef(into func(slot string) (piv.Slot, error)) func(string) (byte, error) {
	return func(slot string) (byte, error) {
		s, err := into(slot)
		if err != nil {
			return 0, err
		}
		return byte(s.Key), nil
	}
}
