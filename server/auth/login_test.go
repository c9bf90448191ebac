package auth

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/devidp"
	"github.com/vscard/vscard/server/viewer"
)

// devSetup is the default development setup: the embedded provider's demo users, new users
// ACTIVE unless the users file says otherwise.
func devSetup(t *testing.T) (*testApp, *devidp.Provider) {
	t.Helper()
	var idp *devidp.Provider
	app := newApp(t, nil, func(cfg *Config) {
		idp = startIdP(t, cfg.PublicURL, idpOptions{})
		cfg.Issuer = idp.Issuer()
		cfg.DefaultUserState = StateActive
		cfg.InitialStates = idp.InitialStates()
	})
	return app, idp
}

func TestLogin(t *testing.T) {
	t.Run("ok/dev provider signs alice in and back out", func(t *testing.T) {
		app, idp := devSetup(t)
		b := newBrowser(t)
		if info := b.sessionInfo(app.URL); info.Authenticated {
			t.Fatalf("authenticated before sign-in: %+v", info)
		}
		b.signIn(app.URL, "alice", "alice-demo")

		info := b.sessionInfo(app.URL)
		if !info.Authenticated || info.User.Username != "alice" || info.User.State != StateActive ||
			info.User.Email != "alice@vscard.test" || info.User.DisplayName != "Alice Active" ||
			!slices.Equal(info.User.Roles, []string{"user"}) {
			t.Fatalf("session = %+v %+v", info, info.User)
		}
		u := userByName(t, app.db, "alice")
		if u.OidcIssuer != idp.Issuer() || u.OidcSubject != "7b0d4e1a-0000-4000-8000-00000000a11c" {
			t.Errorf("identity = %s / %s", u.OidcIssuer, u.OidcSubject)
		}
		if u.Attributes["department"] != "Engineering" || u.Attributes["employee_id"] != "1001" {
			t.Errorf("attributes = %v", u.Attributes)
		}
		for _, k := range []string{"email", "nonce", "groups", "aud", "preferred_username"} {
			if _, ok := u.Attributes[k]; ok {
				t.Errorf("standard claim %q kept as attribute", k)
			}
		}

		// The SPA's whoami sees a user viewer.
		req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/whoami", nil)
		_, who, _ := callWhoami(t, b.c, req)
		if who.Kind != viewer.KindUser || who.UserID != u.ID || who.Name != "alice" || who.Addr != "127.0.0.1" {
			t.Errorf("whoami = %+v", who)
		}
		if !who.Record { // the request reuses the user its authentication read
			t.Errorf("a plain request's viewer carries no user record")
		}

		// While the provider's session lasts, signing in again asks for no password.
		if resp, _ := b.get(app.URL + "/auth/login"); resp.Request.URL.String() != app.URL+"/" {
			t.Fatalf("second sign-in with the provider's session landed at %s", resp.Request.URL)
		}

		// Logout: a form POST answered with a 303 to the provider's end_session_endpoint
		// (RP-initiated logout), which ends the provider's session and sends the browser
		// home. The token is in the Location only, never in the body.
		resp, body := b.signOut(app.URL)
		end, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || end == nil {
			t.Fatalf("logout: %d %s", resp.StatusCode, body)
		}
		hint := end.Query().Get("id_token_hint")
		if !strings.HasPrefix(end.String(), idp.Issuer()+"/end_session") || hint == "" ||
			end.Query().Get("post_logout_redirect_uri") != app.URL+"/" {
			t.Fatalf("logout redirect = %s", end)
		}
		if strings.Contains(body, hint) || strings.Contains(body, "eyJ") {
			t.Fatalf("the logout answer's body carries the ID token: %s", body)
		}
		resp, body = b.get(end.String())
		if resp.Request.URL.String() != app.URL+"/" || body != "home /" {
			t.Errorf("after end_session: %s %q", resp.Request.URL, body)
		}
		if info := b.sessionInfo(app.URL); info.Authenticated {
			t.Errorf("still authenticated after logout")
		}
		// The provider's session ended too: the next sign-in asks for the password.
		b.startLogin(app.URL, "")

		// Both the sign-in and the sign-out are in the audit log.
		ctx := viewer.AsServer(context.Background())
		for _, action := range []string{ActionLogin, ActionLogout} {
			ev, err := app.db.client.AuditEvent.Query().Where(auditevent.Action(action), auditevent.ObjectID(u.ID)).First(ctx)
			if err != nil {
				t.Fatalf("audit %s: %v", action, err)
			}
			if ev.ObjectType != "User" || ev.ActorKind != "user" || ev.RemoteAddr != "127.0.0.1" || !strings.Contains(ev.Actor, "alice") {
				t.Errorf("audit %s = %+v", action, ev)
			}
		}
	})

	t.Run("ok/second provider with its own client, key, users and admin group", func(t *testing.T) {
		app := newApp(t, nil, func(cfg *Config) {
			idp := startIdP(t, cfg.PublicURL, idpOptions{
				path: "/realms/second", clientID: "vscard-second", clientSecret: "s3cret",
				usersFile: "testdata/second-idp-users.yaml",
			})
			cfg.Issuer = idp.Issuer()
			cfg.ClientID, cfg.ClientSecret = "vscard-second", "s3cret"
			cfg.AdminGroup = "ops-admins"
		})
		b := newBrowser(t)
		b.signIn(app.URL, "dave", "dave-pw")
		info := b.sessionInfo(app.URL)
		if !info.Authenticated || info.User.Username != "dave" || info.User.State != StateRegistered ||
			!slices.Equal(info.User.Roles, []string{"user", "admin"}) {
			t.Fatalf("session = %+v", info.User)
		}
		u := userByName(t, app.db, "dave")
		if u.Attributes["cost_center"] != float64(4711) || u.Attributes["contractor"] != false {
			t.Errorf("attributes = %#v", u.Attributes)
		}
	})

	t.Run("ok/return path is kept, foreign ones are not", func(t *testing.T) {
		app, _ := devSetup(t)
		for _, tc := range []struct{ ret, want string }{
			{"/orders/ord_1?tab=steps", "/orders/ord_1"},
			{"https://evil.example/x", "/"},
			{"//evil.example/x", "/"},
			{"/\\evil.example", "/"},
		} {
			b := newBrowser(t)
			resp, _ := b.submitPassword(b.startLogin(app.URL, tc.ret), "carol", "carol-demo")
			if resp.Request.URL.Host != strings.TrimPrefix(app.URL, "http://") || resp.Request.URL.Path != tc.want {
				t.Errorf("return %q landed at %s, want path %s", tc.ret, resp.Request.URL, tc.want)
			}
		}
	})

	t.Run("error/wrong password keeps the user out", func(t *testing.T) {
		app, _ := devSetup(t)
		b := newBrowser(t)
		resp, body := b.submitPassword(b.startLogin(app.URL, ""), "alice", "wrong")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "wrong password") {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if b.sessionInfo(app.URL).Authenticated {
			t.Fatal("authenticated")
		}
	})
}

func TestUsers(t *testing.T) {
	t.Run("ok/states and roles of new users in the development setup", func(t *testing.T) {
		app, _ := devSetup(t)
		for _, tc := range []struct {
			user, password, state string
			roles                 []string
		}{
			{"alice", "alice-demo", StateActive, []string{"user"}},
			{"bob", "bob-demo", StateInactive, []string{"user"}},
			{"carol", "carol-demo", StateActive, []string{"user"}},
			{"admin", "admin-demo", StateActive, []string{"user", "admin"}},
		} {
			b := newBrowser(t)
			b.signIn(app.URL, tc.user, tc.password)
			info := b.sessionInfo(app.URL)
			if info.User.State != tc.state || !slices.Equal(info.User.Roles, tc.roles) {
				t.Errorf("%s: state %s roles %v, want %s %v", tc.user, info.User.State, info.User.Roles, tc.state, tc.roles)
			}
			// An inactive user still has a session: the API says USER_NOT_ACTIVE where it matters.
			req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/whoami", nil)
			if _, who, _ := callWhoami(t, b.c, req); who.Kind != viewer.KindUser || who.Name != tc.user {
				t.Errorf("%s: whoami = %+v", tc.user, who)
			}
		}
	})

	t.Run("ok/new users are REGISTERED outside the development setup", func(t *testing.T) {
		app := newApp(t, nil, func(cfg *Config) {
			cfg.Issuer = startIdP(t, cfg.PublicURL, idpOptions{}).Issuer()
		})
		newBrowser(t).signIn(app.URL, "alice", "alice-demo")
		if u := userByName(t, app.db, "alice"); u.State != user.StateREGISTERED {
			t.Errorf("state = %s", u.State)
		}
	})

	t.Run("ok/an existing user keeps the state an administrator set", func(t *testing.T) {
		app, _ := devSetup(t)
		newBrowser(t).signIn(app.URL, "alice", "alice-demo")
		ctx := viewer.AsServer(context.Background())
		u := userByName(t, app.db, "alice")
		if err := u.Update().SetState(user.StateLOCKED).SetEmail("old@example.test").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		b.signIn(app.URL, "alice", "alice-demo")
		u = userByName(t, app.db, "alice")
		if u.State != user.StateLOCKED || u.Email != "alice@vscard.test" || u.LastLoginAt == nil {
			t.Errorf("after second sign-in: state %s email %s", u.State, u.Email)
		}
		if n := app.db.client.User.Query().CountX(ctx); n != 1 {
			t.Errorf("%d users, want 1", n)
		}
		if info := b.sessionInfo(app.URL); info.User.State != StateLocked {
			t.Errorf("session state = %s", info.User.State)
		}
	})
}
