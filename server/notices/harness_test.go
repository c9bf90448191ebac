package notices_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/notices"
	"github.com/vscard/vscard/server/notices/smtptest"
	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/testclock"
	"github.com/vscard/vscard/server/viewer"
)

// env is one database with users and cards, a clock the test moves, and the option script
// the renewal settings come from.
type env struct {
	t      *testing.T
	dsn    string
	db     *store.DB
	sys    context.Context
	clock  *testclock.Clock
	script atomic.Value // string
	owner  *ent.User
	serial int
}

// eachBackend runs f on SQLite, and on PostgreSQL when VSCARD_TEST_POSTGRES is set.
func eachBackend(t *testing.T, f func(t *testing.T, e *env)) {
	for name, dsn := range storetest.Backends() {
		t.Run(name, func(t *testing.T) { f(t, newEnv(t, dsn(t))) })
	}
}

func newEnv(t *testing.T, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	db := openDB(t, dsn)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dsn: dsn, db: db, sys: viewer.AsServer(ctx), clock: testclock.New()}
	e.script.Store(options.DefaultScript)
	e.owner = db.Client.User.Create().SetOidcIssuer("https://idp.test").SetOidcSubject("alice").
		SetUsername("alice").SetDisplayName("Alice Example").SetEmail("alice@example.com").SetState("ACTIVE").SaveX(e.sys)
	return e
}

func openDB(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// setScript replaces old with new in the option script, for the next check.
func (e *env) setScript(old, new string) {
	e.t.Helper()
	src := e.script.Load().(string)
	if strings.Count(src, old) != 1 {
		e.t.Fatalf("the script does not hold %q once", old)
	}
	e.script.Store(strings.Replace(src, old, new, 1))
}

// renewal reads RENEWAL_WINDOW and NOTICE_DAYS from the script as the server does.
func (e *env) renewal(ctx context.Context) (cardspec.Renewal, error) {
	o, err := options.Evaluate(ctx, e.script.Load().(string), options.Sample(), options.Env{ServerName: "vscard.test"})
	if err != nil {
		return cardspec.Renewal{}, err
	}
	return o.Renewal, nil
}

// service is one instance; mail nil sends nothing.
func (e *env) service(name string, mail *smtptest.Server, db *store.DB, change ...func(*notices.Config)) *notices.Service {
	e.t.Helper()
	if db == nil {
		db = e.db
	}
	cfg := notices.Config{
		DB: db.SQL, Dialect: db.Dialect, Renewal: e.renewal, PublicURL: "https://vscard.test",
		Rate: 1000, Holder: name, Now: e.clock.Now,
	}
	if mail != nil {
		m, err := notices.NewMailer(notices.SMTP{
			Host: mail.Host, Port: mail.Port, Username: smtptest.Username, Password: smtptest.Password,
			From: "vscard <vscard@example.com>", CAFile: mail.CAFile, Timeout: 10 * time.Second,
		})
		if err != nil {
			e.t.Fatal(err)
		}
		cfg.Mailer = m
	}
	for _, c := range change {
		c(&cfg)
	}
	s, err := notices.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// card makes an ACTIVE card of the owner that expires in d.
func (e *env) card(d time.Duration) *ent.Card {
	e.t.Helper()
	e.serial++
	now := e.clock.Now().UTC()
	return e.db.Client.Card.Create().SetSerial(fmt.Sprintf("%08d", 10000000+e.serial)).SetOwnerID(e.owner.ID).
		SetState(card.StateACTIVE).SetValidFrom(now).SetValidUntil(now.Add(d)).
		SetProperties(cardspec.Properties{CommonName: "Alice Example"}).
		SetManagementKey([]byte{1}).SetPuk([]byte{2}).SaveX(e.sys)
}

func (e *env) tick(s *notices.Service) notices.TickResult {
	e.t.Helper()
	res, err := s.Tick(context.Background())
	if err != nil {
		e.t.Fatalf("tick: %v", err)
	}
	return res
}

// openTasks are the serials of the owner's open tasks.
func (e *env) openTasks() []string {
	e.t.Helper()
	rows, err := e.db.SQL.Query(`SELECT card_serial FROM tasks WHERE state = 'OPEN' ORDER BY card_serial`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func (e *env) closeReason(serial string) string {
	e.t.Helper()
	var r *string
	q := `SELECT close_reason FROM tasks WHERE card_serial = ? ORDER BY created_at DESC LIMIT 1`
	if e.db.Dialect == "postgres" {
		q = strings.Replace(q, "?", "$1", 1)
	}
	if err := e.db.SQL.QueryRow(q, serial).Scan(&r); err != nil {
		e.t.Fatal(err)
	}
	if r == nil {
		return ""
	}
	return *r
}

const day = 24 * time.Hour

// audited lists the actions of the audit events about card c, oldest first, each with
// the notice day it names ("notice.sent/30").
func (e *env) audited(c *ent.Card) []string {
	e.t.Helper()
	evs := e.db.Client.AuditEvent.Query().Where(auditevent.ObjectID(c.ID)).
		Order(auditevent.ByAt(), auditevent.ByID()).AllX(e.sys)
	var out []string
	for _, ev := range evs {
		if ev.Actor != "system" || ev.ObjectType != "Card" || ev.Details["serial"] != c.Serial {
			e.t.Errorf("audit event %s: actor %s, object %s, details %v", ev.Action, ev.Actor, ev.ObjectType, ev.Details)
		}
		out = append(out, fmt.Sprintf("%s/%v", ev.Action, ev.Details["days"]))
	}
	return out
}
