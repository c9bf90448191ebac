package pcsctest

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/vcard"
	"github.com/vscard/vscard/desktop-bridge/vpcd"
)

// TestReversedMode checks what vscard needs of vpcd's reversed mode with the
// driver of scripts/build-vpcd.sh: pcscd survives every state a slot's
// connection can be in, and nothing but the cards listens, on loopback only.
//
// Debian bookworm's driver (virtualsmartcard 0.8) fails the first two cases:
// pcscd aborts ("bit out of range 0 - FD_SETSIZE on fd_set") at the first
// poll of a slot whose connection is down. Run this test with
// VSCARD_VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so to see it.
func TestReversedMode(t *testing.T) {
	t.Run("ok/no card when pcscd starts then inserted removed and inserted again", func(t *testing.T) {
		e := Start(t, 2)
		e.WaitCard(t, 0, false) // pcscd has polled the slot with nothing listening
		cards := testCards(t, 1111, 2222)

		a := e.Insert(t, 0, cards[0])
		e.assertSerial(t, 0, 1111)
		a.Detach() // the card's connection drops and its port closes
		e.WaitCard(t, 0, false)
		e.Insert(t, 0, cards[1])
		e.assertSerial(t, 0, 2222)

		select {
		case <-e.exited:
			t.Fatalf("pcscd ended: %s", e.logSince(0))
		default:
		}
		if log := e.logSince(0); strings.Contains(log, "FD_SETSIZE") {
			t.Errorf("pcscd log:\n%s", log)
		}

		// Nothing of pcscd listens, and the card only on loopback.
		if socks, err := ListeningTCP(e.PID()); err != nil || len(socks) != 0 {
			t.Errorf("pcscd listens on %v %v", socks, err)
		}
		socks, err := ListeningTCP(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		want := netip.MustParseAddrPort(e.Readers[0].Addr)
		for _, s := range socks {
			if !s.Addr().IsLoopback() {
				t.Errorf("the card process listens on %v", s)
			}
		}
		if !containsAddrPort(socks, want) {
			t.Errorf("inserted card does not listen on %v: %v", want, socks)
		}
	})

	t.Run("ok/a card listening when pcscd starts beside an empty slot", func(t *testing.T) {
		// pcscd connects while it starts, and keeps that one connection:
		// no reconnect, and reader 0 (nothing listening) stays empty.
		// (The patch's connectsock part has no test that fails without it:
		// without it every poll of an empty slot sends to and closes a
		// descriptor number it no longer owns, which strace shows, but
		// harm needs another thread to reuse the number in between.)
		e := newEnv(t)
		if err := checkDriver(vpcdDriver(), os.Getenv("VSCARD_VPCD_DRIVER") != ""); err != nil {
			t.Fatal(err)
		}
		if err := e.writeConfig(2); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp4", e.Readers[1].Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		card := serveRawCard(t, ln, 10)
		if err := e.start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-card.polled: // ten presence polls over the first connection
		case <-time.After(30 * time.Second):
			t.Fatalf("slot 1 was polled %d times", card.atrs())
		}
		if n := card.conns(); n != 1 {
			t.Errorf("slot 1's card was connected %d times, want once", n)
		}
		e.WaitCard(t, 1, true)
		e.WaitCard(t, 0, false)
		if n := card.conns(); n != 1 {
			t.Errorf("after the readers were listed, slot 1's card was connected %d times", n)
		}
	})

	t.Run("ok/two entries give four readers with a card each", func(t *testing.T) {
		// The same limit as in server mode: two entries naming one driver
		// file share its two slots (tried: the first entry's readers never
		// see their cards). Start gives each entry a copy.
		e := Start(t, 4)
		serials := []uint32{3001, 3002, 3003, 3004}
		for i, c := range testCards(t, serials...) {
			e.Insert(t, i, c)
		}
		for i, s := range serials {
			e.assertSerial(t, i, s)
		}
	})
}

func TestDebianDriverRefused(t *testing.T) {
	if _, err := os.Stat(packageVpcdDriver); err != nil {
		t.Skipf("vsmartcard-vpcd not installed: %v", err)
	}
	if err := checkDriver(packageVpcdDriver, false); err == nil || !strings.Contains(err.Error(), "build-vpcd.sh") {
		t.Errorf("Debian's driver: %v", err)
	}
	if err := checkDriver(packageVpcdDriver, true); err != nil {
		t.Errorf("Debian's driver tried on purpose: %v", err)
	}
	if err := checkDriver(filepath.Join(t.TempDir(), "none.so"), false); err == nil {
		t.Error("missing driver accepted")
	}
}

func containsAddrPort(list []netip.AddrPort, want netip.AddrPort) bool {
	for _, ap := range list {
		if ap == want {
			return true
		}
	}
	return false
}

// testCards creates software PIV cards with the given serials.
func testCards(t *testing.T, serials ...uint32) []*vcard.Card {
	t.Helper()
	dir := t.TempDir()
	ks, err := vcard.LoadMasterKey(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	var cards []*vcard.Card
	for _, s := range serials {
		c, err := vcard.Create(dir, vcard.Options{Serial: s, KeyStore: ks})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		cards = append(cards, c)
	}
	return cards
}

// assertSerial reads the PIV serial of the card in reader i.
func (e *Env) assertSerial(t *testing.T, i int, want uint32) {
	t.Helper()
	yk := e.OpenPIV(t, i)
	defer yk.Close()
	if s, err := yk.Serial(); err != nil || s != want {
		t.Errorf("reader %d: serial %d %v, want %d", i, s, err, want)
	}
}

// rawCard counts the driver's connections and ATR requests.
type rawCard struct {
	mu     sync.Mutex
	nConns int
	nATRs  int
	want   int
	polled chan struct{}
}

func (c *rawCard) conns() int { c.mu.Lock(); defer c.mu.Unlock(); return c.nConns }
func (c *rawCard) atrs() int  { c.mu.Lock(); defer c.mu.Unlock(); return c.nATRs }

// serveRawCard answers every connection on ln as a card that offers
// DefaultATR and answers every APDU with 6D00; polled closes after wantATRs
// ATR requests over the first connection.
func serveRawCard(t *testing.T, ln net.Listener, wantATRs int) *rawCard {
	c := &rawCard{want: wantATRs, polled: make(chan struct{})}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
			c.mu.Lock()
			c.nConns++
			first := c.nConns == 1
			c.mu.Unlock()
			go c.serve(conn, first)
		}
	}()
	return c
}

func (c *rawCard) serve(conn net.Conn, first bool) {
	var hdr [2]byte
	for {
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(conn, msg); err != nil {
			return
		}
		var reply []byte
		switch {
		case len(msg) == 1 && msg[0] == 0x04:
			reply = vpcd.DefaultATR
			if first {
				c.mu.Lock()
				c.nATRs++
				if c.nATRs == c.want {
					close(c.polled)
				}
				c.mu.Unlock()
			}
		case len(msg) > 1:
			reply = []byte{0x6D, 0x00}
		default:
			continue
		}
		if _, err := conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(reply))), reply...)); err != nil {
			return
		}
	}
}
