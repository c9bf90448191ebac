package enroll

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/viewer"
)

// SweepResult counts what one sweep did.
type SweepResult struct {
	Expired int // orders moved to EXPIRED
	Revoked int // certificates of ended orders that the CA still had as valid or pending
}

// Sweep expires orders that sat in one state past their expiry, and makes sure the CA has
// revoked everything it signed for orders that ended without completing (a crash between
// the CA and the identity store would otherwise leave a certificate valid at the CA).
func (e *Engine) Sweep(ctx context.Context) (SweepResult, error) {
	e.sweepMu.Lock()
	defer e.sweepMu.Unlock()
	ctx = viewer.AsServer(ctx)
	var res SweepResult
	stale, err := e.db.Order.Query().
		Where(
			order.StateIn(running...), // index (state, expires_at)
			order.ExpiresAtLT(e.now()),
		).
		Limit(500).
		All(ctx)
	if err != nil {
		return res, fmt.Errorf("find stale orders: %w", err)
	}
	for _, o := range stale {
		if _, err := e.transition(ctx, o, move{to: order.StateEXPIRED, action: "order.expire", note: "expired"}); err != nil {
			e.log.Warn("expire order", "order", o.ID, "err", err) // lost a race with the user: fine
			continue
		}
		res.Expired++
	}

	// Orders that ended without completing must leave nothing valid at the CA, including
	// certificates signed just before a crash and never recorded in the identity store.
	since := e.lastReconciled
	if since.IsZero() {
		since = e.now().Add(-24 * time.Hour) // after a start, cover a day of downtime
	}
	until := e.now()
	ended, err := e.db.Order.Query().
		Where(order.StateIn(endings...), order.FinishedAtGTE(since.Add(-time.Minute))). // index (state, finished_at)
		Select(order.FieldID).
		Strings(ctx)
	if err != nil {
		return res, fmt.Errorf("find ended orders: %w", err)
	}
	if rr, ok := e.ca.(ca.ReferenceRevoker); ok {
		for _, id := range ended {
			serials, err := rr.RevokeReference(ctx, id, ocsp.CessationOfOperation)
			if err != nil {
				e.log.Error("revoke order's certificates at CA", "order", id, "err", err)
				return res, nil // try again next sweep, from the same point
			}
			res.Revoked += len(serials)
		}
	} else {
		revoked, err := e.db.Certificate.Query().
			Where(certificate.StateEQ(certificate.StateREVOKED), certificate.RevokedAtGTE(since.Add(-time.Minute))).
			All(ctx)
		if err != nil {
			return res, fmt.Errorf("find revoked certificates: %w", err)
		}
		for _, c := range revoked {
			if st, err := e.ca.Status(ctx, c.Serial); err == nil && st != ca.StatusRevoked {
				if err := e.ca.Revoke(ctx, c.Serial, ocsp.CessationOfOperation); err == nil {
					res.Revoked++
				}
			}
		}
	}
	// Cards locked, unlocked or revoked just before a crash: the CA hears of them here.
	if err := e.syncChangedCards(ctx, since.Add(-time.Minute)); err != nil {
		e.log.Error("sync changed cards with the CA", "err", err)
		return res, nil
	}
	e.lastReconciled = until
	return res, nil
}

// RunSweeper sweeps every interval until ctx ends.
func (e *Engine) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			res, err := e.Sweep(ctx)
			if err != nil {
				e.log.Error("sweep orders", "err", err)
			} else if res.Expired+res.Revoked > 0 {
				e.log.Info("swept orders", "expired", res.Expired, "revoked_at_ca", res.Revoked)
			}
		}
	}
}
