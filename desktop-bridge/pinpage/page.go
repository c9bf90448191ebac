// Package pinpage is the desktop bridge's PIN dialog: a small web page on 127.0.0.1,
// opened in the person's default browser, that asks whether to trust a new server,
// shows the order's verification code and the PIN rules, takes the PINs, follows the
// run and shows its result.
//
// The page is the portal's own build: the React entry frontend/pinpage.html (Mantine,
// the portal's theme, its words in i18next catalogues), embedded with the portal in
// package frontend. This package serves only that entry and the assets it loads, and a
// small JSON API under the secret path the page talks to:
//
//	GET  /<token>/             the page
//	GET  /<token>/state?after=N the page's state as JSON; with after, it waits (long
//	                           poll) until the state changes past version N, so the
//	                           page learns at once that the order was cancelled in the
//	                           portal, whatever it is waiting for
//	POST /<token>/trust|pin|cancel  the answers, as JSON
//
// The PIN form is one component with the modes of handoff.PINMode: choose a PIN (a new
// card: the new PIN twice), change it (the current PIN, then the new one twice) and
// confirm an unblock (a new PIN twice after the card's PIN was reset with the PUK,
// which the page never shows), and verify (the card's PIN once). In every mode the
// handler refuses an answer whose new PINs differ or that handoff.CheckPIN refuses
// (the order's PIN policy, and in change mode a missing or unchanged current PIN),
// and the state says why as codes (with the tries left where that matters), never as
// words: the page words them in the person's language. Only an answer that passes goes
// to the run, which checks it again.
//
// Other local pages and programs are kept out by a random 256-bit token in the path, a
// Host check (no DNS rebinding: only 127.0.0.1:<port> is served), an Origin and
// Sec-Fetch-Site check and a JSON content type on every POST (a cross-origin page
// cannot send one without a preflight, which is refused), a per-question nonce, and a
// Content-Security-Policy that allows scripts, styles and fetches from the page's own
// origin only. The PIN goes from the request to the run through a channel and is never
// logged, kept by the page or sent back in a response.
package pinpage

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/frontend"
)

// Page is one enrolment's PIN page. It implements handoff.Prompter; pass Notify as the
// enrolment's Notify to show its progress.
type Page struct {
	url    string
	token  string
	origin string
	host   string
	srv    *http.Server
	log    *slog.Logger
	files  fs.FS // the portal's build: pinpage.html and its assets

	assetsOnce sync.Once
	assets     map[string]bool // the files pinpage.html loads (pageAssets)

	cancelled chan struct{}
	cancel    sync.Once

	mu       sync.Mutex
	version  uint64        // counts the changes of the state, for the page's long poll
	changed  chan struct{} // closed and replaced whenever the state changes
	trust    *question[bool]
	pin      *question[handoff.PINAnswer]
	mode     handoff.PINMode   // of the open PIN question
	problems []handoff.Problem // refusals of the previous answer, from the run or the form
	claim    *handoff.ClaimInfo
	steps    []handoff.Event
	final    *handoff.Event
}

// question is a pending question: the form carries its nonce, the answer goes to ch.
type question[T any] struct {
	nonce string
	ch    chan T
	// server is the server a trust question is about.
	server string
}

// Options configure a page.
type Options struct {
	// Addr to listen on; default "127.0.0.1:0" (a random port on loopback).
	Addr string
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
	// Files holds the built page (pinpage.html, .vite/manifest.json and the assets);
	// the portal's build embedded in package frontend when nil.
	Files fs.FS
}

// Start listens on a random loopback port and serves the page until Close.
func Start(o Options) (*Page, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen for PIN page: %w", err)
	}
	p := newPage(ln.Addr().String(), o.Logger)
	if o.Files != nil {
		p.files = o.Files
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("serve PIN page", "err", err)
		}
	}()
	return p, nil
}

func newPage(hostport string, log *slog.Logger) *Page {
	p := &Page{
		token:     randomToken(32),
		host:      hostport,
		origin:    "http://" + hostport,
		log:       log,
		files:     frontend.Dist(),
		cancelled: make(chan struct{}),
		changed:   make(chan struct{}),
	}
	p.url = p.origin + "/" + p.token + "/"
	return p
}

// URL returns the page's address, secret token included: hand it only to the browser.
func (p *Page) URL() string { return p.url }

// Close stops serving the page.
func (p *Page) Close() error {
	if p.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return p.srv.Shutdown(ctx)
}

// Cancelled is closed when the person presses Cancel.
func (p *Page) Cancelled() <-chan struct{} { return p.cancelled }

// ConfirmTrust shows the trust question and waits for the answer.
func (p *Page) ConfirmTrust(ctx context.Context, server string) (bool, error) {
	q := &question[bool]{nonce: randomToken(16), ch: make(chan bool, 1), server: server}
	p.update(func() { p.trust = q })
	defer p.update(func() { p.trust = nil })
	select {
	case ok := <-q.ch:
		return ok, nil
	case <-p.cancelled:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// AskPIN shows the PIN form in req.Mode, with the problems of the previous answer, and
// waits for an answer the form accepts.
func (p *Page) AskPIN(ctx context.Context, req handoff.PINRequest) (handoff.PINAnswer, error) {
	mode := req.Mode
	if mode == "" {
		mode = handoff.PINChoose
	}
	q := &question[handoff.PINAnswer]{nonce: randomToken(16), ch: make(chan handoff.PINAnswer, 1)}
	p.update(func() {
		claim := req.Claim
		p.claim = &claim
		p.problems = req.Problems
		p.mode = mode
		p.pin = q
	})
	defer p.update(func() { p.pin = nil })
	select {
	case a := <-q.ch:
		return a, nil
	case <-p.cancelled:
		return handoff.PINAnswer{}, handoff.ErrCancelled
	case <-ctx.Done():
		return handoff.PINAnswer{}, ctx.Err()
	}
}

// Notify records a step of the enrolment for the progress and result views.
func (p *Page) Notify(ev handoff.Event) {
	p.update(func() {
		switch ev.Step {
		case handoff.StepClaimed:
			p.claim = ev.Claim
		case handoff.StepDone, handoff.StepFailed, handoff.StepCancelled:
			p.final = &ev
		}
		p.steps = append(p.steps, ev)
	})
}

// Wait blocks until the page's state changes or ctx ends; for tests and for clients
// that follow the page.
func (p *Page) Wait(ctx context.Context) {
	p.mu.Lock()
	ch := p.changed
	p.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

func (p *Page) update(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
	p.version++
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *Page) doCancel() {
	p.cancel.Do(func() { close(p.cancelled) })
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err)) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Cancel cancels the enrolment as the page's Cancel button does.
func (p *Page) Cancel() {
	p.doCancel()
	p.update(func() {})
}
