package notices

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vscard/vscard/ent/schema"
)

// Audit actions of expiry notices. The expiry check and the sender are the server acting
// on its own behalf ("system"); each event is about the card whose expiry it announces,
// so the audit log shows it under the card and its owner.
const (
	ActionQueued = "notice.queued" // the check wrote a notice for the day it is due
	ActionSent   = "notice.sent"   // the SMTP server took it
	ActionRetry  = "notice.retry"  // not sent (refused or not reached); tried again later
	ActionFailed = "notice.failed" // given up after MaxAttempts
)

// noticeEvent is what an audit event of a notice says; never the address or the message.
type noticeEvent struct {
	action, notice, cardID, serial string
	days, attempts                 int
}

// execAudited runs query and, when it changed a row, writes ev to the audit log in the
// same transaction: an event is there exactly when the change it describes is.
func (s *Service) execAudited(ctx context.Context, ev noticeEvent, query string, args ...any) (int64, error) {
	tx, err := s.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	r, err := tx.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, err
	}
	if n > 0 {
		if err := s.writeAudit(ctx, tx, ev, s.now()); err != nil {
			return 0, err
		}
	}
	return n, tx.Commit()
}

func (s *Service) writeAudit(ctx context.Context, tx *sql.Tx, ev noticeEvent, at time.Time) error {
	details := map[string]any{"serial": ev.serial, "notice": ev.notice, "days": ev.days}
	if ev.attempts > 0 {
		details["attempts"] = ev.attempts
	}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("encode audit details: %w", err)
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO audit_events
		(id, at, actor, actor_id, actor_kind, action, object_type, object_id, remote_addr, details)
		VALUES (?, ?, 'system', '', 'system', ?, 'Card', ?, '', ?)`),
		schema.NewID("aud"), at, ev.action, ev.cardID, string(b))
	if err != nil {
		return fmt.Errorf("write audit event %s: %w", ev.action, err)
	}
	return nil
}
