package auth

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
)

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
	// maxReturnPath bounds a pending sign-in's return path, so that maxPending of them fit
	// in one cookie; a longer one returns to "/".
	maxReturnPath = 256
)

// loginState keeps the pending sign-ins of a browser in a cookie of their own, encrypted
// and authenticated by gorilla/securecookie (AES-CTR, HMAC-SHA256, timestamped), instead
// of a database session: an anonymous visitor who opens /auth/login costs no row, and
// any server instance that shares the keys can finish the sign-in.
type loginState struct {
	codecs []securecookie.Codec
	name   string
	secure bool
	now    func() time.Time
}

// newLoginState derives the cookie's keys from each of keys (the first seals, all open:
// rotation), or makes a random one, good for a single instance, when there is none.
func newLoginState(cfg *Config) (*loginState, error) {
	keys := cfg.LoginStateKeys
	if len(keys) == 0 {
		k := make([]byte, 32)
		_, _ = rand.Read(k) // never fails (crypto/rand)
		keys = [][]byte{k}
	}
	var pairs [][]byte
	for _, k := range keys {
		if len(k) < 32 {
			return nil, fmt.Errorf("check login-state key: want at least 32 bytes, have %d", len(k))
		}
		// One secret, two keys: HMAC and AES must not share one.
		material, err := hkdf.Key(sha256.New, k, nil, "vscard auth login-state cookie v1", 64)
		if err != nil {
			return nil, fmt.Errorf("derive login-state keys: %w", err)
		}
		pairs = append(pairs, material[:32], material[32:])
	}
	codecs := securecookie.CodecsFromPairs(pairs...)
	for _, c := range codecs {
		sc := c.(*securecookie.SecureCookie)
		sc.MaxAge(int(pendingTTL / time.Second))
		sc.SetSerializer(securecookie.JSONEncoder{})
	}
	name := "vscard_login"
	if cfg.secure() {
		name = "__Host-vscard_login"
	}
	return &loginState{codecs: codecs, name: name, secure: cfg.secure(), now: cfg.Now}, nil
}

// read returns the browser's live pending sign-ins; a missing, stale, tampered or
// foreign cookie reads as none.
func (l *loginState) read(r *http.Request) map[string]pendingLogin {
	out := map[string]pendingLogin{}
	c, err := r.Cookie(l.name)
	if err != nil {
		return out
	}
	if err := securecookie.DecodeMulti(l.name, c.Value, &out, l.codecs...); err != nil {
		return map[string]pendingLogin{}
	}
	for state, p := range out {
		if age := l.now().Sub(p.Started); age > pendingTTL || age < -time.Minute {
			delete(out, state)
		}
	}
	return out
}

// write sets the cookie to p, or removes it when p is empty.
func (l *loginState) write(w http.ResponseWriter, p map[string]pendingLogin) error {
	c := &http.Cookie{
		Name:     l.name,
		Path:     "/",
		HttpOnly: true,
		Secure:   l.secure,
		// Lax: the provider sends the browser back with a top-level GET from its own site.
		SameSite: http.SameSiteLaxMode,
	}
	if len(p) == 0 {
		c.MaxAge = -1
		http.SetCookie(w, c)
		return nil
	}
	v, err := securecookie.EncodeMulti(l.name, p, l.codecs...)
	if err != nil {
		return fmt.Errorf("seal login state: %w", err)
	}
	c.Value = v
	c.MaxAge = int(pendingTTL / time.Second)
	http.SetCookie(w, c)
	return nil
}
