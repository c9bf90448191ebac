package notices

import (
	"context"
	"fmt"
	"time"
)

// SendResult counts what one SendDue did.
type SendResult struct {
	Sent    int
	Retry   int // refused or not reached: tried again after a backoff
	Failed  int // given up after MaxAttempts
	Dropped int // the task closed before its notice went out
}

// Backoff is how long a notice waits after its attempts-th failed attempt: a minute,
// doubling, at most four hours.
func Backoff(attempts int) time.Duration {
	d := firstBackoff
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// SendDue sends the notices that are due, at most Rate a second, over one SMTP connection,
// until none is due or ctx ends. It holds no transaction while it talks to the SMTP server.
func (s *Service) SendDue(ctx context.Context) (SendResult, error) {
	var res SendResult
	if s.cfg.Mailer == nil {
		return res, nil
	}
	var conn Conn
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	for {
		ids, err := s.dueNotices(ctx)
		if err != nil || len(ids) == 0 {
			return res, err
		}
		claimed := 0
		for _, id := range ids {
			if err := s.limiter.Wait(ctx); err != nil {
				return res, fmt.Errorf("wait to send: %w", err)
			}
			n, ok, err := s.claim(ctx, id)
			if err != nil {
				return res, err
			}
			if !ok {
				continue // another instance has it
			}
			claimed++
			if n.taskState != "OPEN" {
				if err := s.finish(ctx, id, n, "DROPPED", ""); err != nil {
					return res, err
				}
				res.Dropped++
				continue
			}
			if conn == nil {
				if conn, err = s.cfg.Mailer.Open(ctx); err != nil {
					conn = nil
					s.log.Warn("notice not sent: SMTP server not reached", "err", err)
					if ferr := s.fail(ctx, id, n, err, &res); ferr != nil {
						return res, ferr
					}
					return res, fmt.Errorf("send notices: %w", err) // the rest stay due; the next poll tries again
				}
			}
			msg, err := s.message(id, n)
			if err == nil {
				err = conn.Send(msg)
			}
			if err != nil {
				s.log.Warn("notice not sent", "notice", id, "attempt", n.attempts, "err", err)
				_ = conn.Close()
				conn = nil // the connection may be unusable after a refusal
				if ferr := s.fail(ctx, id, n, err, &res); ferr != nil {
					return res, ferr
				}
				continue
			}
			if err := s.finish(ctx, id, n, "SENT", ""); err != nil {
				return res, err
			}
			res.Sent++
		}
		if claimed == 0 {
			return res, nil // all taken by others
		}
	}
}

// dueNotices lists a batch of PENDING notices whose time has come (index state,
// next_attempt_at).
func (s *Service) dueNotices(ctx context.Context) ([]string, error) {
	rows, err := s.cfg.DB.QueryContext(ctx, s.q(`SELECT id FROM notices
		WHERE state = 'PENDING' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`), s.now(), DefaultBatch)
	if err != nil {
		return nil, fmt.Errorf("find due notices: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find due notices: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

type claimed struct {
	attempts  int
	days      int
	taskState string
	cardID    string
	serial    string
	expiresAt time.Time
	email     string
	name      string
}

// claim records the attempt before it is made: attempts+1 and next_attempt_at a lease
// ahead, on condition that the notice is still due. The instance whose UPDATE changed the
// row sends it; a crash after that leaves it to be retried when the lease ends.
func (s *Service) claim(ctx context.Context, id string) (claimed, bool, error) {
	var c claimed
	now := s.now()
	r, err := s.cfg.DB.ExecContext(ctx, s.q(`UPDATE notices SET attempts = attempts + 1, next_attempt_at = ?, updated_at = ?
		WHERE id = ? AND state = 'PENDING' AND next_attempt_at <= ?`), now.Add(s.cfg.Lease), now, id, now)
	if err != nil {
		return c, false, fmt.Errorf("claim notice: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		return c, false, err
	}
	var display, username string
	err = s.cfg.DB.QueryRowContext(ctx, s.q(`SELECT n.attempts, n.days, t.state, t.card_id, t.card_serial, t.expires_at, u.email, u.display_name, u.username
		FROM notices n JOIN tasks t ON t.id = n.task_id JOIN users u ON u.id = t.owner_id WHERE n.id = ?`), id).
		Scan(&c.attempts, &c.days, &c.taskState, &c.cardID, &c.serial, &c.expiresAt, &c.email, &display, &username)
	if err != nil {
		return c, false, fmt.Errorf("read notice: %w", err)
	}
	c.name = display
	if c.name == "" {
		c.name = username
	}
	return c, true, nil
}

func (s *Service) message(id string, n claimed) (Message, error) {
	now := s.now()
	subject, body, err := s.cfg.Templates.Render(TemplateData{
		Name: n.name, Email: n.email, Serial: n.serial, ExpiresAt: n.expiresAt,
		DaysLeft: DaysLeft(n.expiresAt, now), NoticeDays: n.days, RenewURL: s.cfg.PublicURL + "/",
	})
	if err != nil {
		return Message{}, err
	}
	return Message{ID: id, To: n.email, Subject: subject, Body: body, Date: now}, nil
}

// finish ends notice id (claimed as n) in state, with its audit event: SENT and FAILED
// are the audit log's; a DROPPED notice (its task closed) never concerned anyone.
func (s *Service) finish(ctx context.Context, id string, n claimed, state, lastError string) error {
	now := s.now()
	var sentAt any
	if state == "SENT" {
		sentAt = now
	}
	const update = `UPDATE notices SET state = ?, sent_at = ?, last_error = ?, updated_at = ? WHERE id = ?`
	var err error
	switch state {
	case "SENT", "FAILED":
		action := ActionSent
		if state == "FAILED" {
			action = ActionFailed
		}
		_, err = s.execAudited(ctx, n.event(action, id), update, state, sentAt, lastError, now, id)
	default:
		_, err = s.cfg.DB.ExecContext(ctx, s.q(update), state, sentAt, lastError, now, id)
	}
	if err != nil {
		return fmt.Errorf("record notice: %w", err)
	}
	return nil
}

func (n claimed) event(action, id string) noticeEvent {
	return noticeEvent{action: action, notice: id, cardID: n.cardID, serial: n.serial, days: n.days, attempts: n.attempts}
}

// fail puts the notice back after a backoff, or gives up on it after MaxAttempts.
func (s *Service) fail(ctx context.Context, id string, n claimed, cause error, res *SendResult) error {
	attempts := n.attempts
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if attempts >= s.cfg.MaxAttempts {
		res.Failed++
		s.log.Error("notice given up", "notice", id, "attempts", attempts, "err", cause)
		return s.finish(ctx, id, n, "FAILED", msg)
	}
	res.Retry++
	now := s.now()
	_, err := s.execAudited(ctx, n.event(ActionRetry, id),
		`UPDATE notices SET next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?`,
		now.Add(Backoff(attempts)), msg, now, id)
	if err != nil {
		return fmt.Errorf("record notice failure: %w", err)
	}
	return nil
}
