package notices_test

import (
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/server/notices"
	"github.com/vscard/vscard/server/notices/smtptest"
)

func TestCheckRunsOnOneInstanceOfTwo(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		a, b := e.service("a", nil, nil), e.service("b", nil, openDB(t, e.dsn))
		for round := range 3 {
			ra, rb := e.tick(a), e.tick(b)
			if ra.Ran == rb.Ran {
				t.Fatalf("round %d: a ran %v, b ran %v; want exactly one", round, ra.Ran, rb.Ran)
			}
			// Within the interval neither runs again.
			if e.tick(a).Ran || e.tick(b).Ran {
				t.Fatalf("round %d: the check ran twice in one interval", round)
			}
			e.clock.Advance(notices.DefaultInterval)
		}
	})
}

func TestCheckOpensTasksWithinTheScriptsWindow(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		soon := e.card(10 * day)
		mid := e.card(45 * day)
		e.card(70 * day) // outside the default 60 days
		locked := e.card(20 * day)
		e.db.Client.Card.UpdateOne(locked).SetState(card.StateLOCKED).ExecX(e.sys)
		ended := e.card(5 * day)
		e.db.Client.Card.UpdateOne(ended).SetState(card.StateINACTIVE).ExecX(e.sys)
		e.card(-day) // expired already

		s := e.service("a", nil, nil)
		res := e.tick(s)
		if res.Check.Opened != 3 {
			t.Errorf("opened %d tasks, want 3", res.Check.Opened)
		}
		want := []string{soon.Serial, locked.Serial, mid.Serial}
		slices.Sort(want)
		if got := e.openTasks(); !slices.Equal(got, want) {
			t.Fatalf("open tasks %v, want %v", got, want)
		}

		// Idempotent: the next run opens nothing, even after a narrower window closes nothing.
		e.clock.Advance(notices.DefaultInterval)
		if res := e.tick(s); res.Check.Opened != 0 || res.Check.Closed != 0 {
			t.Fatalf("second run: %+v, want nothing", res.Check)
		}

		// The window is the script's: at 30 days a new card due in 25 days gets one, one in
		// 40 days does not.
		e.setScript("RENEWAL_WINDOW = 60", "RENEWAL_WINDOW = 30")
		e.setScript("NOTICE_DAYS = [60, 30, 14, 7]", "NOTICE_DAYS = [30, 7]")
		in := e.card(25 * day)
		out := e.card(40 * day)
		e.clock.Advance(notices.DefaultInterval)
		e.tick(s)
		got := e.openTasks()
		if !slices.Contains(got, in.Serial) || slices.Contains(got, out.Serial) {
			t.Fatalf("with a 30-day window: open tasks %v, want %s and not %s", got, in.Serial, out.Serial)
		}
	})
}

func TestTasksCloseWhenTheCardIsRenewedEndsOrExpires(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		renewed, revoked, forgotten := e.card(30*day), e.card(30*day), e.card(3*day)
		s := e.service("a", nil, nil)
		e.tick(s)
		if n := len(e.openTasks()); n != 3 {
			t.Fatalf("%d open tasks, want 3", n)
		}
		// Renewed: the card's validity moves on two years; revoked: it is INACTIVE.
		e.db.Client.Card.UpdateOne(renewed).SetValidUntil(renewed.ValidUntil.AddDate(2, 0, 0)).ExecX(e.sys)
		e.db.Client.Card.UpdateOne(revoked).SetState(card.StateINACTIVE).ExecX(e.sys)
		e.clock.Advance(4 * day) // and the third expires unrenewed
		res := e.tick(s)
		if res.Check.Closed != 3 || res.Check.Opened != 0 {
			t.Fatalf("check %+v, want 3 closed and none opened", res.Check)
		}
		for serial, want := range map[string]string{renewed.Serial: "RENEWED", revoked.Serial: "CARD_ENDED", forgotten.Serial: "EXPIRED"} {
			if got := e.closeReason(serial); got != want {
				t.Errorf("card %s: task closed as %q, want %q", serial, got, want)
			}
		}
		if got := e.openTasks(); len(got) != 0 {
			t.Fatalf("open tasks %v, want none", got)
		}
		// Two years on, the renewed card is due again: a new task for its new expiry.
		e.clock.Advance(2*365*day - 30*day)
		e.tick(s)
		if got := e.openTasks(); !slices.Equal(got, []string{renewed.Serial}) {
			t.Fatalf("open tasks %v, want the renewed card's new one", got)
		}
	})
}

func TestNoticesGoOutOnceAtEachDay(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		mail := smtptest.Start(t)
		a, b := e.service("a", mail, nil), e.service("b", mail, openDB(t, e.dsn))
		c := e.card(61*day + time.Hour)
		var subjects []string
		// Walk the clock day by day to expiry; both instances tick every time.
		for range 62 {
			e.tick(a)
			e.tick(b)
			e.clock.Advance(day)
		}
		for _, m := range mail.Mails() {
			if !m.TLS || !m.Authenticated {
				t.Errorf("a notice went out without STARTTLS (%v) or AUTH (%v)", m.TLS, m.Authenticated)
			}
			if !slices.Equal(m.To, []string{"alice@example.com"}) {
				t.Errorf("notice to %v", m.To)
			}
			subjects = append(subjects, header(string(m.Data), "Subject"))
		}
		want := []string{
			"Your virtual smart card " + c.Serial + " expires in 60 days",
			"Your virtual smart card " + c.Serial + " expires in 30 days",
			"Your virtual smart card " + c.Serial + " expires in 14 days",
			"Your virtual smart card " + c.Serial + " expires in 7 days",
		}
		if !slices.Equal(subjects, want) {
			t.Fatalf("notices:\n%s\nwant:\n%s", strings.Join(subjects, "\n"), strings.Join(want, "\n"))
		}
		// Each notice is in the audit log once as written and once as sent, by the
		// system, under the card, although two instances ran.
		var audit []string
		for _, d := range []int{60, 30, 14, 7} {
			audit = append(audit, fmt.Sprintf("notice.queued/%d", d), fmt.Sprintf("notice.sent/%d", d))
		}
		if got := e.audited(c); !slices.Equal(got, audit) {
			t.Errorf("audit log %v, want %v", got, audit)
		}
	})
}

func TestNoticeMissedWhileDownGoesOutLateOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		mail := smtptest.Start(t)
		s := e.service("a", mail, nil)
		e.card(20*day + time.Hour) // first seen at 20 days: the 30-day notice, late, once
		e.tick(s)
		e.clock.Advance(day)
		e.tick(s)
		if n := mail.Count(); n != 1 {
			t.Fatalf("%d notices, want 1", n)
		}
		if got := header(string(mail.Mails()[0].Data), "Subject"); !strings.HasSuffix(got, "expires in 20 days") {
			t.Fatalf("subject %q", got)
		}
	})
}

func TestWithoutSMTPTheTaskIsAll(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.card(10 * day)
		res := e.tick(e.service("a", nil, nil))
		if res.Check.Opened != 1 || res.Check.Noticed != 0 {
			t.Fatalf("check %+v, want a task and no notice", res.Check)
		}
		var n int
		if err := e.db.SQL.QueryRow(`SELECT COUNT(*) FROM notices`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d notices written (%v), want none", n, err)
		}
	})
}

// crashConn sends through the real SMTP server, then closes the instance's database, as
// a crash between the SMTP server's acceptance and the record of it would leave things.
type crashMailer struct {
	notices.Mailer
	db interface{ Close() error }
}

func (m crashMailer) Open(ctx context.Context) (notices.Conn, error) {
	c, err := m.Mailer.Open(ctx)
	return crashConn{c, m.db}, err
}

type crashConn struct {
	notices.Conn
	db interface{ Close() error }
}

func (c crashConn) Send(msg notices.Message) error {
	err := c.Conn.Send(msg)
	_ = c.db.Close()
	return err
}

func TestCrashAfterSendingDuplicatesAtMostOne(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		mail := smtptest.Start(t)
		e.card(10*day + time.Hour)
		e.card(12*day + time.Hour)
		// a writes the two notices and crashes after the first went out.
		dying := openDB(t, e.dsn)
		a := e.service("a", mail, dying, func(c *notices.Config) {
			c.Mailer = crashMailer{c.Mailer, dying.SQL}
		})
		if _, err := a.Tick(context.Background()); err == nil {
			t.Fatal("the crashed instance reported no error")
		}
		if n := mail.Count(); n != 1 {
			t.Fatalf("%d notices before the crash was noticed, want 1", n)
		}
		// b sends the second at once; the first is a's until its lease ends.
		b := e.service("b", mail, nil)
		if res := e.tick(b); res.Sent.Sent != 1 {
			t.Fatalf("b sent %d, want the one a had not claimed", res.Sent.Sent)
		}
		e.clock.Advance(notices.DefaultLease)
		if res := e.tick(b); res.Sent.Sent != 1 {
			t.Fatalf("after the lease b sent %d, want a's one again", res.Sent.Sent)
		}
		e.clock.Advance(notices.DefaultLease)
		e.tick(b)
		mails := mail.Mails()
		if len(mails) != 3 {
			t.Fatalf("%d mails, want 3: two notices, one of them twice", len(mails))
		}
		// The duplicate carries the same Message-ID.
		if id0, id2 := header(string(mails[0].Data), "Message-Id"), header(string(mails[2].Data), "Message-Id"); id0 == "" || id0 != id2 {
			t.Fatalf("Message-IDs %q and %q: want the resent notice's to be the same", id0, id2)
		}
	})
}

func TestRefusedNoticeIsRetriedWithBackoff(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		mail := smtptest.Start(t)
		s := e.service("a", mail, nil)
		first := e.card(10*day + time.Hour)
		mail.Refuse(1)
		if res := e.tick(s); res.Sent.Retry != 1 || res.Sent.Sent != 0 {
			t.Fatalf("first try: %+v, want one to retry", res.Sent)
		}
		if res := e.tick(s); res.Sent.Sent != 0 {
			t.Fatal("retried before its backoff")
		}
		e.clock.Advance(notices.Backoff(1))
		if res := e.tick(s); res.Sent.Sent != 1 {
			t.Fatalf("after the backoff: %+v, want it sent", res.Sent)
		}
		if got, want := e.audited(first), []string{"notice.queued/14", "notice.retry/14", "notice.sent/14"}; !slices.Equal(got, want) {
			t.Errorf("audit log %v, want %v", got, want)
		}

		// A server that refuses connections: retried after a backoff too, nothing lost.
		e.card(11*day + time.Hour)
		mail.SetDown(true)
		e.clock.Advance(notices.DefaultInterval)
		if _, err := s.Tick(context.Background()); err == nil {
			t.Fatal("a refused connection reported no error")
		}
		mail.SetDown(false)
		e.clock.Advance(notices.Backoff(1))
		e.tick(s)
		if n := mail.Count(); n != 2 {
			t.Fatalf("%d notices, want 2", n)
		}
	})
}

func TestNoticeGivenUpAfterMaxAttempts(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		mail := smtptest.Start(t)
		s := e.service("a", mail, nil, func(c *notices.Config) { c.MaxAttempts = 2 })
		c := e.card(10*day + time.Hour)
		mail.Refuse(5)
		e.tick(s)
		e.clock.Advance(notices.Backoff(1))
		if res := e.tick(s); res.Sent.Failed != 1 {
			t.Fatalf("%+v, want it given up", res.Sent)
		}
		e.clock.Advance(notices.Backoff(8))
		e.tick(s)
		if n := mail.Count(); n != 0 {
			t.Fatalf("%d sent after giving up", n)
		}
		if got, want := e.audited(c), []string{"notice.queued/14", "notice.retry/14", "notice.failed/14"}; !slices.Equal(got, want) {
			t.Errorf("audit log %v, want %v", got, want)
		}
	})
}

func TestWrongSMTPPasswordIsRefused(t *testing.T) {
	mail := smtptest.Start(t)
	m, err := notices.NewMailer(notices.SMTP{Host: mail.Host, Port: mail.Port, Username: smtptest.Username,
		Password: "wrong", From: "vscard@example.com", CAFile: mail.CAFile, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := m.Open(context.Background()); err == nil {
		c.Close()
		t.Fatal("authenticated with a wrong password")
	}
	// Without the server's CA the certificate is not trusted: no plain-text fallback.
	m, _ = notices.NewMailer(notices.SMTP{Host: mail.Host, Port: mail.Port, Username: smtptest.Username,
		Password: smtptest.Password, From: "vscard@example.com", Timeout: 5 * time.Second})
	if c, err := m.Open(context.Background()); err == nil {
		c.Close()
		t.Fatal("connected to an SMTP server whose certificate is not trusted")
	}
}

func TestTemplatesCanBeReplaced(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, notices.SubjectTemplate), []byte("Renew card {{.Serial}} ({{.DaysLeft}} days left)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmpl, err := notices.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	eachBackend(t, func(t *testing.T, e *env) {
		mail := smtptest.Start(t)
		s := e.service("a", mail, nil, func(c *notices.Config) { c.Templates = tmpl })
		c := e.card(14*day + time.Hour)
		e.tick(s)
		mails := mail.Mails()
		if len(mails) != 1 {
			t.Fatalf("%d notices, want 1", len(mails))
		}
		data := string(mails[0].Data)
		if got, want := header(data, "Subject"), "Renew card "+c.Serial+" (14 days left)"; got != want {
			t.Errorf("subject %q, want %q", got, want)
		}
		if !strings.Contains(body(data), "open https://vscard.test/ and choose") { // the body is still the embedded one
			t.Errorf("body without the portal's link:\n%s", data)
		}
	})

	// A template that does not parse, or names what a notice does not have, is refused at start.
	for name, src := range map[string]string{"unparsable": "{{.Serial", "unknown field": "{{.Nope}}"} {
		bad := t.TempDir()
		_ = os.WriteFile(filepath.Join(bad, notices.BodyTemplate), []byte(src), 0o600)
		if _, err := notices.LoadTemplates(bad); err == nil {
			t.Errorf("%s: template accepted", name)
		}
	}
}

func TestNoticeFor(t *testing.T) {
	days := []int{60, 30, 14, 7}
	for _, c := range []struct {
		left, want int
		ok         bool
	}{{61, 0, false}, {60, 60, true}, {45, 60, true}, {30, 30, true}, {15, 30, true}, {14, 14, true}, {1, 7, true}, {0, 7, true}} {
		got, ok := notices.NoticeFor(days, c.left)
		if got != c.want || ok != c.ok {
			t.Errorf("NoticeFor(%d) = %d, %v; want %d, %v", c.left, got, ok, c.want, c.ok)
		}
	}
}

// body returns a raw message's body, quoted-printable decoded.
func body(raw string) string {
	_, b, _ := strings.Cut(strings.ReplaceAll(raw, "\r\n", "\n"), "\n\n")
	out, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(b)))
	if err != nil {
		return b
	}
	return string(out)
}

// header returns a header's value from a raw message.
func header(raw, name string) string {
	head, _, _ := strings.Cut(strings.ReplaceAll(raw, "\r\n", "\n"), "\n\n")
	for _, line := range strings.Split(head, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
