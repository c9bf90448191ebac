package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/ent/session"
	"github.com/vscard/vscard/server/testclock"
	"github.com/vscard/vscard/server/viewer"
)

func TestSessions(t *testing.T) {
	t.Run("ok/only the token's hash is stored", func(t *testing.T) {
		app, _ := devSetup(t)
		b := newBrowser(t)
		b.signIn(app.URL, "alice", "alice-demo")
		c := b.sessionCookie(app.URL)
		if c == nil {
			t.Fatal("no session cookie")
		}
		rows, err := app.db.raw.Query(`SELECT id, token_hash, data FROM sessions`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		sum := sha256.Sum256([]byte(c.Value))
		found := false
		for rows.Next() {
			var id, hash string
			var data []byte
			if err := rows.Scan(&id, &hash, &data); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(id+hash+string(data), c.Value) {
				t.Fatalf("session token stored in the clear")
			}
			if strings.Contains(string(data), "opaque") || strings.Contains(string(data), "access_token") {
				t.Errorf("an access token is in the session")
			}
			found = found || hash == hex.EncodeToString(sum[:])
		}
		if !found {
			t.Error("no row with the token's SHA-256")
		}
	})

	t.Run("ok/cookie flags on http and https", func(t *testing.T) {
		for _, tc := range []struct {
			public, name string
			secure       bool
		}{
			{"http://localhost:8080", "vscard_session", false},
			{"https://vscard.example.com", "__Host-vscard_session", true},
		} {
			cfg := Config{PublicURL: tc.public}.withDefaults()
			sm := newSessionManager(&cfg, NewStore(nil, time.Hour), nil)
			if sm.Cookie.Name != tc.name || sm.Cookie.Secure != tc.secure || !sm.Cookie.HttpOnly ||
				sm.Cookie.SameSite != http.SameSiteLaxMode || sm.Cookie.Path != "/" || sm.Cookie.Domain != "" {
				t.Errorf("%s: cookie = %+v", tc.public, sm.Cookie)
			}
		}
	})

	t.Run("ok/sign-in renews the token", func(t *testing.T) {
		app, _ := devSetup(t)
		b := newBrowser(t)
		b.signIn(app.URL, "alice", "alice-demo")
		before := b.sessionCookie(app.URL)
		if before == nil {
			t.Fatal("no session")
		}
		// A second sign-in in the same browser (here through the provider's session) gets
		// a new token; the old one is dead.
		if resp, body := b.get(app.URL + "/auth/login"); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
			t.Fatalf("second sign-in: %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
		}
		after := b.sessionCookie(app.URL)
		if after == nil || after.Value == before.Value {
			t.Fatal("session token not renewed at sign-in")
		}
		if replay(t, app.URL, before).Authenticated {
			t.Error("the earlier token still signs in")
		}
	})

	t.Run("ok/an anonymous sign-in start stores nothing", func(t *testing.T) {
		app, _ := devSetup(t)
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for range 200 {
			resp, err := c.Get(app.URL + "/auth/login")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("GET /auth/login: %d", resp.StatusCode)
			}
		}
		var n int
		if err := app.db.raw.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("200 anonymous sign-in starts left %d session rows, want 0", n)
		}
	})

	t.Run("ok/the login state is sealed and holds no session", func(t *testing.T) {
		app, _ := devSetup(t)
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(app.URL + "/auth/login?return=/cards")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var login *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "vscard_login" {
				login = c
			}
		}
		if login == nil {
			t.Fatal("no login-state cookie")
		}
		set := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
		if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") || strings.Contains(set, "vscard_session") {
			t.Errorf("Set-Cookie = %s", set)
		}
		for _, secret := range []string{"/cards", "nonce", `"v"`} {
			if strings.Contains(login.Value, secret) {
				t.Errorf("login state readable: %q in the cookie", secret)
			}
		}
	})

	// The two expiries run on the service's clock (Config.Now), which the tests move: no
	// sleeping, and no margin a busy machine could eat.
	t.Run("error/idle timeout", func(t *testing.T) {
		clock := testclock.New()
		const idle = 30 * time.Minute
		app := newApp(t, nil, func(cfg *Config) {
			cfg.Issuer = startIdP(t, cfg.PublicURL, idpOptions{}).Issuer()
			cfg.IdleTimeout = idle
			cfg.Lifetime = 12 * time.Hour
			cfg.Now = clock.Now
		})
		b := newBrowser(t)
		b.signIn(app.URL, "alice", "alice-demo")
		clock.Advance(idle - time.Minute)
		if !b.sessionInfo(app.URL).Authenticated { // activity pushes the expiry out
			t.Fatal("session ended early")
		}
		clock.Advance(idle - time.Minute) // past the idle timeout after the sign-in
		if !b.sessionInfo(app.URL).Authenticated {
			t.Fatal("activity did not extend the session")
		}
		clock.Advance(idle + time.Minute)
		if b.sessionInfo(app.URL).Authenticated {
			t.Fatal("session outlived the idle timeout")
		}
	})

	t.Run("error/absolute lifetime", func(t *testing.T) {
		clock := testclock.New()
		const idle, lifetime = 30 * time.Minute, 2 * time.Hour
		app := newApp(t, nil, func(cfg *Config) {
			cfg.Issuer = startIdP(t, cfg.PublicURL, idpOptions{}).Issuer()
			cfg.IdleTimeout = idle
			cfg.Lifetime = lifetime
			cfg.Now = clock.Now
		})
		b := newBrowser(t)
		b.signIn(app.URL, "alice", "alice-demo")
		for range 4 { // active all along: 4 × 29 minutes = 1h56m
			clock.Advance(idle - time.Minute)
			if !b.sessionInfo(app.URL).Authenticated {
				t.Fatal("session ended before its lifetime")
			}
		}
		clock.Advance(5 * time.Minute) // 2h01m after the sign-in, 5 minutes after the last request
		if b.sessionInfo(app.URL).Authenticated {
			t.Fatal("session outlived its lifetime despite activity")
		}
	})

	t.Run("error/tampered cookie", func(t *testing.T) {
		app, _ := devSetup(t)
		b := newBrowser(t)
		b.signIn(app.URL, "alice", "alice-demo")
		c := b.sessionCookie(app.URL)
		for _, v := range []string{c.Value[:len(c.Value)-1] + "x", c.Value + "A", "", "../../etc", strings.Repeat("A", 43)} {
			if replay(t, app.URL, &http.Cookie{Name: c.Name, Value: v}).Authenticated {
				t.Errorf("tampered cookie %q accepted", v)
			}
		}
	})

	t.Run("error/a logged-out session cannot be used again", func(t *testing.T) {
		app, _ := devSetup(t)
		b := newBrowser(t)
		b.signIn(app.URL, "alice", "alice-demo")
		c := b.sessionCookie(app.URL)
		if !replay(t, app.URL, c).Authenticated {
			t.Fatal("copied cookie does not work before logout")
		}
		if resp, body := b.signOut(app.URL); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d %s", resp.StatusCode, body)
		}
		if replay(t, app.URL, c).Authenticated {
			t.Fatal("logged-out session still works")
		}
	})
}

// replay asks /auth/session with only cookie, as someone who copied it would.
func replay(t *testing.T, appURL string, cookie *http.Cookie) sessionInfo {
	t.Helper()
	b := newBrowser(t)
	req, _ := http.NewRequest(http.MethodGet, appURL+"/auth/session", nil)
	req.AddCookie(cookie)
	resp, body := b.do(req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("session: %d %s", resp.StatusCode, body)
	}
	return decodeSession(t, body)
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t)
	s := NewStore(db.client, time.Hour)
	exp := time.Now().Add(time.Hour)

	t.Run("ok/commit, find, update", func(t *testing.T) {
		if err := s.CommitCtx(ctx, "tok-1", []byte("a"), exp); err != nil {
			t.Fatal(err)
		}
		if err := s.CommitCtx(ctx, "tok-1", []byte("b"), exp); err != nil {
			t.Fatal(err)
		}
		b, found, err := s.FindCtx(ctx, "tok-1")
		if err != nil || !found || string(b) != "b" {
			t.Fatalf("find = %q %v %v", b, found, err)
		}
	})

	t.Run("error/a deleted session is not revived by a late commit", func(t *testing.T) {
		_ = s.CommitCtx(ctx, "tok-2", []byte("a"), exp)
		if err := s.DeleteCtx(ctx, "tok-2"); err != nil {
			t.Fatal(err)
		}
		if err := s.CommitCtx(ctx, "tok-2", []byte("late"), exp); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := s.FindCtx(ctx, "tok-2"); found {
			t.Fatal("deleted session revived")
		}
	})

	t.Run("ok/an unchanged session is written back once its deadline moved by Refresh", func(t *testing.T) {
		s := NewStore(db.client, time.Hour)
		s.Refresh = time.Minute
		stored := func() (string, time.Time) {
			t.Helper()
			row, err := db.client.Session.Query().Where(session.TokenHash(hashToken("tok-4"))).Only(viewer.AsServer(ctx))
			if err != nil {
				t.Fatal(err)
			}
			return string(row.Data), row.Expiry
		}
		start := exp.Truncate(time.Second)
		if err := s.CommitCtx(ctx, "tok-4", []byte("a"), start); err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			data       string
			moved      time.Duration
			wantData   string
			wantExpiry time.Time
		}{
			{data: "a", moved: 30 * time.Second, wantData: "a", wantExpiry: start},                     // skipped
			{data: "a", moved: 2 * time.Minute, wantData: "a", wantExpiry: start.Add(2 * time.Minute)}, // written
			{data: "b", moved: 2*time.Minute + time.Second, wantData: "b", wantExpiry: start.Add(2*time.Minute + time.Second)},
		} {
			req := withSessionRead(ctx) // one request: read, then write back
			if _, found, err := s.FindCtx(req, "tok-4"); err != nil || !found {
				t.Fatalf("find: %v %v", found, err)
			}
			if err := s.CommitCtx(req, "tok-4", []byte(step.data), start.Add(step.moved)); err != nil {
				t.Fatal(err)
			}
			if data, expiry := stored(); data != step.wantData || !expiry.Equal(step.wantExpiry) {
				t.Fatalf("after commit of %q moved %v: stored %q until %v, want %q until %v",
					step.data, step.moved, data, expiry, step.wantData, step.wantExpiry)
			}
		}
		// Without a read in the request (no withSessionRead) every commit writes.
		if err := s.CommitCtx(ctx, "tok-4", []byte("b"), start.Add(2*time.Minute+2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, expiry := stored(); !expiry.Equal(start.Add(2*time.Minute + 2*time.Second)) {
			t.Fatalf("commit outside a request not written: expiry %v", expiry)
		}
	})

	t.Run("error/expired sessions are not found and are cleaned up", func(t *testing.T) {
		_ = s.CommitCtx(ctx, "tok-3", []byte("a"), time.Now().Add(-time.Second))
		if _, found, _ := s.FindCtx(ctx, "tok-3"); found {
			t.Fatal("expired session found")
		}
		later := NewStore(db.client, time.Minute)
		later.now = func() time.Time { return time.Now().Add(30 * time.Minute) }
		n, err := later.Cleanup(ctx)
		if err != nil || n < 2 { // tok-2's tombstone and tok-3
			t.Fatalf("cleanup = %d, %v", n, err)
		}
		if _, found, _ := s.FindCtx(ctx, "tok-1"); !found {
			t.Fatal("cleanup removed a live session")
		}
	})
}
