package pinpage

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/server/cardspec"
)

const host = "127.0.0.1:43210"

func testPage(t *testing.T) *Page {
	return newPage(host, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// do sends a request to the page's handler as a browser on the page would.
func do(p *Page, method, path string, form url.Values, mod func(*http.Request)) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "http://"+host+path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
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

var nonceRE = regexp.MustCompile(`name="q" value="([^"]+)"`)

// waitFor polls the page until its HTML contains want.
func waitFor(t *testing.T, p *Page, want string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		body := do(p, http.MethodGet, "/"+p.token+"/", nil, nil).Body.String()
		if strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("page never showed %q:\n%s", want, body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		p.Wait(ctx)
		cancel()
	}
}

func nonce(t *testing.T, body string) string {
	t.Helper()
	m := nonceRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no nonce in:\n%s", body)
	}
	return m[1]
}

var claim = handoff.ClaimInfo{
	Server: "https://cards.example.com", UserName: "Alice Example", VerificationCode: "K7Q-4MX",
	PINPolicy: cardspec.PINPolicy{MinLength: 6, MaxLength: 8, Upper: cardspec.Disallowed, Lower: cardspec.Disallowed,
		Digits: cardspec.Required, Special: cardspec.Disallowed},
	Rules: []string{"6 to 8 characters.", "Digits: at least one."},
}

func TestPINFlow(t *testing.T) {
	p := testPage(t)
	base := "/" + p.token + "/"

	trusted := make(chan bool)
	go func() {
		ok, _ := p.ConfirmTrust(context.Background(), "https://cards.example.com")
		trusted <- ok
	}()
	body := waitFor(t, p, "Trust this server?")
	if w := do(p, http.MethodPost, base+"trust", url.Values{"q": {nonce(t, body)}, "answer": {"trust"}}, nil); w.Code != http.StatusSeeOther {
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
	body = waitFor(t, p, "Choose your PIN")
	for _, want := range []string{"K7Q-4MX", "Alice Example", "Digits: at least one.", `inputmode="numeric"`, `minlength="6"`} {
		if !strings.Contains(body, want) {
			t.Errorf("PIN form lacks %q", want)
		}
	}

	// Two different PINs: the page says so and keeps asking.
	do(p, http.MethodPost, base+"pin", url.Values{"q": {nonce(t, body)}, "pin": {"135790"}, "confirm": {"135791"}}, nil)
	body = waitFor(t, p, "not the same")
	select {
	case pin := <-pins:
		t.Fatalf("mismatched PINs were passed on: %q", pin)
	default:
	}
	do(p, http.MethodPost, base+"pin", url.Values{"q": {nonce(t, body)}, "pin": {"135790"}, "confirm": {"135790"}}, nil)
	if pin := <-pins; pin != "135790" {
		t.Fatalf("got PIN %q", pin)
	}

	// The policy refused it: each problem is shown.
	ask([]handoff.Problem{{Code: "block_list", Message: "This PIN is too common."}, {Code: "letters", Message: "The PIN must not contain letters."}})
	body = waitFor(t, p, "This PIN is too common.")
	if !strings.Contains(body, "The PIN must not contain letters.") || !strings.Contains(body, `data-code="letters"`) {
		t.Error("second problem not shown with its code")
	}
	old := nonce(t, body)
	do(p, http.MethodPost, base+"pin", url.Values{"q": {old}, "pin": {"482915"}, "confirm": {"482915"}}, nil)
	if pin := <-pins; pin != "482915" {
		t.Fatalf("got PIN %q", pin)
	}
	if strings.Contains(do(p, http.MethodGet, base, nil, nil).Body.String(), "482915") {
		t.Error("the page shows the PIN")
	}

	p.Notify(handoff.Event{Step: handoff.StepClaimed, Claim: &claim})
	p.Notify(handoff.Event{Step: handoff.StepPINAccepted})
	body = waitFor(t, p, "PIN meets the rules")
	if !strings.Contains(body, `http-equiv="refresh"`) {
		t.Error("progress view does not refresh")
	}
	p.Notify(handoff.Event{Step: handoff.StepDone, Result: &handoff.Result{
		Serial: "12345678", UserName: "Alice Example", Reader: "Virtual PCD 00 00",
		Certificates: []handoff.Certificate{{Slot: "9A", Template: "AUTHENTICATION", Subject: "CN=Alice Example"}},
	}})
	body = waitFor(t, p, "is ready")
	for _, want := range []string{"12345678", "Virtual PCD 00 00", "CN=Alice Example", "click <strong>Next</strong>"} {
		if !strings.Contains(body, want) {
			t.Errorf("result lacks %q", want)
		}
	}
}

func TestCancel(t *testing.T) {
	p := testPage(t)
	errc := make(chan error)
	go func() {
		_, err := p.AskPIN(context.Background(), handoff.PINRequest{Claim: claim})
		errc <- err
	}()
	waitFor(t, p, "Choose your PIN")
	do(p, http.MethodPost, "/"+p.token+"/cancel", url.Values{}, nil)
	if err := <-errc; !errors.Is(err, handoff.ErrCancelled) {
		t.Fatalf("AskPIN: %v, want ErrCancelled", err)
	}
	select {
	case <-p.Cancelled():
	default:
		t.Error("Cancelled not closed")
	}
}

// TestRefusals checks that nothing but the page itself gets an answer.
func TestRefusals(t *testing.T) {
	p := testPage(t)
	pins := make(chan string, 1)
	go func() {
		a, _ := p.AskPIN(context.Background(), handoff.PINRequest{Claim: claim})
		pins <- a.New
	}()
	body := waitFor(t, p, "Choose your PIN")
	form := url.Values{"q": {nonce(t, body)}, "pin": {"482915"}, "confirm": {"482915"}}
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
		{"error/token without slash", http.MethodGet, "/" + p.token, nil, http.StatusNotFound},
		{"error/rebound host name", http.MethodGet, base, func(r *http.Request) { r.Host = "evil.example:43210" }, http.StatusMisdirectedRequest},
		{"error/localhost is another origin", http.MethodGet, base, func(r *http.Request) { r.Host = "localhost:43210" }, http.StatusMisdirectedRequest},
		{"error/post from another page", http.MethodPost, base + "pin", func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, http.StatusForbidden},
		{"error/post without origin", http.MethodPost, base + "pin", func(r *http.Request) { r.Header.Del("Origin") }, http.StatusForbidden},
		{"error/cross-site fetch", http.MethodPost, base + "pin", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden},
		{"error/cancel from another page", http.MethodPost, base + "cancel", func(r *http.Request) { r.Header.Set("Origin", "null") }, http.StatusForbidden},
		{"error/GET a form target", http.MethodGet, base + "pin", nil, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f url.Values
			if tt.method == http.MethodPost {
				f = form
			}
			w := do(p, tt.method, tt.path, f, tt.mod)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
		})
	}
	t.Run("error/stale nonce", func(t *testing.T) {
		stale := url.Values{"q": {"stale"}, "pin": {"482915"}, "confirm": {"482915"}}
		if w := do(p, http.MethodPost, base+"pin", stale, nil); w.Code != http.StatusSeeOther {
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
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("CSP %q", csp)
		}
		if w.Header().Get("Cache-Control") != "no-store" || strings.Contains(w.Body.String(), "<script") {
			t.Error("page may be cached or has a script")
		}
		// Under no-referrer a browser sends "Origin: null" with the form post, which the
		// origin check refuses: nobody could submit a PIN.
		if rp := w.Header().Get("Referrer-Policy"); rp != "same-origin" || strings.Contains(w.Body.String(), "no-referrer") {
			t.Errorf("Referrer-Policy %q; the page's own form posts must keep their Origin", rp)
		}
	})
}

func TestStartServesOnLoopback(t *testing.T) {
	p, err := Start(Options{})
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
