package agent

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// A renewal makes the new keys in staging slots and, once their certificates exist, moves
// the old keys to backup slots and the new ones into place (handoff/renew.go); its Undo
// swaps back. A Desktop App killed meanwhile runs no Undo, so the next agent finds a card
// with two keys for a slot: the old one in place and the new one staged (killed before the
// swap), or the new one in place and the old one in its backup slot (killed after the
// swap, before or while the server recorded the renewal as done). Only the server knows
// which of them counts: the order completed (the new certificates VALID, the old revoked),
// or ended otherwise (the new ones revoked), or is still open (both VALID). So after each
// contact (syncCard, cardUpdated) the agent compares the keys of each slot with the
// certificates in force the server lists: when exactly one of the keys is for one of
// them, that key goes (or stays) in place with its certificate, and the others are
// deleted. While both are in force it waits; it never deletes the only key a slot has.

// Repair outcomes, logged and counted in tests.
const (
	repairKeptNew     = "KEPT_NEW"     // the renewal completed: the new key stays, the old goes
	repairRestoredOld = "RESTORED_OLD" // the renewal ended otherwise: the old key is back
)

// cardSlots are the PIV slots a renewal may have touched.
var cardSlots = []string{"9A", "9C", "9D", "9E"}

// repairCard makes the card's keys agree with the certificates the server has in force
// (see above). It does nothing while a hand-off runs in this agent: that run owns its
// staged and backup keys. It returns the slots repaired and how.
func (a *Agent) repairCard(serial uint32, certs []api.CardSyncStateCertificatesCardSyncCertificate) map[string]string {
	a.repairing.Lock() // a contact and the subscription may answer at once
	defer a.repairing.Unlock()
	if a.running.Load() > 0 {
		return nil
	}
	a.mu.Lock()
	card := a.cards[serial]
	a.mu.Unlock()
	if card == nil {
		return nil
	}
	out := map[string]string{}
	for _, slot := range cardSlots {
		outcome, err := repairSlot(card, slot, certsOf(certs, slot))
		if err != nil {
			a.log.Warn("repair card after an interrupted renewal", "card", serial, "slot", slot, "err", err)
			continue
		}
		if outcome != "" {
			a.log.Info("card repaired after an interrupted renewal", "card", serial, "slot", slot, "outcome", outcome)
			out[slot] = outcome
		}
	}
	// No card.Reset: a PC/SC program in the middle of connecting would fail (and piv-go
	// then leaves its exclusive handle behind); a session open meanwhile simply uses the
	// key that is in the slot now, which is the one its certificate is for.
	return out
}

// certsOf returns the parsed certificates in force for slot; one that does not parse is
// left out (and so never decides anything).
func certsOf(certs []api.CardSyncStateCertificatesCardSyncCertificate, slot string) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range certs {
		if c.Slot != slot {
			continue
		}
		b, _ := pem.Decode([]byte(c.Pem))
		if b == nil {
			continue
		}
		if cert, err := x509.ParseCertificate(b.Bytes); err == nil {
			out = append(out, cert)
		}
	}
	return out
}

// repairSlot repairs one slot; "" when there was nothing to do or nothing safe to do.
func repairSlot(card *vcard.Card, slot string, inForce []*x509.Certificate) (string, error) {
	main, staging, backup, ok := handoff.AsideSlots(slot)
	if !ok {
		return "", nil
	}
	stagedKey, backupKey := card.PublicKey(staging), card.PublicKey(backup)
	if stagedKey == nil && backupKey == nil {
		return "", nil // no renewal was cut short here
	}
	type candidate struct {
		ref  byte
		cert *x509.Certificate
	}
	var matches []candidate
	for _, ref := range []byte{main, staging, backup} {
		pub := card.PublicKey(ref)
		if pub == nil {
			continue
		}
		for _, cert := range inForce {
			if samePublicKey(pub, cert.PublicKey) {
				matches = append(matches, candidate{ref, cert})
				break
			}
		}
	}
	if len(matches) != 1 {
		// None: the server stands by no key this card has for the slot, and deleting one
		// could only make things worse. Two: the renewal is still open on the server.
		return "", nil
	}
	keep := matches[0]
	outcome := repairRestoredOld
	if keep.ref == staging || (keep.ref == main && backupKey != nil) {
		outcome = repairKeptNew
	}
	if keep.ref != main {
		if err := card.MoveKey(keep.ref, main); err != nil {
			return "", fmt.Errorf("move the key in force into slot %s: %w", slot, err)
		}
	}
	if err := card.SetSlotCertificate(main, keep.cert.Raw); err != nil {
		return "", err
	}
	for _, ref := range []byte{staging, backup} {
		if ref != keep.ref && card.PublicKey(ref) != nil {
			if err := card.MoveKey(ref, 0xFF); err != nil {
				return "", fmt.Errorf("delete the key of slot %02X: %w", ref, err)
			}
		}
	}
	return outcome, nil
}

func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
