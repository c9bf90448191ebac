package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Session keys. The session holds the user id, the roles at sign-in and the ID token (as
// logout hint), plus the pending sign-ins; never an access or refresh token.
const (
	keyUserID  = "uid"
	keyRoles   = "roles"
	keyIDToken = "id_token"
	keyPending = "pending"
)

// cookieName returns the session cookie's name: __Host- prefixed when the public URL is
// https (the browser then insists on Secure, Path=/ and no Domain).
func cookieName(secure bool) string {
	if secure {
		return "__Host-vscard_session"
	}
	return "vscard_session"
}

// newSessionManager configures scs on store.
func newSessionManager(cfg *Config, store scs.Store, errorFunc func(http.ResponseWriter, *http.Request, error)) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.IdleTimeout = cfg.IdleTimeout
	sm.Lifetime = cfg.Lifetime
	sm.Cookie.Name = cookieName(cfg.secure())
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.secure()
	sm.Cookie.Path = "/"
	sm.Cookie.Domain = ""
	// A browser session: the cookie goes when the browser closes; the server-side expiry
	// (idle timeout, lifetime) holds either way.
	sm.Cookie.Persist = false
	sm.ErrorFunc = errorFunc
	return sm
}

// pendingLogin is one sign-in started at /auth/login and not yet finished at
// /auth/callback, keyed by its state.
type pendingLogin struct {
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Return   string    `json:"r"`
	Started  time.Time `json:"t"`
}

const (
	// maxPending bounds the sign-ins one browser can have open (tabs).
	maxPending = 5
	// pendingTTL bounds how long the user may take at the provider.
	pendingTTL = 10 * time.Minute
)

// pendingLogins reads the open sign-ins from the session, dropping stale ones. They are
// kept as JSON so that scs's gob codec needs no type registration.
func pendingLogins(ctx context.Context, sm *scs.SessionManager) map[string]pendingLogin {
	out := map[string]pendingLogin{}
	raw := sm.GetString(ctx, keyPending)
	if raw == "" {
		return out
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return map[string]pendingLogin{}
	}
	for state, p := range out {
		if time.Since(p.Started) > pendingTTL {
			delete(out, state)
		}
	}
	return out
}

func putPendingLogins(ctx context.Context, sm *scs.SessionManager, p map[string]pendingLogin) {
	if len(p) == 0 {
		sm.Remove(ctx, keyPending)
		return
	}
	b, _ := json.Marshal(p) // a map of strings and times always marshals
	sm.Put(ctx, keyPending, string(b))
}
