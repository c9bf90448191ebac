package agent

import (
	"context"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/viewer"
)

// TestCardLeavesWhenRevoked: on a desktop with one virtual reader, a card revoked in the
// portal leaves the desktop (the agent follows it over cardUpdated), its reader is free
// again, and the next order gets a card into it. Before that, a contact reports the
// card's PIN state and a queued PIN change, proved with the card's management key.
func TestCardLeavesWhenRevoked(t *testing.T) {
	env := pcsctest.Start(t, 1)
	srv := portaltest.Start(t)
	alice := srv.SignIn(t)
	slots := []Slot{{Addr: env.Readers[0].Addr, Reader: env.Readers[0].Name}}
	dataDir := t.TempDir()
	removed := make(chan uint32, 4)
	a := startAgent(t, Config{
		DataDir: dataDir, Slots: slots, Version: "test",
		SyncInterval: -1, // only the subscription and contacts
		OnRemoved:    func(serial uint32, _ string) { removed <- serial },
	})
	sock := filepath.Join(t.TempDir(), "run", "bridge.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { a.Serve(sctx, ln); close(served) }()
	t.Cleanup(func() { stop(); <-served; a.Close() })
	client := NewClient(sock)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	enrol := func() string {
		t.Helper()
		order, link := alice.StartOrder()
		var id string
		var last *handoff.Event
		err := client.Enrol(ctx, EnrolRequest{URL: link, ClientPIN: true, Trust: true}, func(m Message) bool {
			switch m.Type {
			case MsgStarted:
				id = m.ID
			case MsgPINNeeded:
				_ = client.SendPIN(ctx, id, handoff.PINAnswer{New: "482915"})
			case MsgEvent:
				last = m.Event
			}
			return true
		})
		if err != nil || last == nil || last.Step != handoff.StepDone {
			t.Fatalf("enrol: %v, last event %+v", err, last)
		}
		if got := alice.Next(order.ID).State; got != "COMPLETED" {
			t.Fatalf("after Next: %s", got)
		}
		return last.Result.Serial
	}

	first := enrol()
	n, _ := strconv.ParseUint(first, 10, 32)
	serial := uint32(n)

	// The card's record keeps the PIN policy the server gave at issuance, for a PIN
	// chosen without the portal.
	policyOf := func() *cardspec.PINPolicy {
		t.Helper()
		cards, err := client.Cards(ctx)
		if err != nil || len(cards) != 1 {
			t.Fatalf("cards = %+v, %v", cards, err)
		}
		return cards[0].PINPolicy
	}
	issued := policyOf()
	if issued == nil || issued.MinLength < 6 || issued.RetryCount == 0 {
		t.Fatalf("PIN policy kept at issuance: %+v", issued)
	}
	// A policy the record holds that is not the server's now is replaced at the next sync.
	rec, _ := a.recs.load(serial)
	rec.PINPolicy = &cardspec.PINPolicy{MinLength: 8, MaxLength: 8}
	if err := a.recs.save(rec); err != nil {
		t.Fatal(err)
	}

	// A PIN change made with `vscard-bridge pin change` goes to the server with the PIN
	// state, proved by the card.
	sent, err := client.ReportPINChange(ctx, serial, PINChangeReport{Result: api.PinChangeResultWrongPin, At: time.Now()})
	if err != nil || !sent {
		t.Fatalf("report PIN change: sent %v, %v", sent, err)
	}
	var c struct {
		Card struct {
			PinState *struct{ TriesLeft int }
		}
	}
	alice.GraphQL(`query($s: String!) { card(serial: $s) { pinState { triesLeft } } }`, map[string]any{"s": first}, &c)
	if c.Card.PinState == nil || c.Card.PinState.TriesLeft != 3 {
		t.Errorf("server's PIN state %+v, want 3 tries left", c.Card.PinState)
	}
	if q, _ := a.pending.load(serial); len(q) != 0 {
		t.Errorf("%d PIN changes still queued after the server took them", len(q))
	}
	if got := policyOf(); got == nil || !reflect.DeepEqual(*got, *issued) {
		t.Errorf("PIN policy after a sync %+v, want the server's %+v", got, issued)
	}

	// The one reader is taken: a second order is refused before the PIN is asked.
	order, link := alice.StartOrder()
	asked := false
	var last *handoff.Event
	err = client.Enrol(ctx, EnrolRequest{URL: link, ClientPIN: true, Trust: true}, func(m Message) bool {
		asked = asked || m.Type == MsgPINNeeded
		if m.Type == MsgEvent {
			last = m.Event
		}
		return true
	})
	if err != nil || last == nil || last.Step != handoff.StepFailed || asked {
		t.Fatalf("order with no free reader: %v, PIN asked %v, last %+v", err, asked, last)
	}
	if last.Error != handoff.Words("en", handoff.CodeNoFreeReader) {
		t.Errorf("no free reader said as %q", last.Error)
	}
	alice.WaitState(order.ID, "FAILED", 30*time.Second)

	// Revoked in the portal: the card leaves this desktop.
	alice.GraphQL(`mutation($s: String!) { revokeCard(serial: $s) { state } }`, map[string]any{"s": first}, nil)
	select {
	case got := <-removed:
		if got != serial {
			t.Fatalf("removed card %d, want %d", got, serial)
		}
	case <-ctx.Done():
		t.Fatal("the revoked card never left the desktop")
	}
	env.WaitCard(t, 0, false) // the reader is free
	if serials, _ := vcard.List(filepath.Join(dataDir, "cards")); len(serials) != 0 {
		t.Errorf("card files left: %v", serials)
	}
	if !WasRemoved(dataDir, serial) {
		t.Error("no record of the removed card kept")
	}

	// The next order gets a card into the freed reader.
	second := enrol()
	if second == first {
		t.Errorf("the new card has the old serial %s", second)
	}
	if cards, err := client.Cards(ctx); err != nil || len(cards) != 1 || cards[0].Reader != env.Readers[0].Name {
		t.Errorf("cards after the new order: %+v, %v", cards, err)
	}

	// A card the server no longer has at all (an operator deleted its record) leaves at
	// the next contact too.
	sys := viewer.AsServer(context.Background())
	db := srv.Env.Server.DB.Client
	crd := db.Card.Query().Where(card.Serial(second)).OnlyX(sys)
	db.Certificate.Delete().Where(certificate.CardID(crd.ID)).ExecX(sys)
	db.Card.DeleteOne(crd).ExecX(sys)
	n, _ = strconv.ParseUint(second, 10, 32)
	if _, err := a.SyncCard(ctx, uint32(n)); err == nil {
		t.Error("a sync of a card the server does not know succeeded")
	}
	select {
	case got := <-removed:
		if got != uint32(n) {
			t.Fatalf("removed card %d, want %d", got, n)
		}
	default:
		t.Fatal("the unknown card did not leave the desktop")
	}
	env.WaitCard(t, 0, false)
}
