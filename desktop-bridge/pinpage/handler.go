package pinpage

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/vscard/vscard/desktop-bridge/handoff"
)

// maxForm bounds a form post: the current PIN, the new one, its confirmation and a nonce.
const maxForm = 4 << 10

// ServeHTTP serves the page under /<token>/ and its three form targets.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with the
	// form posts, which sameOrigin must refuse. The page loads nothing from elsewhere.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")

	// A name that resolves to 127.0.0.1 (DNS rebinding) carries its own Host header.
	if r.Host != p.host {
		http.Error(w, "wrong host", http.StatusMisdirectedRequest)
		return
	}
	rest, ok := p.stripToken(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case r.Method == http.MethodGet && rest == "":
		p.render(w)
	case r.Method == http.MethodPost && (rest == "trust" || rest == "pin" || rest == "cancel"):
		if !p.sameOrigin(r) {
			http.Error(w, "cross-origin form post refused", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		switch rest {
		case "trust":
			p.postTrust(r)
		case "pin":
			p.postPIN(r)
		case "cancel":
			p.doCancel()
			p.update(func() {})
		}
		// Post/redirect/get: reloading the page does not post the PIN again.
		http.Redirect(w, r, p.url, http.StatusSeeOther)
	case rest == "" || rest == "trust" || rest == "pin" || rest == "cancel":
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	default:
		http.NotFound(w, r)
	}
}

// stripToken checks the secret path prefix in constant time and returns what follows.
func (p *Page) stripToken(path string) (string, bool) {
	path = strings.TrimPrefix(path, "/")
	tok, rest, found := strings.Cut(path, "/")
	if !found || subtle.ConstantTimeCompare([]byte(tok), []byte(p.token)) != 1 {
		return "", false
	}
	return rest, true
}

// sameOrigin accepts a POST only from the page itself. Browsers send Origin with every
// form post, same-origin ones included, so a post without it is refused too.
func (p *Page) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	return r.Header.Get("Origin") == p.origin
}

func (p *Page) postTrust(r *http.Request) {
	p.mu.Lock()
	q := p.trust
	p.mu.Unlock()
	if q == nil || !nonceMatches(r.PostForm.Get("q"), q.nonce) {
		return // a stale form: show the current state
	}
	select {
	case q.ch <- r.PostForm.Get("answer") == "trust":
	default:
	}
}

func (p *Page) postPIN(r *http.Request) {
	p.mu.Lock()
	q := p.pin
	p.mu.Unlock()
	if q == nil || !nonceMatches(r.PostForm.Get("q"), q.nonce) {
		return
	}
	p.mu.Lock()
	mode, claim := p.mode, p.claim
	p.mu.Unlock()
	a := handoff.PINAnswer{New: r.PostForm.Get("pin")}
	if mode == handoff.PINChange {
		a.Current = r.PostForm.Get("current")
	}
	var problems []handoff.Problem
	if mode != handoff.PINVerify && a.New != r.PostForm.Get("confirm") { // verify: the card's PIN, once
		problems = append(problems, handoff.NewProblem(handoff.ProblemMismatch))
	} else if claim != nil {
		problems = handoff.CheckPIN(mode, claim.PINPolicy, a)
	}
	if len(problems) > 0 {
		p.update(func() {
			if p.pin == q {
				p.problems = problems
			}
		})
		return
	}
	select {
	case q.ch <- a:
		// Until the enrolment asks again or moves on, the form must not take another PIN.
		p.update(func() {
			if p.pin == q {
				p.pin = nil
			}
		})
	default:
	}
}

func nonceMatches(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
