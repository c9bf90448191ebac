package pinpage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/server/cardspec"
)

const host = "127.0.0.1:43210"

// builtPage stands in for the portal's build: the entry, the manifest and what it names.
var builtPage = fstest.MapFS{
	"pinpage.html": {Data: []byte(`<!doctype html><script type="module" src="/assets/pinpage-abc.js"></script>`)},
	".vite/manifest.json": {Data: []byte(`{"pinpage.html":{"file":"assets/pinpage-abc.js","css":["assets/pinpage-abc.css"],"imports":["_shared.js"]},` +
		`"_shared.js":{"file":"assets/shared-def.js"},"index.html":{"file":"assets/index-xyz.js"}}`)},
	"assets/pinpage-abc.js":  {Data: []byte("console.log(1)")},
	"assets/pinpage-abc.css": {Data: []byte("body{}")},
	"assets/shared-def.js":   {Data: []byte("export{}")},
	"assets/index-xyz.js":    {Data: []byte("the portal")},
}

// logs collects what the page logs, to check that no PIN is in it.
var logs bytes.Buffer

func testPage(t *testing.T) *Page {
	p := newPage(host, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	p.files = builtPage
	return p
}

// do sends a request to the page's handler as the page's script would.
func do(p *Page, method, path string, body any, mod func(*http.Request)) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	r := httptest.NewRequest(method, "http://"+host+path, rd)
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Origin", "http://"+host)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if mod != nil {
		mod(r)
	}
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	return w
}

func decode(t *testing.T, w *httptest.ResponseRecorder) state {
	t.Helper()
	var s state
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatalf("state %d %q: %v", w.Code, w.Body.String(), err)
	}
	return s
}

// waitFor follows the state with the page's own long poll until ok says it is there.
func waitFor(t *testing.T, p *Page, ok func(state) bool) state {
	t.Helper()
	s := decode(t, do(p, http.MethodGet, "/"+p.token+"/state", nil, nil))
	for !ok(s) {
		s = decode(t, do(p, http.MethodGet, "/"+p.token+"/state?after="+strconv.FormatUint(s.Version, 10), nil, nil))
	}
	return s
}

func asking(mode handoff.PINMode) func(state) bool {
	return func(s state) bool { return s.PIN != nil && s.Mode == mode }
}

var claim = handoff.ClaimInfo{
	Server: "https://cards.example.com", UserName: "Alice Example", VerificationCode: "K7Q-4MX",
	PINPolicy: cardspec.PINPolicy{MinLength: 6, MaxLength: 8, Upper: cardspec.Disallowed, Lower: cardspec.Disallowed,
		Digits: cardspec.Required, Special: cardspec.Disallowed},
	Rules: []string{"6 to 8 characters.", "Digits: at least one."},
}

func codes(s state) []handoff.Code {
	var c []handoff.Code
	if s.PIN != nil {
		for _, pr := range s.PIN.Problems {
			c = append(c, pr.Code)
		}
	}
	return c
}

func TestPINFlow(t *testing.T) {
	p := testPage(t)
	base := "/" + p.token + "/"

	trusted := make(chan bool)
	go func() {
		ok, _ := p.ConfirmTrust(context.Background(), "https://cards.example.com")
		trusted <- ok
	}()
	s := waitFor(t, p, func(s state) bool { return s.Trust != nil })
	if s.Trust.Server != "https://cards.example.com" {
		t.Errorf("trust question about %q", s.Trust.Server)
	}
	if w := do(p, http.MethodPost, base+"trust", answer{Nonce: s.Trust.Nonce, Trust: true}, nil); w.Code != http.StatusOK {
		t.Fatalf("trust: %d", w.Code)
	}
	if !<-trusted {
		t.Fatal("trust answer lost")
	}

	pins := make(chan string)
	ask := func(problems []handoff.Problem) {
		go func() {
			a, err := p.AskPIN(context.Background(), handoff.PINRequest{Claim: claim, Problems: problems})
			pin := a.New
			if err != nil {
				pin = "error: " + err.Error()
			}
			pins <- pin
		}()
	}
	ask(nil)
	s = waitFor(t, p, asking(handoff.PINChoose))
	if s.Claim == nil || s.Claim.VerificationCode != "K7Q-4MX" || s.Claim.UserName != "Alice Example" || s.Claim.Policy.MaxLength != 8 {
		t.Errorf("claim %+v", s.Claim)
	}

	// Two different PINs: the state says so as a code, and the form stays open.
	s = decode(t, do(p, http.MethodPost, base+"pin", answer{Nonce: s.PIN.Nonce, PIN: "135790", Confirm: "135791"}, nil))
	if got := codes(s); len(got) != 1 || got[0] != handoff.ProblemMismatch {
		t.Errorf("problems %v", got)
	}
	select {
	case pin := <-pins:
		t.Fatalf("mismatched PINs were passed on: %q", pin)
	default:
	}
	// Too long: refused with its code, not cut.
	s = decode(t, do(p, http.MethodPost, base+"pin", answer{Nonce: s.PIN.Nonce, PIN: "135790246", Confirm: "135790246"}, nil))
	if got := codes(s); len(got) != 1 || got[0] != "max_length" {
		t.Errorf("problems %v", got)
	}
	do(p, http.MethodPost, base+"pin", answer{Nonce: s.PIN.Nonce, PIN: "135790", Confirm: "135790"}, nil)
	if pin := <-pins; pin != "135790" {
		t.Fatalf("got PIN %q", pin)
	}

	// The run refused it: each problem is there, as a code.
	ask([]handoff.Problem{{Code: "block_list", Message: "This PIN is too common."}, {Code: "letters", Message: "The PIN must not contain letters."}})
	s = waitFor(t, p, func(s state) bool { return len(codes(s)) == 2 })
	if got := codes(s); got[0] != "block_list" || got[1] != "letters" {
		t.Errorf("problems %v", got)
	}
	w := do(p, http.MethodPost, base+"pin", answer{Nonce: s.PIN.Nonce, PIN: "482915", Confirm: "482915"}, nil)
	if pin := <-pins; pin != "482915" {
		t.Fatalf("got PIN %q", pin)
	}
	if strings.Contains(w.Body.String(), "482915") || strings.Contains(do(p, http.MethodGet, base+"state", nil, nil).Body.String(), "482915") {
		t.Error("a response holds the PIN")
	}

	p.Notify(handoff.Event{Step: handoff.StepClaimed, Claim: &claim})
	p.Notify(handoff.Event{Step: handoff.StepPINAccepted})
	s = waitFor(t, p, func(s state) bool { return len(s.Steps) == 2 })
	if s.Steps[1] != handoff.StepPINAccepted || s.PIN != nil || s.Final != nil {
		t.Errorf("progress %+v", s)
	}
	p.Notify(handoff.Event{Step: handoff.StepDone, Result: &handoff.Result{
		Serial: "12345678", UserName: "Alice Example", Reader: "Virtual PCD 00 00",
		Certificates: []handoff.Certificate{{Slot: "9A", Template: "AUTHENTICATION", Subject: "CN=Alice Example", PEM: "-----BEGIN"}},
	}})
	s = waitFor(t, p, func(s state) bool { return s.Final != nil })
	if r := s.Final.Result; s.Final.Step != handoff.StepDone || r == nil || r.Serial != "12345678" || len(r.Certificates) != 1 {
		t.Fatalf("final %+v", s.Final)
	}
	// Jargon stays out: no reader name, slot or PEM for a person.
	body := do(p, http.MethodGet, base+"state", nil, nil).Body.String()
	for _, jargon := range []string{"Virtual PCD", "9A", "BEGIN"} {
		if strings.Contains(body, jargon) {
			t.Errorf("state shows %q", jargon)
		}
	}
	for _, pin := range []string{"135790", "482915", "135791"} {
		if strings.Contains(logs.String(), pin) {
			t.Errorf("the log holds a PIN: %s", logs.String())
		}
	}
}

// TestPortalCancelNoticed: while the form waits for a PIN, an order cancelled in the
// portal ends the run (the runner cancels AskPIN's context and reports StepCancelled);
// the page's long poll returns with it at once, nothing submitted.
func TestPortalCancelNoticed(t *testing.T) {
	p := testPage(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := p.AskPIN(ctx, handoff.PINRequest{Claim: claim})
		errc <- err
	}()
	s := waitFor(t, p, asking(handoff.PINChoose))
	polled := make(chan state)
	go func() {
		polled <- decode(t, do(p, http.MethodGet, "/"+p.token+"/state?after="+strconv.FormatUint(s.Version, 10), nil, nil))
	}()
	// What handoff.Run does when the server says the order ended.
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("AskPIN: %v", err)
	}
	p.Notify(handoff.Event{Step: handoff.StepCancelled, Code: handoff.CodeOrderEnded, Error: "words"})
	s = <-polled
	s = waitFor(t, p, func(s state) bool { return s.Final != nil })
	if s.Final.Step != handoff.StepCancelled || s.Final.Code != handoff.CodeOrderEnded || s.PIN != nil {
		t.Errorf("final %+v, form %+v", s.Final, s.PIN)
	}
	if strings.Contains(do(p, http.MethodGet, "/"+p.token+"/state", nil, nil).Body.String(), "words") {
		t.Error("the state carries the Desktop App's English words instead of the code")
	}
}

func TestCancel(t *testing.T) {
	p := testPage(t)
	errc := make(chan error)
	go func() {
		_, err := p.AskPIN(context.Background(), handoff.PINRequest{Claim: claim})
		errc <- err
	}()
	waitFor(t, p, asking(handoff.PINChoose))
	if w := do(p, http.MethodPost, "/"+p.token+"/cancel", struct{}{}, nil); w.Code != http.StatusOK {
		t.Fatalf("cancel: %d", w.Code)
	}
	if err := <-errc; !errors.Is(err, handoff.ErrCancelled) {
		t.Fatalf("AskPIN: %v, want ErrCancelled", err)
	}
	select {
	case <-p.Cancelled():
	default:
		t.Error("Cancelled not closed")
	}
}

// TestRefusals checks that nothing but the page itself gets an answer, and that only
// the page's own files are served.
func TestRefusals(t *testing.T) {
	p := testPage(t)
	pins := make(chan string, 1)
	go func() {
		a, _ := p.AskPIN(context.Background(), handoff.PINRequest{Claim: claim})
		pins <- a.New
	}()
	s := waitFor(t, p, asking(handoff.PINChoose))
	body := answer{Nonce: s.PIN.Nonce, PIN: "482915", Confirm: "482915"}
	base := "/" + p.token + "/"

	tests := []struct {
		name   string
		method string
		path   string
		mod    func(*http.Request)
		status int
	}{
		{"error/no token", http.MethodGet, "/", nil, http.StatusNotFound},
		{"error/wrong token", http.MethodGet, "/" + strings.Repeat("A", 43) + "/", nil, http.StatusNotFound},
		{"error/state with wrong token", http.MethodGet, "/" + strings.Repeat("A", 43) + "/state", nil, http.StatusNotFound},
		{"error/token without slash", http.MethodGet, "/" + p.token, nil, http.StatusNotFound},
		{"error/rebound host name", http.MethodGet, base, func(r *http.Request) { r.Host = "evil.example:43210" }, http.StatusMisdirectedRequest},
		{"error/rebound host name asks state", http.MethodGet, base + "state", func(r *http.Request) { r.Host = "evil.example:43210" }, http.StatusMisdirectedRequest},
		{"error/localhost is another origin", http.MethodGet, base, func(r *http.Request) { r.Host = "localhost:43210" }, http.StatusMisdirectedRequest},
		{"error/post from another page", http.MethodPost, base + "pin", func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, http.StatusForbidden},
		{"error/post without origin", http.MethodPost, base + "pin", func(r *http.Request) { r.Header.Del("Origin") }, http.StatusForbidden},
		{"error/cross-site fetch", http.MethodPost, base + "pin", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden},
		{"error/cancel from another page", http.MethodPost, base + "cancel", func(r *http.Request) { r.Header.Set("Origin", "null") }, http.StatusForbidden},
		{"error/a form post", http.MethodPost, base + "pin", func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, http.StatusUnsupportedMediaType},
		{"error/GET a target", http.MethodGet, base + "pin", nil, http.StatusMethodNotAllowed},
		{"error/the portal's own script", http.MethodGet, "/assets/index-xyz.js", nil, http.StatusNotFound},
		{"error/the manifest", http.MethodGet, "/assets/../.vite/manifest.json", nil, http.StatusNotFound},
		{"ok/the page's script", http.MethodGet, "/assets/pinpage-abc.js", nil, http.StatusOK},
		{"ok/its import", http.MethodGet, "/assets/shared-def.js", nil, http.StatusOK},
		{"ok/its style", http.MethodGet, "/assets/pinpage-abc.css", nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b any
			if tt.method == http.MethodPost {
				b = body
			}
			w := do(p, tt.method, tt.path, b, tt.mod)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
		})
	}
	t.Run("error/stale nonce", func(t *testing.T) {
		stale := answer{Nonce: "stale", PIN: "482915", Confirm: "482915"}
		if w := do(p, http.MethodPost, base+"pin", stale, nil); w.Code != http.StatusOK {
			t.Errorf("status %d", w.Code)
		}
	})
	select {
	case pin := <-pins:
		t.Fatalf("a refused request set the PIN %q", pin)
	case <-p.Cancelled():
		t.Fatal("a refused request cancelled")
	default:
	}
	t.Run("ok/headers", func(t *testing.T) {
		w := do(p, http.MethodGet, base, nil, nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "/assets/pinpage-abc.js") {
			t.Fatalf("page %d %q", w.Code, w.Body.String())
		}
		csp := w.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "form-action 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
			t.Errorf("CSP %q lets in other scripts", csp)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Error("page may be cached")
		}
		// Under no-referrer a browser may send "Origin: null" with the page's POSTs,
		// which the origin check refuses: nobody could submit a PIN.
		if rp := w.Header().Get("Referrer-Policy"); rp != "same-origin" {
			t.Errorf("Referrer-Policy %q; the page's own posts must keep their Origin", rp)
		}
	})
}

func TestNotBuilt(t *testing.T) {
	p := testPage(t)
	p.files = fstest.MapFS{}
	w := do(p, http.MethodGet, "/"+p.token+"/", nil, nil)
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "npm") {
		t.Errorf("%d %q", w.Code, w.Body.String())
	}
}

func TestStartServesOnLoopback(t *testing.T) {
	p, err := Start(Options{Files: builtPage})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	u, _ := url.Parse(p.URL())
	if u.Hostname() != "127.0.0.1" || len(strings.Trim(u.Path, "/")) < 40 {
		t.Fatalf("URL %s", p.URL())
	}
	resp, err := http.Get(p.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
}
