package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// TestAgent runs the agent as `vscard-bridge serve` does, on its control socket, with a
// private pcscd and a real vscard server, and drives it as `vscard-bridge open` and a
// browser on the PIN page would.
func TestAgent(t *testing.T) {
	env := pcsctest.Start(t, 2)
	srv := portaltest.Start(t)
	alice := srv.SignIn(t)

	var slots []Slot
	for _, r := range env.Readers {
		slots = append(slots, Slot{Addr: r.Addr, Reader: r.Name})
	}
	dataDir := t.TempDir()
	trust := handoff.NewTrustFile(filepath.Join(t.TempDir(), "bridge.yaml"))
	newAgent := func(t *testing.T) (*Agent, *Client) {
		a := startAgent(t, Config{DataDir: dataDir, Trust: trust, Slots: slots, Version: "test"})
		sock := filepath.Join(t.TempDir(), "run", "bridge.sock")
		ln, err := Listen(sock)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.Serve(ctx, ln); close(done) }()
		t.Cleanup(func() { cancel(); <-done; a.Close() })
		return a, NewClient(sock)
	}
	a, client := newAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var serial string
	t.Run("ok/enrol on the PIN page: trust, PIN, result", func(t *testing.T) {
		order, link := alice.StartOrder()
		var page string
		err := client.Enrol(ctx, EnrolRequest{URL: link}, func(m Message) bool {
			page = m.PINPage
			return false // like `open` without --wait: the page takes over
		})
		if err != nil || page == "" {
			t.Fatalf("Enrol: %v, page %q", err, page)
		}
		b := browser{t: t, page: page}
		st := b.waitFor(func(s pageState) bool { return s.Trust != nil })
		b.post("trust", map[string]any{"nonce": st.Trust.Nonce, "trust": true})
		st = b.waitFor(func(s pageState) bool { return s.PIN != nil && s.Claim != nil })
		if st.Claim.VerificationCode != order.VerificationCode {
			t.Errorf("PIN page shows verification code %q, want %s", st.Claim.VerificationCode, order.VerificationCode)
		}
		b.post("pin", map[string]any{"nonce": st.PIN.Nonce, "pin": "123456", "confirm": "123456"})
		st = b.waitFor(func(s pageState) bool {
			return s.PIN != nil && slices.ContainsFunc(s.PIN.Problems, func(p pageProblem) bool { return p.Code == "block_list" })
		})
		b.post("pin", map[string]any{"nonce": st.PIN.Nonce, "pin": "482915", "confirm": "482915"})
		st = b.waitFor(func(s pageState) bool { return s.Final != nil })
		if st.Final.Step != handoff.StepDone || st.Final.Result == nil {
			t.Fatalf("the run ended %+v", st.Final)
		}
		serial = st.Final.Result.Serial

		if ok, _ := trust.Trusted(srv.URL); !ok {
			t.Error("server not on the trusted list after trusting it on the page")
		}
		if got := alice.Next(order.ID).State; got != "COMPLETED" {
			t.Errorf("after Next: %s", got)
		}
		if st := alice.CardStatus(serial); st.State != "ACTIVE" || len(st.Certificates) != 2 {
			t.Errorf("card status %+v", st)
		}
		cards, err := client.Cards(ctx)
		if err != nil || len(cards) != 1 || cards[0].State != StateReady || cards[0].Reader != env.Readers[0].Name || len(cards[0].Certificates) != 2 {
			t.Errorf("cards %+v, %v", cards, err)
		}
		// A process that acts on this card finds it in its reader.
		n, _ := parseSerial(serial)
		if r, err := a.CardReader(n); err != nil || r != env.Readers[0].Name {
			t.Errorf("CardReader(%d) = %q, %v; want %q", n, r, err, env.Readers[0].Name)
		}
		if _, err := a.CardReader(n + 1); !errors.Is(err, vcard.ErrNotFound) {
			t.Errorf("CardReader of an unknown card: %v, want ErrNotFound", err)
		}
	})

	t.Run("ok/pin from the client, refused first, then ready", func(t *testing.T) {
		order, link := alice.StartOrder()
		pins := []string{"1111", "135790"}
		var problems [][]handoff.Problem
		var final *handoff.Event
		var id string
		err := client.Enrol(ctx, EnrolRequest{URL: link, ClientPIN: true}, func(m Message) bool {
			switch m.Type {
			case MsgStarted:
				id = m.ID
			case MsgPINNeeded:
				problems = append(problems, m.PINRequest.Problems)
				if err := client.SendPIN(ctx, id, handoff.PINAnswer{New: pins[0]}); err != nil {
					t.Errorf("SendPIN: %v", err)
				}
				pins = pins[1:]
			case MsgEvent:
				final = m.Event
			}
			return true
		})
		if err != nil || final == nil || final.Step != handoff.StepDone {
			t.Fatalf("Enrol: %v, last event %+v", err, final)
		}
		if len(problems) != 2 || len(problems[1]) < 2 {
			t.Errorf("problems %v: want none, then one per rule 1111 breaks", problems)
		}
		if final.Result.Reader != env.Readers[1].Name {
			t.Errorf("reader %q", final.Result.Reader)
		}
		if got := alice.Next(order.ID).State; got != "COMPLETED" {
			t.Errorf("after Next: %s", got)
		}
	})

	t.Run("error/no free reader fails the order and leaves nothing", func(t *testing.T) {
		order, link := alice.StartOrder()
		final := enrolWithPIN(t, ctx, client, link, "135790")
		if final.Step != handoff.StepFailed || !strings.Contains(final.Error, "virtual readers") {
			t.Fatalf("last event %+v", final)
		}
		if o := alice.Order(order.ID); o.State != "FAILED" || o.FailureReason == "" {
			t.Errorf("order %+v, want FAILED with a reason", o)
		}
		if cards, _ := client.Cards(ctx); len(cards) != 2 {
			t.Errorf("%d cards, want the 2 earlier ones", len(cards))
		}
	})

	t.Run("error/untrusted server refused without the page", func(t *testing.T) {
		a2 := handoff.NewTrustFile(filepath.Join(t.TempDir(), "empty.yaml"))
		old := a.cfg.Trust
		a.cfg.Trust = a2
		defer func() { a.cfg.Trust = old }()
		_, link := alice.StartOrder()
		final := enrolWithPIN(t, ctx, client, link, "135790")
		if final.Step != handoff.StepFailed || !strings.Contains(final.Error, "--trust") {
			t.Fatalf("last event %+v", final)
		}
	})

	t.Run("ok/cards survive a restart, delete removes one from its reader", func(t *testing.T) {
		// A second agent on the same data cannot open the cards while the first runs.
		a.Close()
		// pcscd must have seen the cards go before the next agent brings them back.
		env.WaitCard(t, 0, false)
		env.WaitCard(t, 1, false)
		_, client2 := newAgent(t)
		cards, err := client2.Cards(ctx)
		if err != nil || len(cards) != 2 || cards[0].Reader == "" || cards[1].Reader == "" {
			t.Fatalf("after restart: %+v, %v", cards, err)
		}
		readerIndex := func(name string) int {
			return slices.IndexFunc(env.Readers, func(r pcsctest.Reader) bool { return r.Name == name })
		}
		i := readerIndex(cards[0].Reader)
		// piv.Open leaks its exclusive connection when the card is still powering up, so
		// wait for pcscd to see the card first.
		env.WaitCard(t, i, true)
		// The card signs only after the PIN: the enrolment left it reset.
		yk := env.OpenPIV(t, i)
		if n, err := yk.Retries(); err != nil || n != 3 {
			t.Errorf("PIN retries %d, %v: the card is not reset", n, err)
		}
		yk.Close()

		if err := client2.DeleteCard(ctx, cards[0].Serial); err != nil {
			t.Fatal(err)
		}
		env.WaitCard(t, i, false) // fails the test if the reader still holds a card
		left, _ := client2.Cards(ctx)
		if len(left) != 1 || slices.ContainsFunc(left, func(c CardInfo) bool { return c.Serial == cards[0].Serial }) {
			t.Errorf("cards after delete: %+v", left)
		}
		if err := client2.DeleteCard(ctx, cards[0].Serial); !IsNotFound(err) {
			t.Errorf("deleting again: %v, want not found", err)
		}
	})
}

// enrolWithPIN runs a ClientPIN enrolment to its end and returns the last event.
func enrolWithPIN(t *testing.T, ctx context.Context, c *Client, link, pin string) *handoff.Event {
	t.Helper()
	var id string
	var last *handoff.Event
	err := c.Enrol(ctx, EnrolRequest{URL: link, ClientPIN: true}, func(m Message) bool {
		switch m.Type {
		case MsgStarted:
			id = m.ID
		case MsgPINNeeded:
			c.SendPIN(ctx, id, handoff.PINAnswer{New: pin})
		case MsgEvent:
			last = m.Event
		}
		return true
	})
	if err != nil || last == nil {
		t.Fatalf("Enrol: %v", err)
	}
	return last
}

// browser uses the PIN page as a browser does: same-origin form posts.
// pageState is the part of the PIN page's state (GET /<token>/state) this test reads.
type pageState struct {
	Version uint64 `json:"version"`
	Trust   *struct {
		Nonce string `json:"nonce"`
	} `json:"trust"`
	PIN *struct {
		Nonce    string        `json:"nonce"`
		Problems []pageProblem `json:"problems"`
	} `json:"pin"`
	Claim *struct {
		VerificationCode string `json:"verificationCode"`
	} `json:"claim"`
	Final *struct {
		Step   handoff.Step `json:"step"`
		Result *struct {
			Serial string `json:"serial"`
		} `json:"result"`
	} `json:"final"`
}

type pageProblem struct {
	Code handoff.Code `json:"code"`
}

// browser drives the PIN page through the JSON API its script uses.
type browser struct {
	t    *testing.T
	page string
}

func (b browser) state(after uint64) pageState {
	b.t.Helper()
	u := b.page + "state"
	if after > 0 {
		u += "?after=" + strconv.FormatUint(after, 10)
	}
	resp, err := http.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var s pageState
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		b.t.Fatalf("state %s: %v", resp.Status, err)
	}
	return s
}

// waitFor follows the state with the page's long poll until ok says it is there.
func (b browser) waitFor(ok func(pageState) bool) pageState {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	s := b.state(0)
	for !ok(s) {
		if time.Now().After(deadline) {
			b.t.Fatalf("the PIN page never got there: %+v", s)
		}
		s = b.state(s.Version)
	}
	return s
}

func (b browser) post(action string, body map[string]any) {
	b.t.Helper()
	u, _ := url.Parse(b.page)
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, b.page+action, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("POST %s: %s", action, resp.Status)
	}
}
