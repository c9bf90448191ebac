package graph

import (
	"context"
	"encoding/base64"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/graph/model"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/viewer"
)

// followOrder sends the order as it is now, then every change, and ends when the order
// ends or ctx does. Notices only say "changed"; the order is re-read through the viewer's
// privacy rules every time. When several transitions happened between two reads, one
// update per step is sent (the order as it is now, with that step's state), so a client
// sees every state in order.
func (r *Resolver) followOrder(ctx context.Context, id string) (<-chan *ent.Order, error) {
	// Subscribe before the first read, so a change between the two is not missed.
	subCtx, cancel := context.WithCancel(ctx)
	notices, err := r.Events.Subscribe(subCtx, events.OrderKey(id))
	if err != nil {
		cancel()
		return nil, err
	}
	o, err := notFound(r.DB.Order.Get(ctx, id))
	if err != nil {
		cancel()
		return nil, err
	}
	out := make(chan *ent.Order, 1)
	unsubscribed := r.Metrics.Subscribed()
	go func() {
		defer unsubscribed()
		defer cancel()
		defer close(out)
		send := func(o *ent.Order) bool {
			select {
			case out <- o:
				return true
			case <-ctx.Done():
				return false
			}
		}
		if !send(o) || enroll.IsFinal(o.State) {
			return
		}
		version, steps := o.Version, len(o.Steps)
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-notices:
				if !ok {
					return
				}
			}
			cur, err := r.DB.Order.Get(ctx, id)
			if err != nil {
				r.Log.Warn("re-read order for subscription", "order", id, "err", err)
				return
			}
			if cur.Version == version {
				continue
			}
			for i := steps; i < len(cur.Steps)-1; i++ {
				past := *cur
				past.State = order.State(cur.Steps[i].State)
				if !send(&past) {
					return
				}
			}
			if !send(cur) || enroll.IsFinal(cur.State) {
				return
			}
			version, steps = cur.Version, len(cur.Steps)
		}
	}()
	return out, nil
}

// followCard sends the card as the server sees it now, then on every notice of a change,
// and ends when the card must leave the desktop, when it is deleted, or when ctx ends. The
// Desktop App follows with a proof (server/cardproof); the portal's people follow the
// cards the viewer's privacy rules let them read.
func (r *Resolver) followCard(ctx context.Context, serial string, proof *model.CardProofInput) (<-chan *enroll.CardSync, error) {
	var first *enroll.CardSync
	if proof != nil {
		if proof.Serial != serial {
			return nil, errs.New(errs.InvalidInput, "The proof is for card %s, not %s.", proof.Serial, serial).
				WithDetails(map[string]any{"field": "proof.serial"})
		}
		challenge, response, err := decodeProof(proof)
		if err != nil {
			return nil, err
		}
		if first, err = r.Enroll.FollowCard(ctx, serial, challenge, response); err != nil {
			return nil, err
		}
	} else {
		if v := viewer.FromContext(ctx); v == nil || v.Kind != viewer.KindUser {
			return nil, errs.New(errs.Unauthenticated, "Sign in, or prove that the Desktop App holds the card.")
		}
		c, err := notFound(r.DB.Card.Query().Where(card.Serial(serial)).Only(ctx))
		if err != nil {
			return nil, err
		}
		if first, err = r.Enroll.CardState(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	subCtx, cancel := context.WithCancel(ctx)
	notices, err := r.Events.Subscribe(subCtx, events.CardKey(first.ID))
	if err != nil {
		cancel()
		return nil, err
	}
	// Read again after subscribing, so a change between the first read and the
	// subscription is not missed.
	cur, err := r.Enroll.CardState(ctx, first.ID)
	if err != nil {
		cancel()
		return nil, notFoundCard(err, serial)
	}
	out := make(chan *enroll.CardSync, 1)
	unsubscribed := r.Metrics.Subscribed()
	go func() {
		defer unsubscribed()
		defer cancel()
		defer close(out)
		for {
			select {
			case out <- cur:
			case <-ctx.Done():
				return
			}
			if cur.Remove {
				return
			}
			prev := *cur
			for cur.State == prev.State && cur.Remove == prev.Remove && samePIN(cur, &prev) {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-notices:
					if !ok {
						return
					}
				}
				next, err := r.Enroll.CardState(ctx, first.ID)
				if ent.IsNotFound(err) { // deleted: the Desktop App removes it
					next = &enroll.CardSync{Serial: serial, State: cur.State, Remove: true, ID: first.ID}
				} else if err != nil {
					r.Log.Warn("re-read card for subscription", "card", serial, "err", err)
					return
				}
				cur = next
			}
		}
	}()
	return out, nil
}

// samePIN reports whether a and b say the same of the PIN.
func samePIN(a, b *enroll.CardSync) bool {
	if a.PinState == nil || b.PinState == nil {
		return a.PinState == b.PinState
	}
	return *a.PinState == *b.PinState
}

func notFoundCard(err error, serial string) error {
	if ent.IsNotFound(err) {
		return errs.New(errs.NotFound, "There is no card %s.", serial)
	}
	return err
}

// decodeProof decodes a proof's base64 challenge and response.
func decodeProof(p *model.CardProofInput) (challenge, response []byte, err error) {
	if challenge, err = base64.StdEncoding.DecodeString(p.Challenge); err != nil {
		return nil, nil, errs.New(errs.InvalidInput, "The challenge is not base64.").WithDetails(map[string]any{"field": "proof.challenge"})
	}
	if response, err = base64.StdEncoding.DecodeString(p.Response); err != nil {
		return nil, nil, errs.New(errs.InvalidInput, "The response is not base64.").WithDetails(map[string]any{"field": "proof.response"})
	}
	return challenge, response, nil
}

// cardReport turns syncCard's input into the engine's report.
func cardReport(in model.CardReportInput) (enroll.CardReport, error) {
	challenge, response, err := decodeProof(in.Proof)
	if err != nil {
		return enroll.CardReport{}, err
	}
	rep := enroll.CardReport{Serial: in.Proof.Serial, Challenge: challenge, Response: response,
		RenewalCutShort: in.RenewalCutShort != nil && *in.RenewalCutShort}
	if st := in.PinState; st != nil {
		rep.PINState = &record.PINState{TriesLeft: st.TriesLeft, Blocked: st.Blocked, PUKBlocked: st.PukBlocked}
	}
	for _, pc := range in.PinChanges {
		rep.PINChanges = append(rep.PINChanges, enroll.PINChange{Result: string(pc.Result), At: pc.At, TriesLeft: pc.TriesLeft})
	}
	for _, kr := range in.KeyRepairs {
		rep.KeyRepairs = append(rep.KeyRepairs, enroll.KeyRepair{Slot: kr.Slot, Outcome: string(kr.Outcome), CertificateSerial: kr.CertificateSerial, At: kr.At})
	}
	return rep, nil
}
