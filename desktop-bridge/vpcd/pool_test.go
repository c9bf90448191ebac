package vpcd_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
	"github.com/vscard/vscard/desktop-bridge/vpcd"
)

// TestPool serves two cards on two slots of a real pcscd, then a third card
// finds no slot, and detaching one frees its slot.
func TestPool(t *testing.T) {
	env := pcsctest.Start(t, 2)
	dir := t.TempDir()
	ks, err := vcard.LoadMasterKey(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	var cards []*vcard.Card
	for _, s := range []uint32{1111, 2222, 3333} {
		c, err := vcard.Create(dir, vcard.Options{Serial: s, KeyStore: ks})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cards = append(cards, c)
	}
	pool := vpcd.NewPool([]string{env.Readers[0].Addr, env.Readers[1].Addr}, vpcd.Options{Logger: slog.New(slog.DiscardHandler)})
	defer pool.Close()
	ctx := context.Background()

	for i, c := range cards[:2] {
		addr, err := pool.Attach(ctx, c)
		if err != nil || addr != env.Readers[i].Addr {
			t.Fatalf("attach card %d: %s %v", i, addr, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err = pool.Attachment(c).WaitReady(wctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Attach(ctx, cards[2]); !errors.Is(err, vpcd.ErrNoFreeSlot) {
		t.Errorf("third card: %v, want ErrNoFreeSlot", err)
	}
	for i, want := range []uint32{1111, 2222} {
		yk := env.OpenPIV(t, i)
		if s, err := yk.Serial(); err != nil || s != want {
			t.Errorf("reader %d: serial %d %v, want %d", i, s, err, want)
		}
		yk.Close()
	}

	if err := pool.Detach(cards[0]); err != nil {
		t.Fatal(err)
	}
	if err := pool.Detach(cards[0]); !errors.Is(err, vpcd.ErrNotAttached) {
		t.Errorf("second detach: %v", err)
	}
	// pcscd notices the removal on its next poll. Until then a client's
	// transmit fails, and piv-go 2.6 keeps its handle when Open fails
	// there, which blocks the reader for the rest of the process.
	env.WaitCard(t, 0, false)
	if yk, err := piv.Open(env.Readers[0].Name); err == nil {
		yk.Close()
		t.Error("reader 0 still has a card after detach")
	}
	addr, err := pool.Attach(ctx, cards[2])
	if err != nil || addr != env.Readers[0].Addr {
		t.Fatalf("attach into the freed slot: %s %v", addr, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Attachment(cards[2]).WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	yk := env.OpenPIV(t, 0)
	if s, err := yk.Serial(); err != nil || s != 3333 {
		t.Errorf("serial %d %v, want 3333", s, err)
	}
}
