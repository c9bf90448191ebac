package vpcd

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
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

func accept(t *testing.T, ln net.Listener) driver {
	t.Helper()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return driver{t: t, conn: conn}
}

func TestProtocol(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	card := &recordingCard{reply: []byte{0x90, 0x00}}
	a := Attach(context.Background(), ln.Addr().String(), card, Options{Logger: slog.New(slog.DiscardHandler), MinBackoff: 10 * time.Millisecond})
	defer a.Detach()
	d := accept(t, ln)

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

	t.Run("ok/reconnect after the driver goes away", func(t *testing.T) {
		d.conn.Close()
		d2 := accept(t, ln)
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
	})
}

func TestBackoffWhileNoDriver(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nobody listens: the attachment must keep trying
	ctx, cancel := context.WithCancel(context.Background())
	a := Attach(ctx, addr, &recordingCard{}, Options{Logger: slog.New(slog.DiscardHandler), MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	time.Sleep(100 * time.Millisecond)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port taken meanwhile: %v", err)
	}
	defer ln.Close()
	d := accept(t, ln)
	d.send(ctlGetATR)
	d.recv()
	cancel()
	select {
	case <-a.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("attachment did not end with its context")
	}
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
