package notices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/vscard/vscard/ent/schema"
	"github.com/vscard/vscard/server/cardspec"
)

// JobName is the expiry check's row in job_leases.
const JobName = "expiry-check"

// ProcessRenew is the process a RENEW_CARD task offers (server/enroll registers it).
const ProcessRenew = "renew-virtual-smart-card"

// Defaults of Config's zero fields.
const (
	DefaultInterval    = time.Hour
	DefaultPoll        = time.Minute
	DefaultRate        = 5 // notices a second
	DefaultMaxAttempts = 8
	DefaultLease       = 10 * time.Minute
	DefaultBatch       = 200
	firstBackoff       = time.Minute
	maxBackoff         = 4 * time.Hour
)

// Config configures a Service.
type Config struct {
	// DB is the database (store.DB.SQL) and Dialect its dialect ("sqlite3", "postgres").
	DB      *sql.DB
	Dialect string
	// Renewal returns the option script's RENEWAL_WINDOW and NOTICE_DAYS.
	Renewal func(ctx context.Context) (cardspec.Renewal, error)
	// Mailer sends notices; nil: notices are only open tasks.
	Mailer Mailer
	// Templates render notices (nil: the embedded ones).
	Templates *Templates
	// PublicURL is the portal's address, for the link in a notice.
	PublicURL string
	// Interval is how often the check runs in the cluster (default 1h); Poll how often each
	// instance looks whether it is due and sends what is due (default 1m).
	Interval time.Duration
	Poll     time.Duration
	// Rate is how many notices a second one instance sends at most (default 5); Burst how
	// many at once (default 1).
	Rate  float64
	Burst int
	// MaxAttempts before a notice is FAILED (default 8); Lease how long a claimed notice is
	// left to its sender before another may retry it (default 10m).
	MaxAttempts int
	Lease       time.Duration
	// Holder names this instance in job_leases (default: host name and process id).
	Holder string
	// Now is the server's clock.
	Now func() time.Time
	Log *slog.Logger
}

// Service runs the expiry check and sends notices.
type Service struct {
	cfg     Config
	limiter *rate.Limiter
	log     *slog.Logger
}

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Renewal == nil {
		return nil, errors.New("notices: DB and Renewal are required")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Poll == 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst == 0 {
		cfg.Burst = 1
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Lease == 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Holder == "" {
		host, _ := os.Hostname()
		cfg.Holder = host + ":" + strconv.Itoa(os.Getpid())
	}
	if cfg.Templates == nil {
		t, err := LoadTemplates("")
		if err != nil {
			return nil, err
		}
		cfg.Templates = t
	}
	return &Service{cfg: cfg, limiter: rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst), log: cfg.Log}, nil
}

// Emails reports whether notices go out by e-mail.
func (s *Service) Emails() bool { return s.cfg.Mailer != nil }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// q rewrites ? placeholders into PostgreSQL's $n.
func (s *Service) q(query string) string {
	if s.cfg.Dialect != "postgres" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Run polls until ctx ends: each Poll it runs the check when the cluster's lease says it is
// due, then sends the notices that are due.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("expiry check", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// TickResult says what one Tick did.
type TickResult struct {
	// Ran: this instance held the lease and ran the check.
	Ran   bool
	Check CheckResult
	Sent  SendResult
}

// Tick runs the check if this instance wins the lease, then sends due notices.
func (s *Service) Tick(ctx context.Context) (TickResult, error) {
	var res TickResult
	won, err := s.Acquire(ctx)
	if err != nil {
		return res, err
	}
	if won {
		res.Ran = true
		if res.Check, err = s.Check(ctx); err != nil {
			return res, err
		}
	}
	if s.Emails() {
		res.Sent, err = s.SendDue(ctx)
	}
	return res, err
}

// Acquire takes the check's turn for this Interval: one conditional UPDATE that only one
// instance of the cluster wins while next_run_at <= now.
func (s *Service) Acquire(ctx context.Context) (bool, error) {
	now := s.now()
	if _, err := s.cfg.DB.ExecContext(ctx, s.q(
		`INSERT INTO job_leases (id, name, next_run_at, holder) VALUES (?, ?, ?, '') ON CONFLICT (name) DO NOTHING`),
		schema.NewID("job"), JobName, now); err != nil {
		return false, fmt.Errorf("create job lease: %w", err)
	}
	r, err := s.cfg.DB.ExecContext(ctx, s.q(
		`UPDATE job_leases SET next_run_at = ?, holder = ? WHERE name = ? AND next_run_at <= ?`),
		now.Add(s.cfg.Interval), s.cfg.Holder, JobName, now)
	if err != nil {
		return false, fmt.Errorf("take job lease: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("take job lease: %w", err)
	}
	return n == 1, nil
}

// CheckResult counts what one check did.
type CheckResult struct {
	Opened  int // tasks opened
	Closed  int // tasks closed (renewed, ended, expired)
	Noticed int // notices written, to be sent
}

// Check finds the cards due for renewal and brings tasks and notices up to date. It is
// idempotent: running it twice, or on two instances at once, opens each task and writes
// each notice once.
func (s *Service) Check(ctx context.Context) (CheckResult, error) {
	var res CheckResult
	ren, err := s.cfg.Renewal(ctx)
	if err != nil {
		return res, fmt.Errorf("read renewal options: %w", err)
	}
	now := s.now()
	// Due once DaysLeft <= WindowDays: with 60 days, a card 60 days and 23 hours from expiry
	// is due, as its 60-day notice is.
	until := now.Add(time.Duration(ren.WindowDays+1) * 24 * time.Hour)

	// The due cards without a task for their expiry: two index range scans of cards
	// (state, valid_until), each probing tasks (card_id, expires_at).
	rows, err := s.cfg.DB.QueryContext(ctx, s.q(`SELECT c.id FROM cards c
		WHERE c.state IN ('ACTIVE', 'LOCKED') AND c.valid_until > ? AND c.valid_until < ?
		AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.card_id = c.id AND t.expires_at = c.valid_until)`),
		now, until)
	if err != nil {
		return res, fmt.Errorf("find cards due for renewal: %w", err)
	}
	var due []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return res, fmt.Errorf("find cards due for renewal: %w", err)
		}
		due = append(due, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("find cards due for renewal: %w", err)
	}
	for _, id := range due {
		// The expiry is copied in SQL so that it equals the card's column exactly; the
		// unique (card_id, expires_at) turns a second instance's insert into nothing.
		r, err := s.cfg.DB.ExecContext(ctx, s.q(`INSERT INTO tasks
			(id, created_at, updated_at, kind, state, owner_id, card_id, card_serial, expires_at)
			SELECT ?, ?, ?, 'RENEW_CARD', 'OPEN', c.owner_id, c.id, c.serial, c.valid_until
			FROM cards c WHERE c.id = ?
			ON CONFLICT (card_id, expires_at) DO NOTHING`),
			schema.NewID("tsk"), now, now, id)
		if err != nil {
			return res, fmt.Errorf("open renewal task: %w", err)
		}
		n, _ := r.RowsAffected()
		res.Opened += int(n)
	}

	// Close what no longer needs doing, in one statement: the card has a new expiry
	// (RENEWED), is no longer in use (CARD_ENDED), or the expiry has passed (EXPIRED); the
	// first reason that holds is the one recorded. Only open tasks are read (index state).
	r, err := s.cfg.DB.ExecContext(ctx, s.q(`UPDATE tasks SET state = 'CLOSED', closed_at = ?, updated_at = ?,
		close_reason = CASE
			WHEN EXISTS (SELECT 1 FROM cards c WHERE c.id = tasks.card_id
				AND c.state IN ('ACTIVE', 'LOCKED') AND c.valid_until <> tasks.expires_at) THEN 'RENEWED'
			WHEN NOT EXISTS (SELECT 1 FROM cards c WHERE c.id = tasks.card_id
				AND c.state IN ('ACTIVE', 'LOCKED')) THEN 'CARD_ENDED'
			ELSE 'EXPIRED' END
		WHERE state = 'OPEN' AND (tasks.expires_at <= ? OR NOT EXISTS (SELECT 1 FROM cards c
			WHERE c.id = tasks.card_id AND c.state IN ('ACTIVE', 'LOCKED') AND c.valid_until = tasks.expires_at))`),
		now, now, now)
	if err != nil {
		return res, fmt.Errorf("close renewal tasks: %w", err)
	}
	n, _ := r.RowsAffected()
	res.Closed = int(n)

	if s.Emails() && len(ren.NoticeDays) > 0 {
		if res.Noticed, err = s.writeNotices(ctx, ren.NoticeDays, now); err != nil {
			return res, err
		}
	}
	s.log.Info("expiry check", "window_days", ren.WindowDays, "opened", res.Opened, "closed", res.Closed, "notices", res.Noticed)
	return res, nil
}

// DaysLeft is the whole days from now until expiresAt: 14 from 14 days and 3 hours before.
func DaysLeft(expiresAt, now time.Time) int {
	d := expiresAt.Sub(now)
	if d <= 0 {
		return 0
	}
	return int(d / (24 * time.Hour))
}

// NoticeFor returns the entry of noticeDays (largest first) that a card daysLeft from
// expiry is due for: the smallest that is at least daysLeft. ok is false before the first.
func NoticeFor(noticeDays []int, daysLeft int) (days int, ok bool) {
	for _, d := range noticeDays {
		if d >= daysLeft {
			days, ok = d, true
		}
	}
	return days, ok
}

// writeNotices writes the notice each open task is due for, once per task and days. Only
// tasks whose owner has an address get one.
func (s *Service) writeNotices(ctx context.Context, noticeDays []int, now time.Time) (int, error) {
	rows, err := s.cfg.DB.QueryContext(ctx, s.q(`SELECT t.id, t.expires_at, t.card_id, t.card_serial FROM tasks t
		JOIN users u ON u.id = t.owner_id
		WHERE t.state = 'OPEN' AND u.email <> ''`))
	if err != nil {
		return 0, fmt.Errorf("find open tasks: %w", err)
	}
	type due struct {
		task, cardID, serial string
		days                 int
	}
	var list []due
	for rows.Next() {
		var d due
		var exp time.Time
		if err := rows.Scan(&d.task, &exp, &d.cardID, &d.serial); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find open tasks: %w", err)
		}
		var ok bool
		if d.days, ok = NoticeFor(noticeDays, DaysLeft(exp, now)); ok {
			list = append(list, d)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find open tasks: %w", err)
	}
	written := 0
	for _, d := range list {
		id := schema.NewID("ntc")
		n, err := s.execAudited(ctx, noticeEvent{action: ActionQueued, notice: id, cardID: d.cardID, serial: d.serial, days: d.days},
			`INSERT INTO notices
			(id, created_at, updated_at, task_id, days, state, attempts, next_attempt_at, last_error)
			VALUES (?, ?, ?, ?, ?, 'PENDING', 0, ?, '') ON CONFLICT (task_id, days) DO NOTHING`,
			id, now, now, d.task, d.days, now)
		if err != nil {
			return written, fmt.Errorf("write notice: %w", err)
		}
		written += int(n)
	}
	return written, nil
}
