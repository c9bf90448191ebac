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
	Revoked int // certificates revoked at the CA that the identity store had already revoked
}

// Sweep expires orders that sat in one state past their expiry, and makes sure the CA has
// revoked every certificate the identity store says is revoked (a crash between the two
// would otherwise leave a certificate valid at the CA).
func (e *Engine) Sweep(ctx context.Context) (SweepResult, error) {
	ctx = viewer.SystemContext(ctx)
	var res SweepResult
	stale, err := e.db.Order.Query().
		Where(
			order.StateNotIn(order.StateCOMPLETED, order.StateCANCELLED, order.StateFAILED, order.StateEXPIRED),
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

	revoked, err := e.db.Certificate.Query().
		Where(certificate.StateEQ(certificate.StateREVOKED), certificate.RevokedAtGT(e.now().Add(-24*time.Hour))).
		All(ctx)
	if err != nil {
		return res, fmt.Errorf("find revoked certificates: %w", err)
	}
	for _, c := range revoked {
		st, err := e.ca.Status(ctx, c.Serial)
		if err != nil || st == ca.StatusRevoked {
			continue
		}
		if err := e.ca.Revoke(ctx, c.Serial, ocsp.CessationOfOperation); err != nil {
			e.log.Error("revoke certificate at CA", "serial", c.Serial, "err", err)
			continue
		}
		res.Revoked++
	}
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
