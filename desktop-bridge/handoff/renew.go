package handoff

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/api"
)

// RenewCard is the symbolic name of the process that gives a card new authentication and
// signature keys and certificates before it expires.
const RenewCard = "renew-virtual-smart-card"

// A renewal must never leave the card unusable: a key generated into slot 9A replaces the
// key the card's 9A certificate is for at once, and if the run then stopped (the server
// refused, the network went, the person cancelled, the order expired) the server revokes
// the new certificate and the card would hold neither a working old pair nor a new one.
// So the new keys are made in retired key slots (the staging slots below), where they
// disturb nothing, and only once the server has issued their certificates does the swap
// run: per slot, the old key moves to a backup slot, the new one into place, and the new
// certificate into the slot's object, all on this desktop without a network round trip.
// The Desktop App then confirms to the server, which revokes the old certificates as
// superseded only then. Should the confirmation fail, Undo swaps back: the old key from
// its backup slot and the old certificate, read before the swap, into the slot, so the
// card works as before while the server revokes the new certificates. Once the server
// confirmed, the backups are deleted. Keys move with MOVE KEY (CardHost.MoveKey), so they
// never leave the card.

// stagingSlot is where the new key for a slot is made; backupSlot where the slot's old
// key waits until the server confirmed the renewal. Both are retired key management slots
// (82-95) that nothing else on a vscard card uses.
var (
	stagingSlot = map[string]byte{"9A": 0x95, "9C": 0x94, "9D": 0x93, "9E": 0x92}
	backupSlot  = map[string]byte{"9A": 0x91, "9C": 0x90, "9D": 0x8F, "9E": 0x8E}
)

// issueToCard is the desktop side of the card processes that put new certificates on a
// card this desktop has: renew-virtual-smart-card (new keys for slots that have one, made
// aside and swapped in; see above) and issue-certificates-to-virtual-smart-card (keys for
// slots the card lacks, made in place). It asks for the card's PIN (the card checks it;
// the new keys sign their CSRs with it), makes the keys, submits attested CSRs, writes the
// certificates and confirms, which completes the order on the server. The card keeps its
// PIN, PUK and management key.
type issueToCard struct {
	// aside makes the new keys in staging slots and swaps them in at the end.
	aside bool

	cards  CardHost
	serial uint32
	reader string
	// staged are the slots whose new key waits in its staging slot; Undo deletes it.
	staged []string
	// swapped are the slots swapped already, with the certificate each held before;
	// Undo swaps them back.
	swapped []swap
	mgmtKey []byte
	// Test hook: runs after the swap, before the confirmation.
	afterSwap func(ctx context.Context) error
}

type swap struct {
	slot   string
	oldKey bool              // the slot had a key, now in its backup slot
	old    *x509.Certificate // nil: the slot held no certificate
}

func (h *issueToCard) Run(ctx context.Context, job *Job) (*Result, error) {
	setup := job.Claim.Card
	n, err := strconv.ParseUint(setup.Serial, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("read card setup: card serial %q is not a PIV serial", setup.Serial)
	}
	h.serial, h.cards = uint32(n), job.Cards
	job.Log = job.Log.With("card", setup.Serial)
	if h.mgmtKey, err = hex.DecodeString(setup.ManagementKey); err != nil || len(h.mgmtKey) != 24 {
		return nil, errors.New("read card setup: the management key is not 24 bytes of hex")
	}
	if h.reader, err = job.Cards.CardReader(h.serial); err != nil {
		return nil, cardNotHere(err)
	}
	c, err := job.openPIV(ctx, h.reader, h.serial)
	if err != nil {
		return nil, err
	}
	defer func() {
		c.close()
		if err := job.Cards.ResetCard(h.serial); err != nil {
			job.Log.Warn("reset card", "err", err)
		}
	}()
	pin, err := h.verifyPIN(ctx, job, c)
	if err != nil {
		return nil, err
	}

	into := pivSlot
	if h.aside {
		into = func(slot string) (piv.Slot, error) { return retired(stagingSlot, slot) }
	}
	if h.aside {
		for _, spec := range setup.Certificates {
			h.staged = append(h.staged, spec.Slot)
		}
	}
	keys, err := c.generateKeysInto(h.mgmtKey, pin, setup.Certificates, setup.Properties.CommonName, into)
	if err != nil {
		return nil, err
	}
	job.Log.Info("keys generated", "slots", len(keys), "aside", h.aside)
	job.Notify(Event{Step: StepKeysCreated})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	gql := job.Session.GraphQL()
	if err := attachTPMEvidence(ctx, gql, job.Link.Order, job.Cards, h.serial, pin, keys, keyRef(into)); err != nil {
		return nil, err
	}
	sub, err := api.SubmitCardKeys(ctx, gql, job.Link.Order, keys)
	if err != nil {
		return nil, fmt.Errorf("submit card keys: %w", err)
	}
	issued := sub.SubmitCardKeys
	job.Log.Info("certificates issued", "count", len(issued))
	job.Notify(Event{Step: StepCertsIssued})
	certs := make([]*x509.Certificate, len(issued))
	for i, ic := range issued {
		if certs[i], err = c.checkCertificate(ic, into); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// The swap: from here until the server's answer, Undo puts the old keys back.
	for i, ic := range issued {
		if err := h.install(c, ic.Slot, certs[i]); err != nil {
			return nil, err
		}
	}
	job.Log.Info("certificates stored")
	job.Notify(Event{Step: StepCertsStored})
	if h.afterSwap != nil {
		if err := h.afterSwap(ctx); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := c.version
	firmware := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if err := h.confirm(ctx, job, setup.Serial, job.Device(h.reader, firmware)); err != nil {
		return nil, err
	}
	// The server has the new certificates as the card's and the old ones revoked: the
	// old keys are of no more use.
	h.dropBackups(job)
	job.Log.Info("certificates on the card", "took", job.Since())
	res := &Result{
		Server: job.Link.Server, Order: job.Link.Order, UserName: job.Claim.UserName, Serial: setup.Serial,
		Reader: h.reader, ValidUntil: setup.ValidUntil, Duration: job.Since(),
	}
	for _, ic := range issued {
		res.Certificates = append(res.Certificates, Certificate{
			Slot: ic.Slot, Template: string(ic.Template), Serial: ic.Serial,
			Subject: ic.Subject, NotAfter: ic.NotAfter, PEM: ic.Pem,
		})
	}
	return res, nil
}

// confirm tells the server the certificates are on the card. The one case where the
// server's answer decides between two cards is an answer lost after the server committed:
// it has revoked the old certificates then, and putting the old keys back would leave a
// card with nothing valid. So a request that got no answer is sent again; a repeat that
// finds the order over (its session ends with it) while the order was not ended on the
// server otherwise (the run's subscription would have cancelled ctx) means the first one
// completed it, and the new keys stay.
func (h *issueToCard) confirm(ctx context.Context, job *Job, serial string, device api.DeviceInput) error {
	gql := job.Session.GraphQL()
	_, err := api.ConfirmCardReady(ctx, gql, job.Link.Order, serial, device)
	for try := 0; err != nil && api.Code(err) == "" && ctx.Err() == nil && try < 3; try++ {
		job.Log.Warn("confirm certificates: no answer; asking again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(try+1) * 500 * time.Millisecond):
		}
		_, err = api.ConfirmCardReady(ctx, gql, job.Link.Order, serial, device)
		if c := api.Code(err); (c == api.ErrorCodeUnauthenticated || c == api.ErrorCodeIllegalState) && ctx.Err() == nil {
			job.Log.Warn("the lost confirmation completed the order", "code", c)
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("confirm certificates on the card: %w", err)
	}
	return nil
}

// verifyPIN asks for the card's PIN until the card takes it; a wrong one is asked again
// with the tries left, a blocked PIN ends the run with CodePINBlocked.
func (h *issueToCard) verifyPIN(ctx context.Context, job *Job, c *pivCard) (string, error) {
	if left, err := c.yk.Retries(); err == nil && left == 0 {
		return "", &Error{Code: CodePINBlocked, Detail: "the card's PIN is blocked"}
	}
	var problems []Problem
	for {
		a, err := job.askPIN(ctx, PINVerify, problems)
		if err != nil {
			return "", err
		}
		err = c.yk.VerifyPIN(a.New)
		var auth piv.AuthErr
		switch {
		case err == nil:
			job.Notify(Event{Step: StepPINVerified})
			return a.New, nil
		case errors.As(err, &auth) && auth.Retries == 0:
			return "", &Error{Code: CodePINBlocked, Detail: "wrong PIN; no tries left"}
		case errors.As(err, &auth):
			problems = []Problem{WrongPINProblem(auth.Retries)}
		default:
			return "", fmt.Errorf("verify PIN: %w", err)
		}
	}
}

// install puts cert and its key into slot: for a key made aside, the slot's key (if any)
// goes to its backup slot first and the slot's certificate is kept for Undo.
func (h *issueToCard) install(c *pivCard, slot string, cert *x509.Certificate) error {
	target, err := pivSlot(slot)
	if err != nil {
		return err
	}
	if h.aside {
		sw := swap{slot: slot}
		if old, err := c.yk.Certificate(target); err == nil {
			sw.old = old
		}
		_, keyErr := c.yk.KeyInfo(target)
		sw.oldKey = keyErr == nil
		if sw.oldKey {
			if err := h.move(c, byte(target.Key), backupSlot[slot]); err != nil {
				return err
			}
		}
		h.swapped = append(h.swapped, sw)
		if err := h.move(c, stagingSlot[slot], byte(target.Key)); err != nil {
			return err
		}
		h.staged = removeSlot(h.staged, slot)
	}
	if err := c.yk.SetCertificate(h.mgmtKey, target, cert); err != nil {
		return fmt.Errorf("store certificate in slot %s: %w", slot, err)
	}
	return nil
}

// move moves a key on the card through the card host. c is open meanwhile; the host
// changes the same card, not through PC/SC, so the session sees the key where it went.
func (h *issueToCard) move(_ *pivCard, from, to byte) error {
	if err := h.cards.MoveKey(h.serial, from, to); err != nil {
		return fmt.Errorf("move key from slot %02X to %02X: %w", from, to, err)
	}
	return nil
}

// dropBackups deletes the old keys once the server confirmed the renewal. A failure
// leaves a key nothing uses in a retired slot: logged, not a failure of the renewal.
func (h *issueToCard) dropBackups(job *Job) {
	for _, sw := range h.swapped {
		if sw.oldKey {
			if err := job.Cards.MoveKey(h.serial, backupSlot[sw.slot], 0xFF); err != nil {
				job.Log.Warn("delete the old key", "slot", sw.slot, "err", err)
			}
		}
	}
	h.swapped = nil
}

// Undo puts the card back as it was before the run: keys swapped in go, the old keys and
// certificates come back, keys still waiting aside are deleted. Keys made in place (a
// slot the card lacked) stay with their certificate, which the server revoked: the slot
// had nothing to restore.
func (h *issueToCard) Undo(job *Job) error {
	if len(h.swapped) == 0 && len(h.staged) == 0 {
		return nil
	}
	var errs []error
	if len(h.swapped) > 0 {
		ctx := context.Background()
		c, err := job.openPIV(ctx, h.reader, h.serial)
		if err != nil {
			return fmt.Errorf("open card to restore it: %w", err)
		}
		defer func() {
			c.close()
			_ = job.Cards.ResetCard(h.serial)
		}()
		for i := len(h.swapped) - 1; i >= 0; i-- {
			sw := h.swapped[i]
			target, _ := pivSlot(sw.slot)
			if sw.oldKey {
				if err := h.move(c, backupSlot[sw.slot], byte(target.Key)); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			if sw.old != nil {
				if err := c.yk.SetCertificate(h.mgmtKey, target, sw.old); err != nil {
					errs = append(errs, fmt.Errorf("restore certificate of slot %s: %w", sw.slot, err))
					continue
				}
			}
			job.Log.Info("slot restored", "slot", sw.slot)
		}
		h.swapped = nil
	}
	for _, slot := range h.staged {
		if err := job.Cards.MoveKey(h.serial, stagingSlot[slot], 0xFF); err != nil {
			job.Log.Debug("delete staged key", "slot", slot, "err", err) // perhaps never made
		}
	}
	h.staged = nil
	return errors.Join(errs...)
}

func retired(m map[string]byte, slot string) (piv.Slot, error) {
	ref, ok := m[slot]
	if !ok {
		return piv.Slot{}, fmt.Errorf("unsupported PIV slot %q", slot)
	}
	s, ok := piv.RetiredKeyManagementSlot(uint32(ref))
	if !ok {
		return piv.Slot{}, fmt.Errorf("slot %02X is not a retired key slot", ref)
	}
	return s, nil
}

func removeSlot(slots []string, slot string) []string {
	out := slots[:0]
	for _, s := range slots {
		if s != slot {
			out = append(out, s)
		}
	}
	return out
}

// AsideSlots returns the key references of a PIV slot ("9A", ...), of its staging slot
// (where a renewal makes the new key) and of its backup slot (where the old key waits until
// the server confirmed): the agent repairs a card whose renewal was cut short (the Desktop
// App killed) by keeping, of the three, the key the server's certificate in force is for.
func AsideSlots(slot string) (main, staging, backup byte, ok bool) {
	s, err := pivSlot(slot)
	if err != nil {
		return 0, 0, 0, false
	}
	staging, ok1 := stagingSlot[slot]
	backup, ok2 := backupSlot[slot]
	return byte(s.Key), staging, backup, ok1 && ok2
}
