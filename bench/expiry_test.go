package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/schema"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/notices"
	"github.com/vscard/vscard/server/notices/smtptest"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/viewer"
)

// expiryCards is how many cards the expiry check runs over, expiryDue how many of them
// are due for renewal.
const (
	expiryCards = 1_000_000
	expiryDue   = 20
)

var (
	seededMu sync.Mutex
	seeded   = map[string]*store.DB{}
)

// seededDB is a database with expiryCards cards of which expiryDue expire within the
// renewal window, made once per backend and process (Go calls a benchmark several times).
func seededDB(b *testing.B, backend string) *store.DB {
	b.Helper()
	seededMu.Lock()
	defer seededMu.Unlock()
	if db := seeded[backend]; db != nil {
		return db
	}
	dsn := ""
	if backend == "postgres" {
		dsn = storetest.PostgresDatabase(b) // dropped when this (sub-)benchmark ends: not reused
	} else {
		dsn = b.TempDir() + "/expiry.db"
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, 4)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	sys := viewer.AsServer(ctx)
	owner := db.Client.User.Create().SetOidcIssuer("https://idp.bench").SetOidcSubject("owner").
		SetUsername("owner").SetEmail("owner@vscard.test").SetState("ACTIVE").SaveX(sys)
	start := time.Now()
	// The many cards not due, generated in SQL: one to two years from expiry, in every state.
	var q string
	if db.Dialect == "postgres" {
		q = fmt.Sprintf(`INSERT INTO cards (id, created_at, updated_at, serial, kind, state, valid_from, valid_until, properties, management_key, puk, owner_id)
			SELECT 'crd_b' || i, now(), now(), 'b' || i, 'VIRTUAL',
				(ARRAY['ACTIVE','ACTIVE','ACTIVE','LOCKED','INACTIVE'])[1 + i %% 5],
				now(), now() + (interval '1 second' * (31536000 + i * 31)), '{}', '\x01', '\x02', '%s'
			FROM generate_series(1, %d) AS i`, owner.ID, expiryCards-expiryDue)
	} else {
		q = fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
			INSERT INTO cards (id, created_at, updated_at, serial, kind, state, valid_from, valid_until, properties, management_key, puk, owner_id)
			SELECT 'crd_b' || i, datetime('now'), datetime('now'), 'b' || i, 'VIRTUAL',
				CASE i %% 5 WHEN 3 THEN 'LOCKED' WHEN 4 THEN 'INACTIVE' ELSE 'ACTIVE' END,
				datetime('now'), strftime('%%Y-%%m-%%d %%H:%%M:%%f+00:00', 'now', '+' || (31536000 + i * 31) || ' seconds'),
				'{}', x'01', x'02', '%s'
			FROM s`, expiryCards-expiryDue, owner.ID)
	}
	if _, err := db.SQL.ExecContext(ctx, q); err != nil {
		b.Fatalf("seed cards: %v", err)
	}
	// The few due, through ent as the server writes them.
	now := time.Now().UTC()
	builders := make([]*ent.CardCreate, expiryDue)
	for i := range builders {
		builders[i] = db.Client.Card.Create().SetSerial(fmt.Sprintf("d%07d", i)).SetOwnerID(owner.ID).
			SetState(card.StateACTIVE).SetValidFrom(now).SetValidUntil(now.Add(time.Duration(5+i) * 24 * time.Hour)).
			SetProperties(cardspec.Properties{}).SetManagementKey([]byte{1}).SetPuk([]byte{2})
	}
	db.Client.Card.CreateBulk(builders...).ExecX(sys)
	if db.Dialect == "postgres" {
		_, _ = db.SQL.ExecContext(ctx, `ANALYZE cards`)
	} else {
		_, _ = db.SQL.ExecContext(ctx, `ANALYZE`)
	}
	b.Logf("%s: seeded %d cards in %s", backend, expiryCards, time.Since(start).Round(time.Second))
	seeded[backend] = db
	b.Cleanup(func() {
		seededMu.Lock()
		defer seededMu.Unlock()
		delete(seeded, backend)
		db.Close()
	})
	return db
}

// BenchmarkExpiryCheck is one run of the expiry check (find due cards, open their tasks,
// close stale ones) over 1,000,000 cards with 20 due, without e-mail. The option script's
// evaluation is left out (a constant window): it costs the server CPU, not the database.
func BenchmarkExpiryCheck(b *testing.B) {
	for _, backend := range backends() {
		b.Run(backend, func(b *testing.B) {
			db := seededDB(b, backend)
			svc, err := notices.New(notices.Config{
				DB: db.SQL, Dialect: db.Dialect,
				Renewal: func(context.Context) (cardspec.Renewal, error) { return cardspec.DefaultRenewal(), nil },
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			first, err := svc.Check(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if first.Opened > expiryDue {
				b.Fatalf("opened %d tasks, want at most %d", first.Opened, expiryDue)
			}
			var rows int
			_ = db.SQL.QueryRow(`SELECT COUNT(*) FROM tasks WHERE state = 'OPEN'`).Scan(&rows)
			if rows != expiryDue {
				b.Fatalf("%d open tasks, want %d", rows, expiryDue)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := svc.Check(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if db.Dialect == "postgres" {
				explainCheck(b, db)
			}
		})
	}
}

// explainCheck logs the database's own execution time of the check's statements (EXPLAIN
// ANALYZE, inside a transaction rolled back), apart from round trips and a loaded client:
// the statements as server/notices runs them, with a run's parameters.
func explainCheck(b *testing.B, db *store.DB) {
	ctx := context.Background()
	now := time.Now().UTC()
	until := now.Add(61 * 24 * time.Hour)
	for _, st := range []struct {
		name, sql string
		args      []any
	}{
		{"due cards", `SELECT c.id FROM cards c
			WHERE c.state IN ('ACTIVE', 'LOCKED') AND c.valid_until > $1 AND c.valid_until < $2
			AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.card_id = c.id AND t.expires_at = c.valid_until)`, []any{now, until}},
		{"close stale tasks", `UPDATE tasks SET state = 'CLOSED', closed_at = $1, updated_at = $1,
			close_reason = CASE
				WHEN EXISTS (SELECT 1 FROM cards c WHERE c.id = tasks.card_id
					AND c.state IN ('ACTIVE', 'LOCKED') AND c.valid_until <> tasks.expires_at) THEN 'RENEWED'
				WHEN NOT EXISTS (SELECT 1 FROM cards c WHERE c.id = tasks.card_id
					AND c.state IN ('ACTIVE', 'LOCKED')) THEN 'CARD_ENDED'
				ELSE 'EXPIRED' END
			WHERE state = 'OPEN' AND (tasks.expires_at <= $1 OR NOT EXISTS (SELECT 1 FROM cards c
				WHERE c.id = tasks.card_id AND c.state IN ('ACTIVE', 'LOCKED') AND c.valid_until = tasks.expires_at))`, []any{now}},
		// The same without the index cards(state, valid_until), to show what it saves.
		{"due cards without the index", `SELECT c.id FROM cards c
			WHERE c.state IN ('ACTIVE', 'LOCKED') AND c.valid_until > $1 AND c.valid_until < $2
			AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.card_id = c.id AND t.expires_at = c.valid_until)`, []any{now, until}},
	} {
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if strings.HasSuffix(st.name, "without the index") {
			if _, err := tx.ExecContext(ctx, `DROP INDEX card_state_valid_until`); err != nil {
				_ = tx.Rollback()
				b.Fatalf("drop index: %v", err)
			}
		}
		rows, err := tx.QueryContext(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+st.sql, st.args...)
		if err != nil {
			_ = tx.Rollback()
			b.Fatalf("explain %s: %v", st.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
		_ = tx.Rollback()
		// The plan's first line (the top node with its actual time) and its last (the
		// execution time); the whole plan is too long for a benchmark's log.
		b.Logf("%s: %s | %s", st.name, strings.TrimSpace(plan[0]), strings.TrimSpace(plan[len(plan)-1]))
	}
}

// BenchmarkNotices sends 10,000 notices (one per due card) to a real SMTP server on
// loopback (STARTTLS, AUTH PLAIN) over one connection, at NOTICE_RATE notices a second
// (env VSCARD_BENCH_NOTICE_RATE; default unlimited, to measure what the sender can do).
// Each op is the whole batch.
func BenchmarkNotices(b *testing.B) {
	const n = 10_000
	for _, backend := range backends() {
		b.Run(backend, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dsn := ""
				if backend == "postgres" {
					dsn = storetest.PostgresDatabase(b)
				} else {
					dsn = b.TempDir() + "/notices.db"
				}
				ctx := context.Background()
				db, err := store.Open(ctx, dsn, 4)
				if err != nil {
					b.Fatal(err)
				}
				if err := db.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
				sys := viewer.AsServer(ctx)
				owner := db.Client.User.Create().SetOidcIssuer("https://idp.bench").SetOidcSubject("owner").
					SetUsername("owner").SetEmail("owner@vscard.test").SetState("ACTIVE").SaveX(sys)
				now := time.Now().UTC()
				for i := 0; i < n; i += 500 {
					builders := make([]*ent.CardCreate, 500)
					for j := range builders {
						builders[j] = db.Client.Card.Create().SetID(schema.NewID("crd")).SetSerial(fmt.Sprintf("n%07d", i+j)).SetOwnerID(owner.ID).
							SetState(card.StateACTIVE).SetValidFrom(now).SetValidUntil(now.Add(10*24*time.Hour + time.Duration(i+j)*time.Second)).
							SetProperties(cardspec.Properties{}).SetManagementKey([]byte{1}).SetPuk([]byte{2})
					}
					db.Client.Card.CreateBulk(builders...).ExecX(sys)
				}
				mail := smtptest.Start(b)
				m, err := notices.NewMailer(notices.SMTP{Host: mail.Host, Port: mail.Port, Username: smtptest.Username,
					Password: smtptest.Password, From: "vscard@vscard.test", CAFile: mail.CAFile})
				if err != nil {
					b.Fatal(err)
				}
				rate := 1e9
				if v := getenvFloat("VSCARD_BENCH_NOTICE_RATE"); v > 0 {
					rate = v
				}
				svc, err := notices.New(notices.Config{
					DB: db.SQL, Dialect: db.Dialect, Mailer: m, Rate: rate, Burst: 1,
					Renewal: func(context.Context) (cardspec.Renewal, error) { return cardspec.DefaultRenewal(), nil },
				})
				if err != nil {
					b.Fatal(err)
				}
				check, err := svc.Check(ctx)
				if err != nil || check.Noticed != n {
					b.Fatalf("check wrote %d notices (%v), want %d", check.Noticed, err, n)
				}
				b.StartTimer()
				start := time.Now()
				res, err := svc.SendDue(ctx)
				elapsed := time.Since(start)
				b.StopTimer()
				if err != nil || res.Sent != n || mail.Count() != n {
					b.Fatalf("sent %d, server got %d (%v), want %d", res.Sent, mail.Count(), err, n)
				}
				b.ReportMetric(float64(n)/elapsed.Seconds(), "notices/s")
				db.Close()
				b.StartTimer()
			}
		})
	}
}

func getenvFloat(name string) float64 {
	var v float64
	_, _ = fmt.Sscan(os.Getenv(name), &v)
	return v
}
