package agent

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// TestInterruptedEnrolmentIsRemoved: a bridge killed mid-enrolment leaves a card file and
// a record that still says "enrolling". The next agent deletes that card, and keeps a
// finished card — with its PIN retry counter as it was.
func TestInterruptedEnrolmentIsRemoved(t *testing.T) {
	env := pcsctest.Start(t, 1)
	dataDir := t.TempDir()
	keys, err := vcard.LoadMasterKey(filepath.Join(dataDir, "cards.key"))
	if err != nil {
		t.Fatal(err)
	}
	cardDir := filepath.Join(dataDir, "cards")
	recs := records{dir: filepath.Join(dataDir, "enrolled")}
	mk := func(state string) uint32 {
		c, err := vcard.Create(cardDir, vcard.Options{KeyStore: keys})
		if err != nil {
			t.Fatal(err)
		}
		serial := c.Serial()
		c.Close()
		if err := recs.save(&record{Serial: serial, State: state, Order: "ord_x", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		return serial
	}
	interrupted, finished := mk(StateEnrolling), mk(StateReady)

	// The finished card had one wrong PIN before the crash: a restart must not forget it.
	c, err := vcard.Open(cardDir, finished, keys)
	if err != nil {
		t.Fatal(err)
	}
	c.Transmit([]byte{0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08})
	c.Transmit(append([]byte{0x00, 0x20, 0x00, 0x80, 0x08}, []byte("99999999")...))
	c.Close()

	a := startAgent(t, Config{DataDir: dataDir, Slots: slotsOf(env, 1)})
	defer a.Close()

	left, err := vcard.List(cardDir)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(left, interrupted) {
		t.Errorf("the card of the interrupted enrolment (%d) is still there", interrupted)
	}
	if !slices.Contains(left, finished) {
		t.Fatalf("the finished card (%d) was deleted too", finished)
	}
	if rec, _ := recs.load(interrupted); rec != nil {
		t.Errorf("the interrupted card's record is still there: %+v", rec)
	}
	env.WaitCard(t, 0, true)
	yk := env.OpenPIV(t, 0)
	defer yk.Close()
	if n, err := yk.Retries(); err != nil || n != 2 {
		t.Errorf("PIN retries after the restart: %d, %v; want 2 (one wrong PIN before)", n, err)
	}
}

// TestConcurrentDeletes: the person's `vscard-bridge delete` and the agent following the
// server (which saw the same delete) remove the same card at once; both succeed, and the
// card is gone, instead of the later one failing with "card in use".
func TestConcurrentDeletes(t *testing.T) {
	env := pcsctest.Start(t, 1)
	dataDir := t.TempDir()
	keys, err := vcard.LoadMasterKey(filepath.Join(dataDir, "cards.key"))
	if err != nil {
		t.Fatal(err)
	}
	cardDir := filepath.Join(dataDir, "cards")
	c, err := vcard.Create(cardDir, vcard.Options{KeyStore: keys})
	if err != nil {
		t.Fatal(err)
	}
	serial := c.Serial()
	c.Close()
	recs := records{dir: filepath.Join(dataDir, "enrolled")}
	if err := recs.save(&record{Serial: serial, State: StateReady, Order: "ord_x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, Config{DataDir: dataDir, Slots: slotsOf(env, 1)})
	defer a.Close()
	env.WaitCard(t, 0, true)

	start := make(chan struct{})
	errs := make(chan error, 2)
	for range 2 {
		go func() { <-start; errs <- a.DeleteCard(serial) }()
	}
	close(start)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("DeleteCard: %v", err)
		}
	}
	if left, _ := vcard.List(cardDir); slices.Contains(left, serial) {
		t.Errorf("card %d is still there", serial)
	}
}
