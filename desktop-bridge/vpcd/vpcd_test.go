package vpcd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingCard answers every APDU with 9000 and counts resets, so the test
// can see what the attachment passed on.
type recordingCard struct {
	mu       sync.Mutex
	apdus    [][]byte
	resets   int
	poweroff int
	reply    []byte
}

func (c *recordingCard) Transmit(apdu []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apdus = append(c.apdus, bytes.Clone(apdu))
	return c.reply
}
func (c *recordingCard) Reset()    { c.mu.Lock(); c.resets++; c.mu.Unlock() }
func (c *recordingCard) PowerOff() { c.mu.Lock(); c.poweroff++; c.mu.Unlock() }

// driver is the vpcd side of the protocol, as the pcscd driver speaks it.
type driver struct {
	t    *testing.T
	conn net.Conn
}

func (d driver) send(msg ...byte) {
	d.t.Helper()
	out := binary.BigEndian.AppendUint16(nil, uint16(len(msg)))
	if _, err := d.conn.Write(append(out, msg...)); err != nil {
		d.t.Fatal(err)
	}
}

func (d driver) recv() []byte {
	d.t.Helper()
	d.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [2]byte
	if _, err := io.ReadFull(d.conn, hdr[:]); err != nil {
		d.t.Fatal(err)
	}
	msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(d.conn, msg); err != nil {
		d.t.Fatal(err)
	}
	return msg
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// connect connects to the card at addr as the driver does, retrying until
// the attachment listens.
func connect(t *testing.T, addr string) driver {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var conn net.Conn
		if conn, err = net.Dial("tcp4", addr); err == nil {
			t.Cleanup(func() { conn.Close() })
			return driver{t: t, conn: conn}
		}
	}
	t.Fatalf("connect to the card: %v", err)
	return driver{}
}

// waitDisconnected waits until the attachment has seen its driver connection
// end (and powered the card off).
func waitDisconnected(t *testing.T, a *Attachment) {
	t.Helper()
	select {
	case <-a.Disconnected():
	case <-time.After(10 * time.Second):
		t.Fatal("the card did not see the driver's connection end")
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestProtocol(t *testing.T) {
	addr := freeAddr(t)
	card := &recordingCard{reply: []byte{0x90, 0x00}}
	a := Attach(context.Background(), addr, card, Options{Logger: quiet()})
	defer a.Detach()
	d := connect(t, addr)

	d.send(ctlGetATR)
	if got := d.recv(); !bytes.Equal(got, DefaultATR) {
		t.Errorf("ATR %X", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	if a.WaitReady(ctx) == nil {
		t.Error("ready before power on")
	}
	cancel()
	d.send(ctlPowerOn)
	d.send(ctlGetATR)
	d.recv()
	if err := a.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Disconnected():
		t.Error("Disconnected is closed while the driver is connected")
	default:
	}
	d.send(0x00, 0xA4, 0x04, 0x00)
	if got := d.recv(); !bytes.Equal(got, []byte{0x90, 0x00}) {
		t.Errorf("reply %X", got)
	}
	card.mu.Lock()
	card.reply = nil // a broken card must still not make the slot send nothing
	card.mu.Unlock()
	d.send(0x00, 0xFD, 0x00, 0x00, 0x00)
	if got := d.recv(); !bytes.Equal(got, []byte{0x6F, 0x00}) {
		t.Errorf("reply to an empty card answer %X, want 6F00", got)
	}
	d.send(ctlReset)
	d.send(ctlPowerOff)
	d.send(ctlGetATR) // the replies to 04 prove the control codes were handled in order
	d.recv()
	card.mu.Lock()
	if card.resets != 2 || card.poweroff != 1 || len(card.apdus) != 2 {
		t.Errorf("resets %d poweroffs %d apdus %d", card.resets, card.poweroff, len(card.apdus))
	}
	card.mu.Unlock()

	t.Run("error/a second connection to a busy slot is closed", func(t *testing.T) {
		d2 := connect(t, addr)
		d2.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := d2.conn.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("second connection reads %v, want EOF", err)
		}
		d.send(ctlGetATR) // the first still works
		d.recv()
	})

	t.Run("ok/the driver reconnects after pcscd restarts", func(t *testing.T) {
		d.conn.Close()
		// Until the card has seen the close, a new connection is a second
		// one and is closed; the driver would simply poll again.
		waitDisconnected(t, a)
		d2 := connect(t, addr)
		d2.send(ctlGetATR)
		if got := d2.recv(); !bytes.Equal(got, DefaultATR) {
			t.Errorf("ATR after reconnect %X", got)
		}
		card.mu.Lock()
		if card.poweroff < 2 {
			t.Error("lost connection did not power the card off")
		}
		card.mu.Unlock()

		a.Detach()
		d2.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := d2.conn.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("after detach the driver reads %v, want EOF (card removed)", err)
		}
		if a.Connected() {
			t.Error("still connected after detach")
		}
		// Removed means not listening: the driver's next poll finds no card.
		if c, err := net.Dial("tcp4", addr); err == nil {
			c.Close()
			t.Error("the slot's port still listens after detach")
		}
	})
}

// warnings passes the messages of Warn records to a channel.
type warnings chan string

func (w warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w warnings) Handle(_ context.Context, r slog.Record) error {
	select {
	case w <- r.Message:
	default:
	}
	return nil
}
func (w warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w warnings) WithGroup(string) slog.Handler      { return w }

func TestRetryWhilePortTaken(t *testing.T) {
	blocker, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := blocker.Addr().String()
	warned := make(warnings, 1)
	ctx, cancel := context.WithCancel(context.Background())
	a := Attach(ctx, addr, &recordingCard{}, Options{Logger: slog.New(warned), MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	select {
	case msg := <-warned:
		if !strings.Contains(msg, "cannot listen") {
			t.Errorf("warning %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no warning while the port is taken")
	}
	blocker.Close() // the attachment must take the port on its next try
	d := connect(t, addr)
	d.send(ctlGetATR)
	d.recv()
	cancel()
	select {
	case <-a.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("attachment did not end with its context")
	}
}

func TestOnlyLoopback(t *testing.T) {
	port := strings.TrimPrefix(freeAddr(t), "127.0.0.1:")
	for _, host := range []string{"0.0.0.0", "", "192.0.2.1", "[::1]", "[::]", "example.com"} {
		t.Run("error/"+host, func(t *testing.T) {
			a := Attach(context.Background(), host+":"+port, &recordingCard{}, Options{Logger: quiet()})
			select {
			case <-a.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("attachment beyond loopback did not end")
			}
			if err := a.WaitReady(context.Background()); !errors.Is(err, ErrNotLoopback) {
				t.Errorf("WaitReady: %v, want ErrNotLoopback", err)
			}
			if c, err := net.Dial("tcp4", "127.0.0.1:"+port); err == nil {
				c.Close()
				t.Error("something listens on the port")
			}
		})
	}
	t.Run("ok/localhost", func(t *testing.T) {
		a := Attach(context.Background(), "localhost:"+port, &recordingCard{}, Options{Logger: quiet()})
		defer a.Detach()
		d := connect(t, "127.0.0.1:"+port)
		d.send(ctlGetATR)
		d.recv()
	})
}

func TestATR(t *testing.T) {
	var x byte
	for _, b := range DefaultATR[1:] {
		x ^= b
	}
	if x != 0 || DefaultATR[0] != 0x3B || DefaultATR[3]&0x0F != 1 {
		t.Errorf("ATR %X: check byte or T=1 wrong", DefaultATR)
	}
}

// A connection that pcscd only polls, never powering the card on, is what is left when the
// Desktop App restarts within one of pcscd's polls: pcscd saw no removal and goes on with the
// card it powered before. The card reports itself removed, so that pcscd powers it on anew.
func TestLeftoverConnection(t *testing.T) {
	addr := freeAddr(t)
	card := &recordingCard{reply: []byte{0x90, 0x00}}
	a := Attach(context.Background(), addr, card, Options{Logger: quiet()})
	defer a.Detach()

	d := connect(t, addr)
	for i := 1; i < staleProbes; i++ {
		d.send(ctlGetATR)
		if got := d.recv(); !bytes.Equal(got, DefaultATR) {
			t.Fatalf("probe %d: ATR %X", i, got)
		}
	}
	d.send(ctlGetATR)
	if got := d.recv(); len(got) != 0 {
		t.Fatalf("probe %d of a connection never powered: %X, want the empty message (removed)", staleProbes, got)
	}
	d.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := d.conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after reporting itself removed the card reads %v, want EOF", err)
	}

	// pcscd's next poll connects again; it sees a new card and powers it on.
	waitDisconnected(t, a)
	d = connect(t, addr)
	d.send(ctlGetATR)
	if got := d.recv(); !bytes.Equal(got, DefaultATR) {
		t.Fatalf("ATR after the removal %X", got)
	}
	d.send(ctlPowerOn)
	d.send(ctlGetATR)
	d.recv()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}

	// A card in use stays in the reader, though pcscd never powered it on this connection.
	d.conn.Close()
	waitDisconnected(t, a)
	d = connect(t, addr)
	d.send(0x00, 0xA4, 0x04, 0x00)
	d.recv()
	for i := range 2 * staleProbes {
		d.send(ctlGetATR)
		if got := d.recv(); !bytes.Equal(got, DefaultATR) {
			t.Fatalf("poll %d of a card in use: %X", i, got)
		}
	}

	// A card powered once stays in the reader while pcscd powers it off when idle and polls it.
	d.send(ctlPowerOn)
	d.send(ctlPowerOff)
	for i := range 2 * staleProbes {
		d.send(ctlGetATR)
		if got := d.recv(); !bytes.Equal(got, DefaultATR) {
			t.Fatalf("poll %d of an idle card: %X", i, got)
		}
	}
}
