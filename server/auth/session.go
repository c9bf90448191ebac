package auth

import (
	"net/http"

	"github.com/alexedwards/scs/v2"
)

// Session keys. The session holds the user id, the roles at sign-in and the ID token (as
// logout hint); never an access or refresh token. A sign-in that has not finished keeps
// its state in the login-state cookie instead (loginstate.go): nothing is stored for
// someone who has not signed in.
const (
	keyUserID  = "uid"
	keyRoles   = "roles"
	keyIDToken = "id_token"
	// keySignedInAt (Unix nanoseconds on Config.Now) starts the session's lifetime; see
	// Store.expiryOf.
	keySignedInAt = "signed_in_at"
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
	sm.Codec = sessionCodec
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
