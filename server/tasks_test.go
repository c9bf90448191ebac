package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/notices/smtptest"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/testclock"
	"github.com/vscard/vscard/server/viewer"
)

// A card that falls due shows as the owner's task, with its days left, only to its owner;
// with SMTP configured its notice reaches the SMTP server. Time moves by the clock.
func TestCardDueForRenewalIsATaskAndANotice(t *testing.T) {
	clock := testclock.New()
	mail := smtptest.Start(t)
	env := servertest.Start(t, servertest.WithClock(clock), func(c *server.Config) {
		c.SMTP.Host, c.SMTP.Port, c.SMTP.CAFile = mail.Host, mail.Port, mail.CAFile
		c.SMTP.Username, c.SMTP.Password, c.SMTP.From = smtptest.Username, smtptest.Password, "vscard@example.com"
		c.NoticeRate = 100
		// The sessions outlive the clock's move: the development identity provider signs
		// in on the real clock, so signing in again after it would be refused.
		c.SessionIdleTimeout, c.SessionLifetime = 365*24*time.Hour, 365*24*time.Hour
	})
	alice := env.SignIn(t, servertest.Alice)
	carol := env.SignIn(t, servertest.Carol)
	sys := viewer.AsServer(context.Background())
	db := env.Server.DB.Client
	owner := db.User.Query().Where(user.Username("alice")).OnlyX(sys)
	now := clock.Now()
	c := db.Card.Create().SetSerial("12345678").SetOwnerID(owner.ID).SetState(card.StateACTIVE).
		SetValidFrom(now).SetValidUntil(now.Add(75*24*time.Hour + time.Hour)).
		SetProperties(cardspec.Properties{CommonName: "Alice"}).SetManagementKey([]byte{1}).SetPuk([]byte{2}).SaveX(sys)

	const q = `{ tasks { kind expiresAt daysLeft card { serial } process { name available } } }`
	type tasks struct {
		Tasks []struct {
			Kind     string
			DaysLeft int
			Card     struct{ Serial string }
			Process  *struct {
				Name      string
				Available bool
			}
		}
	}
	tick := func() {
		t.Helper()
		if _, err := env.Server.Notices.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	tick()
	var got tasks
	alice.MustDo(t, q, nil, &got)
	if len(got.Tasks) != 0 {
		t.Fatalf("a card 75 days from expiry is a task: %+v", got)
	}

	clock.Advance(61 * 24 * time.Hour) // 14 days left
	tick()
	alice.MustDo(t, q, nil, &got)
	if len(got.Tasks) != 1 || got.Tasks[0].Kind != "RENEW_CARD" || got.Tasks[0].Card.Serial != c.Serial || got.Tasks[0].DaysLeft != 14 {
		t.Fatalf("alice's tasks %+v, want card %s in 14 days", got, c.Serial)
	}
	var carols tasks
	carol.MustDo(t, q, nil, &carols)
	if len(carols.Tasks) != 0 {
		t.Fatalf("carol sees alice's task: %+v", carols)
	}
	if n := mail.Count(); n != 1 {
		t.Fatalf("%d notices reached the SMTP server, want 1", n)
	}

	// Renewed (a new expiry): the task leaves the start page at once, before the next check.
	db.Card.UpdateOne(c).SetValidUntil(c.ValidUntil.AddDate(2, 0, 0)).ExecX(sys)
	alice.MustDo(t, q, nil, &got)
	if len(got.Tasks) != 0 {
		t.Fatalf("a renewed card's task is still shown: %+v", got)
	}
}

func TestTestClockIsRefusedInProduction(t *testing.T) {
	_, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), Production: true, TestClock: true, OIDCIssuer: "https://idp.invalid"}, nil)
	if err == nil {
		t.Fatal("a production server started with a movable clock")
	}
	// Without the flag the endpoint does not exist.
	env := servertest.Start(t)
	resp, err := http.Post(env.URL+"/test/clock?advance=1h", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The path falls through to the portal's page; what it must not do is run the check.
	if strings.Contains(resp.Header.Get("Content-Type"), "json") || strings.Contains(string(body), `"check"`) {
		t.Fatalf("POST /test/clock answered %d %s on a server without --test-clock", resp.StatusCode, body)
	}
}
