package handoff

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vscard/vscard/desktop-bridge/api"
)

// getCard is the desktop side of get-virtual-smart-card: a new virtual card with a PIN
// the person chooses, its keys generated on the card and its certificates from the
// server.
type getCard struct {
	serial  uint32
	created bool // the virtual card may exist: Undo deletes it
}

func (g *getCard) Run(ctx context.Context, job *Job) (*Result, error) {
	card := job.Claim.Card
	serial, err := strconv.ParseUint(card.Serial, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("read card setup: card serial %q is not a PIV serial", card.Serial)
	}
	g.serial = uint32(serial)
	job.Log = job.Log.With("card", card.Serial)

	// No reader for the new card: say so before the person chooses a PIN for nothing.
	if r, ok := job.Cards.(ReaderCounter); ok && r.FreeReaders() == 0 {
		return nil, &Error{Code: CodeNoFreeReader, Detail: "every virtual reader holds a card"}
	}
	a, err := job.AskPIN(ctx, PINChoose)
	if err != nil {
		return nil, err
	}
	return g.build(ctx, job, a.New)
}

// build creates and personalises the card and gets its certificates.
func (g *getCard) build(ctx context.Context, job *Job, pin string) (*Result, error) {
	card := job.Claim.Card
	mgmtKey, err := hex.DecodeString(card.ManagementKey)
	if err != nil || len(mgmtKey) != 24 {
		return nil, errors.New("read card setup: the management key is not 24 bytes of hex")
	}
	gql := job.Session.GraphQL()
	order := job.Link.Order
	if _, err := api.ReportCardCreation(ctx, gql, order, ptr("creating virtual card "+card.Serial)); err != nil {
		return nil, fmt.Errorf("report card creation: %w", err)
	}

	g.created = true // from now on a card may exist: Undo deletes it
	reader, err := job.Cards.CreateCard(ctx, g.serial)
	if err != nil {
		return nil, fmt.Errorf("create card: %w", err)
	}
	job.Log.Info("card created", "reader", reader)
	job.Notify(Event{Step: StepCardCreated})

	c, err := job.openPIV(ctx, reader, g.serial)
	if err != nil {
		return nil, err
	}
	defer func() {
		c.close()
		if err := job.Cards.ResetCard(g.serial); err != nil {
			job.Log.Warn("reset card", "err", err)
		}
	}()
	if err := c.secure(mgmtKey, card.Puk, pin, card.PinPolicy.RetryCount); err != nil {
		return nil, err
	}
	job.Log.Info("card secured", "pinRetries", card.PinPolicy.RetryCount)
	job.Notify(Event{Step: StepCardSecured})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	keys, err := c.generateKeys(mgmtKey, pin, card.Certificates, card.Properties.CommonName)
	if err != nil {
		return nil, err
	}
	job.Log.Info("keys generated", "slots", len(keys))
	job.Notify(Event{Step: StepKeysCreated})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	if err := attachTPMEvidence(ctx, gql, order, job.Cards, g.serial, pin, keys, keyRef(pivSlot)); err != nil {
		return nil, err
	}
	sub, err := api.SubmitCardKeys(ctx, gql, order, keys)
	if err != nil {
		return nil, fmt.Errorf("submit card keys: %w", err)
	}
	issued := sub.SubmitCardKeys
	job.Log.Info("certificates issued", "count", len(issued))
	job.Notify(Event{Step: StepCertsIssued})

	if err := c.storeCertificates(mgmtKey, issued); err != nil {
		return nil, err
	}
	job.Log.Info("certificates stored")
	job.Notify(Event{Step: StepCertsStored})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	v := c.version
	firmware := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if _, err := api.ConfirmCardReady(ctx, gql, order, card.Serial, job.Device(reader, firmware)); err != nil {
		return nil, fmt.Errorf("confirm card ready: %w", err)
	}
	took := job.Since()
	job.Log.Info("card ready", "took", took.Round(time.Millisecond))

	res := &Result{
		Server: job.Link.Server, Order: order, UserName: job.Claim.UserName, Serial: card.Serial,
		Reader: reader, ValidUntil: card.ValidUntil, Duration: took,
	}
	for _, ic := range issued {
		res.Certificates = append(res.Certificates, Certificate{
			Slot: ic.Slot, Template: string(ic.Template), Serial: ic.Serial,
			Subject: ic.Subject, NotAfter: ic.NotAfter, PEM: ic.Pem,
		})
	}
	return res, nil
}

// Undo deletes the card, unfinished or ready: the server revokes what it issued for an
// order that did not complete, so a card left here would hold dead certificates.
func (g *getCard) Undo(job *Job) error {
	if !g.created {
		return nil
	}
	if err := job.Cards.DeleteCard(g.serial); err != nil {
		return fmt.Errorf("delete card: %w", err)
	}
	g.created = false
	job.Log.Info("card deleted")
	return nil
}
