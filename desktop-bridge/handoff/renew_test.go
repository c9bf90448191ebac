package handoff

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/servertest"
)

// TestRenewAndAddCertificates runs the two card processes that issue to a card this
// desktop has, through a real server, a private pcscd and vpcd: after an administrator
// turns on encryption the card gets a 9D certificate without a new card; a renewal then
// puts new 9A and 9C keys and certificates on the same card, the old ones revoked as
// superseded, 9D kept; and a renewal that fails after the swap on the card leaves the card
// working with what it had, the new certificates revoked.
func TestRenewAndAddCertificates(t *testing.T) {
	env := pcsctest.Start(t, 1)
	srv := portaltest.Start(t)
	alice := srv.SignIn(t)
	host := newTestHost(t, env)
	trust := &memTrust{}
	trust.Trust(srv.URL)
	var httpClient *http.Client
	run := func(t *testing.T, link string, handlers Registry, pins ...string) (*Result, *scriptedPrompter, error) {
		t.Helper()
		h, err := ParseLink(link)
		if err != nil {
			t.Fatal(err)
		}
		p := newPrompter(false, pins...)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := Run(ctx, Config{
			Trust: trust, Prompter: p, Cards: host, Host: "test-host", Version: "test",
			Logger: testLogger(t), Handlers: handlers, HTTPClient: httpClient,
		}, h)
		return res, p, err
	}

	o, link := alice.StartOrder()
	card, _, err := run(t, link, nil, goodPIN)
	if err != nil {
		t.Fatal(err)
	}
	alice.Next(o.ID)
	n, _ := strconv.ParseUint(card.Serial, 10, 32)
	serial := uint32(n)
	// valid is the card's certificates the server has as VALID, serial by slot.
	valid := func() map[string]string {
		out := map[string]string{}
		for _, c := range alice.CardStatus(card.Serial).Certificates {
			if c.State == "VALID" {
				out[c.Slot] = c.Serial
			}
		}
		return out
	}
	// onCard is the certificate serial in each slot of the card, as PC/SC reads it.
	onCard := func(t *testing.T) map[string]string {
		t.Helper()
		host.ResetCard(serial)
		yk, err := piv.Open(card.Reader)
		if err != nil {
			t.Fatal(err)
		}
		defer yk.Close()
		out := map[string]string{}
		for name, slot := range map[string]piv.Slot{"9A": piv.SlotAuthentication, "9C": piv.SlotSignature, "9D": piv.SlotKeyManagement} {
			if c, err := yk.Certificate(slot); err == nil {
				out[name] = c.SerialNumber.Text(16)
			}
		}
		return out
	}
	first := valid()
	if len(first) != 2 {
		t.Fatalf("new card: %v, want 9A and 9C", first)
	}

	// Not offered while the card has all the script asks for.
	var none struct {
		Processes []struct{ Name, UnavailableReason string }
	}
	if err := alice.TryGraphQL(`mutation($n: String!, $c: ID) { startProcess(name: $n, card: $c) { id } }`,
		map[string]any{"n": IssueCertificates, "c": cardID(t, alice, card.Serial)}, &none); err == nil {
		t.Fatal("add certificates started on a card that has every certificate")
	}

	// An administrator turns on encryption.
	admin := srv.Env.SignIn(t, servertest.Admin)
	script := strings.Replace(options.DefaultScript, "ENCRYPTION: None", "ENCRYPTION: ECCP256", 1)
	if script == options.DefaultScript {
		t.Fatal("the default script no longer reads ENCRYPTION: None")
	}
	admin.MustDo(t, `mutation($s: String!) { updateOptionScript(source: $s) { name } }`, map[string]any{"s": script}, nil)

	t.Run("ok/add the encryption certificate the script now asks for", func(t *testing.T) {
		o, link := alice.StartOnCard(IssueCertificates, card.Serial)
		res, p, err := run(t, link, nil, "000000", goodPIN) // a wrong PIN first
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := alice.Order(o.ID); got.State != "COMPLETED" {
			t.Fatalf("order %s (%s)", got.State, got.FailureReason)
		}
		if len(p.asked) != 2 || p.asked[0].Mode != PINVerify || len(p.asked[1].Problems) != 1 || p.asked[1].Problems[0].Code != ProblemCurrentWrong {
			t.Fatalf("questions %+v", p.asked)
		}
		now := valid()
		if len(res.Certificates) != 1 || res.Certificates[0].Slot != "9D" || now["9D"] != res.Certificates[0].Serial {
			t.Fatalf("issued %+v; server has %v", res.Certificates, now)
		}
		if now["9A"] != first["9A"] || now["9C"] != first["9C"] {
			t.Errorf("adding 9D changed the other certificates: %v, was %v", now, first)
		}
		if got := onCard(t); got["9D"] != now["9D"] || got["9A"] != first["9A"] {
			t.Errorf("card holds %v, server %v", got, now)
		}
	})

	t.Run("ok/renew: new 9A and 9C on the same card, 9D kept, old superseded", func(t *testing.T) {
		before := valid()
		o, link := alice.StartOnCard(RenewCard, card.Serial)
		res, _, err := run(t, link, nil, goodPIN)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := alice.Order(o.ID); got.State != "COMPLETED" {
			t.Fatalf("order %s (%s)", got.State, got.FailureReason)
		}
		now := valid()
		if len(res.Certificates) != 2 || now["9A"] == before["9A"] || now["9C"] == before["9C"] || now["9D"] != before["9D"] {
			t.Fatalf("after renewal %v, before %v", now, before)
		}
		for _, c := range alice.CardStatus(card.Serial).Certificates {
			if (c.Serial == before["9A"] || c.Serial == before["9C"]) && c.State != "REVOKED" {
				t.Errorf("old %s certificate is %s", c.Slot, c.State)
			}
		}
		if got := onCard(t); got["9A"] != now["9A"] || got["9C"] != now["9C"] || got["9D"] != now["9D"] {
			t.Errorf("card holds %v, server %v", got, now)
		}
		// The new key is in 9A and takes the same PIN; nothing waits in the retired slots.
		if err := signWith(host, serial, card.Reader, goodPIN); err != nil {
			t.Fatalf("sign with the renewed card: %v", err)
		}
		assertNoRetiredKeys(t, host, serial, card.Reader)
	})

	t.Run("ok/a confirmation whose answer is lost keeps the new keys the server completed with", func(t *testing.T) {
		before := valid()
		o, link := alice.StartOnCard(RenewCard, card.Serial)
		lose := &loseAnswer{next: http.DefaultTransport, match: "confirmCardReady"}
		httpClient = &http.Client{Transport: lose}
		defer func() { httpClient = nil }()
		if _, _, err := run(t, link, nil, goodPIN); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if !lose.lost.Load() {
			t.Fatal("no answer was lost")
		}
		if got := alice.Order(o.ID); got.State != "COMPLETED" {
			t.Fatalf("order %s", got.State)
		}
		now := valid()
		if now["9A"] == before["9A"] {
			t.Fatalf("not renewed: %v", now)
		}
		if got := onCard(t); got["9A"] != now["9A"] || got["9C"] != now["9C"] {
			t.Errorf("card holds %v, server %v", got, now)
		}
		if err := signWith(host, serial, card.Reader, goodPIN); err != nil {
			t.Fatalf("sign with the renewed card: %v", err)
		}
	})

	t.Run("error/a renewal that fails after the swap leaves the card as it was", func(t *testing.T) {
		before := valid()
		o, link := alice.StartOnCard(RenewCard, card.Serial)
		failing := Registry{RenewCard: func() Handler {
			return &issueToCard{aside: true, afterSwap: func(context.Context) error {
				return errors.New("the network went away")
			}}
		}}
		_, _, err := run(t, link, failing, goodPIN)
		if err == nil {
			t.Fatal("Run succeeded")
		}
		if got := alice.Order(o.ID); got.State != "FAILED" {
			t.Fatalf("order %s", got.State)
		}
		if now := valid(); now["9A"] != before["9A"] || now["9C"] != before["9C"] || now["9D"] != before["9D"] {
			t.Fatalf("server has %v, before %v", now, before)
		}
		if got := onCard(t); got["9A"] != before["9A"] || got["9C"] != before["9C"] || got["9D"] != before["9D"] {
			t.Errorf("card holds %v, want %v", got, before)
		}
		if err := signWith(host, serial, card.Reader, goodPIN); err != nil {
			t.Fatalf("the card no longer signs with its old key: %v", err)
		}
		assertNoRetiredKeys(t, host, serial, card.Reader)
	})
}

// cardID is the id of the person's card serial.
func cardID(t *testing.T, p *portaltest.Portal, serial string) string {
	t.Helper()
	var c struct{ Card struct{ ID string } }
	p.GraphQL(`query($s: String!) { card(serial: $s) { id } }`, map[string]any{"s": serial}, &c)
	return c.Card.ID
}

// assertNoRetiredKeys fails if a staging or backup slot of a renewal still holds a key.
func assertNoRetiredKeys(t *testing.T, host *testHost, serial uint32, reader string) {
	t.Helper()
	host.ResetCard(serial)
	yk, err := piv.Open(reader)
	if err != nil {
		t.Fatal(err)
	}
	defer yk.Close()
	for _, m := range []map[string]byte{stagingSlot, backupSlot} {
		for name, ref := range m {
			slot, _ := piv.RetiredKeyManagementSlot(uint32(ref))
			if _, err := yk.KeyInfo(slot); err == nil {
				t.Errorf("retired slot %02X (for %s) still holds a key", ref, name)
			}
		}
	}
}

// loseAnswer passes requests on and loses the answer to the first whose body holds match,
// as a connection that breaks after the server committed would.
type loseAnswer struct {
	next  http.RoundTripper
	match string
	lost  atomic.Bool
}

func (l *loseAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || l.lost.Load() {
		return l.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := l.next.RoundTrip(r)
	if err == nil && bytes.Contains(body, []byte(l.match)) && l.lost.CompareAndSwap(false, true) {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	return resp, err
}
