package agent

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

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
// deleted. While both are in force it waits; it never deletes the only key a slot has. It
// does not wait for long: each contact tells the server the renewal was cut short
// (reportCutShort), and the server ends the order, which no Desktop App can finish now.

// cardSlots are the PIV slots a renewal may have touched.
var cardSlots = []string{"9A", "9C", "9D", "9E"}

// repairCard makes the card's keys agree with the certificates the server has in force
// (see above). It does nothing while a hand-off runs in this agent: that run owns its
// staged and backup keys. It returns the slots repaired and how.
func (a *Agent) repairCard(serial uint32, certs []api.CardSyncStateCertificatesCardSyncCertificate) []api.CardKeyRepairInput {
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
	var out []api.CardKeyRepairInput
	for _, slot := range cardSlots {
		outcome, kept, err := repairSlot(card, slot, certsOf(certs, slot))
		if err != nil {
			a.log.Warn("repair card after an interrupted renewal", "card", serial, "slot", slot, "err", err)
			continue
		}
		if outcome != "" {
			a.log.Info("card repaired after an interrupted renewal", "card", serial, "slot", slot, "outcome", outcome)
			out = append(out, api.CardKeyRepairInput{Slot: slot, Outcome: outcome,
				CertificateSerial: kept.SerialNumber.Text(16), At: time.Now().UTC()})
		}
	}
	if len(out) > 0 {
		// The server audits the repair (card.keys_repaired) with the next contact, which
		// is asked for now; the queue keeps it should the Desktop App stop again first.
		if err := a.repairs.add(serial, out); err != nil {
			a.log.Warn("queue the report of a card repair", "card", serial, "err", err)
		}
		a.Kick()
	}
	// No card.Reset: a PC/SC program in the middle of connecting would fail (and piv-go
	// then leaves its exclusive handle behind); a session open meanwhile simply uses the
	// key that is in the slot now, which is the one its certificate is for.
	return out
}

// reportCutShort marks report as one of a renewal cut short (renewalCutShort) when the
// card holds a staged or backup key, or the report carries repairs, and this agent runs no
// hand-off: hand-offs run in the agent only, and one agent serves the user's cards, so no
// Desktop App works on that renewal any more. The server then ends the order it claimed
// (server/enroll endRenewalsCutShort), which can never complete, rather than let it wait
// for its expiry; its answer lists the certificates as that left them, and repairCard puts
// the old keys back at once. The repairs count because repairCard may run first (the
// subscription) and delete a staged key whose certificate the server never issued: the
// report must still end the order. It returns what releases handoffs, held until the
// server has answered, or nil when report was left as it was.
func (a *Agent) reportCutShort(card *vcard.Card, report *api.CardReportInput) func() {
	if len(report.KeyRepairs) == 0 && !hasAsideKeys(card) {
		return nil
	}
	a.handoffs.RLock()
	if a.running.Load() > 0 { // the hand-off owns its staged and backup keys
		a.handoffs.RUnlock()
		return nil
	}
	yes := true
	report.RenewalCutShort = &yes
	return a.handoffs.RUnlock
}

// hasAsideKeys reports whether card holds a key in a renewal's staging or backup slot.
func hasAsideKeys(card *vcard.Card) bool {
	for _, slot := range cardSlots {
		if _, staging, backup, ok := handoff.AsideSlots(slot); ok &&
			(card.PublicKey(staging) != nil || card.PublicKey(backup) != nil) {
			return true
		}
	}
	return false
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
func repairSlot(card *vcard.Card, slot string, inForce []*x509.Certificate) (api.CardKeyRepairOutcome, *x509.Certificate, error) {
	main, staging, backup, ok := handoff.AsideSlots(slot)
	if !ok {
		return "", nil, nil
	}
	stagedKey, backupKey := card.PublicKey(staging), card.PublicKey(backup)
	if stagedKey == nil && backupKey == nil {
		return "", nil, nil // no renewal was cut short here
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
		return "", nil, nil
	}
	keep := matches[0]
	outcome := api.CardKeyRepairOutcomeRestoredOld
	if keep.ref == staging || (keep.ref == main && backupKey != nil) {
		outcome = api.CardKeyRepairOutcomeKeptNew
	}
	if keep.ref != main {
		if err := card.MoveKey(keep.ref, main); err != nil {
			return "", nil, fmt.Errorf("move the key in force into slot %s: %w", slot, err)
		}
	}
	if err := card.SetSlotCertificate(main, keep.cert.Raw); err != nil {
		return "", nil, err
	}
	for _, ref := range []byte{staging, backup} {
		if ref != keep.ref && card.PublicKey(ref) != nil {
			if err := card.MoveKey(ref, 0xFF); err != nil {
				return "", nil, fmt.Errorf("delete the key of slot %02X: %w", ref, err)
			}
		}
	}
	return outcome, keep.cert, nil
}

// repairQueue keeps the repairs not yet reported, one JSON list per card
// (pending/<serial>.repairs.json).
type repairQueue struct{ dir string }

func (q repairQueue) path(serial uint32) string {
	return filepath.Join(q.dir, strconv.FormatUint(uint64(serial), 10)+".repairs.json")
}

func (q repairQueue) load(serial uint32) ([]api.CardKeyRepairInput, error) {
	b, err := os.ReadFile(q.path(serial))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read queued card repairs: %w", err)
	}
	var out []api.CardKeyRepairInput
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("parse queued card repairs: %w", err)
	}
	return out, nil
}

func (q repairQueue) save(serial uint32, list []api.CardKeyRepairInput) error {
	if len(list) == 0 {
		if err := os.Remove(q.path(serial)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove queued card repairs: %w", err)
		}
		return nil
	}
	if len(list) > maxQueued {
		list = list[len(list)-maxQueued:]
	}
	if err := os.MkdirAll(q.dir, 0o700); err != nil {
		return fmt.Errorf("create queue directory: %w", err)
	}
	b, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("encode queued card repairs: %w", err)
	}
	tmp := q.path(serial) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write queued card repairs: %w", err)
	}
	if err := os.Rename(tmp, q.path(serial)); err != nil {
		return fmt.Errorf("write queued card repairs: %w", err)
	}
	return nil
}

func (q repairQueue) add(serial uint32, r []api.CardKeyRepairInput) error {
	list, _ := q.load(serial) // a damaged queue is replaced
	return q.save(serial, append(list, r...))
}

// drop removes the n oldest entries, which the server has.
func (q repairQueue) drop(serial uint32, n int) error {
	list, err := q.load(serial)
	if err != nil {
		return err
	}
	return q.save(serial, list[min(n, len(list)):])
}

func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
