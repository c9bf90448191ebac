package pinpage

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
)

// maxBody bounds a POST: the current PIN, the new one, its confirmation and a nonce.
const maxBody = 4 << 10

// longPoll is how long GET state?after= waits for a change before it answers with the
// state as it is; the page asks again at once. Below common proxy and browser limits.
const longPoll = 25 * time.Second

// entry is the page's HTML in the portal's build, and manifest Vite's list of what each
// entry loads.
const (
	entry    = "pinpage.html"
	manifest = ".vite/manifest.json"
)

// csp lets the page run its own scripts and styles (Mantine sets inline style
// attributes) and fetch its own API, and nothing else: no other origin, no framing, no
// form targets.
const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP serves the page and its assets, and under /<token>/ the JSON API.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer some browsers send "Origin: null"
	// with the page's own POSTs, which sameOrigin must refuse.
	h.Set("Referrer-Policy", "same-origin")

	// A name that resolves to 127.0.0.1 (DNS rebinding) carries its own Host header.
	if r.Host != p.host {
		http.Error(w, "wrong host", http.StatusMisdirectedRequest)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/assets/"); ok && r.Method == http.MethodGet {
		p.serveAsset(w, r, "assets/"+name)
		return
	}
	h.Set("Cache-Control", "no-store")
	rest, ok := p.stripToken(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case r.Method == http.MethodGet && rest == "":
		p.servePage(w)
	case r.Method == http.MethodGet && rest == "state":
		p.serveState(w, r)
	case r.Method == http.MethodPost && (rest == "trust" || rest == "pin" || rest == "cancel"):
		if !p.sameOrigin(r) {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
			http.Error(w, "JSON only", http.StatusUnsupportedMediaType)
			return
		}
		var body answer
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		if rest != "cancel" {
			if err := dec.Decode(&body); err != nil {
				http.Error(w, "bad request body", http.StatusBadRequest)
				return
			}
		}
		switch rest {
		case "trust":
			p.postTrust(body)
		case "pin":
			p.postPIN(body)
		case "cancel":
			p.doCancel()
			p.update(func() {})
		}
		p.writeState(w)
	case rest == "" || rest == "state" || rest == "trust" || rest == "pin" || rest == "cancel":
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	default:
		http.NotFound(w, r)
	}
}

// answer is the body of a POST: the question's nonce, and the trust answer or the PINs.
type answer struct {
	Nonce   string `json:"nonce"`
	Trust   bool   `json:"trust"`
	Current string `json:"current"`
	PIN     string `json:"pin"`
	Confirm string `json:"confirm"`
}

// servePage serves the page's HTML from the portal's build.
func (p *Page) servePage(w http.ResponseWriter) {
	html, err := fs.ReadFile(p.files, entry)
	if err != nil {
		p.log.Error("PIN page is not built into this Desktop App", "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("This Desktop App was built without its PIN page. Please install the Desktop App again.\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(html)
}

// serveAsset serves a file the page loads, and only those: the portal's other pages
// are not the Desktop App's to serve.
func (p *Page) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	if !p.pageAssets()[path.Clean(name)] {
		http.NotFound(w, r)
		return
	}
	// Assets are named by their hash, so they never change.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeFileFS(w, r, p.files, path.Clean(name))
}

// manifestChunk is the part of an entry of Vite's manifest that names files.
type manifestChunk struct {
	File    string   `json:"file"`
	CSS     []string `json:"css"`
	Assets  []string `json:"assets"`
	Imports []string `json:"imports"`
}

// pageAssets returns the files pinpage.html loads, from Vite's manifest: its entry and,
// recursively, its imports, with their styles and assets.
func (p *Page) pageAssets() map[string]bool {
	p.assetsOnce.Do(func() {
		p.assets = map[string]bool{}
		raw, err := fs.ReadFile(p.files, manifest)
		if err != nil {
			return
		}
		var m map[string]manifestChunk
		if err := json.Unmarshal(raw, &m); err != nil {
			p.log.Error("read the PIN page's manifest", "err", err)
			return
		}
		seen := map[string]bool{}
		var walk func(key string)
		walk = func(key string) {
			c, ok := m[key]
			if !ok || seen[key] {
				return
			}
			seen[key] = true
			p.assets[c.File] = true
			for _, f := range append(c.CSS, c.Assets...) {
				p.assets[f] = true
			}
			for _, k := range c.Imports {
				walk(k)
			}
		}
		walk(entry)
	})
	return p.assets
}

// serveState answers at once without ?after=, else once the state's version is past
// after (or longPoll passed, or the page went away).
func (p *Page) serveState(w http.ResponseWriter, r *http.Request) {
	if a := r.URL.Query().Get("after"); a != "" {
		after, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			http.Error(w, "bad after", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), longPoll)
		defer cancel()
		for {
			p.mu.Lock()
			v, ch := p.version, p.changed
			p.mu.Unlock()
			if v > after {
				break
			}
			select {
			case <-ch:
				continue
			case <-ctx.Done():
			}
			break
		}
	}
	p.writeState(w)
}

func (p *Page) writeState(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(p.snapshot()); err != nil {
		p.log.Debug("write PIN page state", "err", err)
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
// POST, same-origin fetches included, so a POST without it is refused too.
func (p *Page) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	return r.Header.Get("Origin") == p.origin
}

func (p *Page) postTrust(a answer) {
	p.mu.Lock()
	q := p.trust
	p.mu.Unlock()
	if q == nil || !nonceMatches(a.Nonce, q.nonce) {
		return // a stale answer: the page shows the current state
	}
	select {
	case q.ch <- a.Trust:
	default:
	}
}

func (p *Page) postPIN(body answer) {
	p.mu.Lock()
	q := p.pin
	mode, claim := p.mode, p.claim
	p.mu.Unlock()
	if q == nil || !nonceMatches(body.Nonce, q.nonce) {
		return
	}
	a := handoff.PINAnswer{New: body.PIN}
	if mode == handoff.PINChange {
		a.Current = body.Current
	}
	var problems []handoff.Problem
	if mode != handoff.PINVerify && a.New != body.Confirm { // verify: the card's PIN, once
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
		// Until the run asks again or moves on, the form must not take another PIN.
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
