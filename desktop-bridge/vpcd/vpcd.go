// Package vpcd attaches software smart cards to pcscd through the vpcd
// reader driver of vsmartcard (https://frankmorgner.github.io/vsmartcard/).
//
// The driver is configured in a reader.conf file of pcscd; each configured
// reader slot listens on a TCP port. This package is the TCP client: while a
// card is attached, a connection to the slot's port is open, and closing it is
// how the card is removed.
//
// The protocol frames every message, in both directions, with a 2-byte
// big-endian length. A 1-byte message from the driver is a control code
// (00 power off, 01 power on, 02 reset, 04 get ATR); the card answers only
// 04, with the ATR. Longer messages are command APDUs, answered with the
// response APDU. An empty message would mean "card removed", so the card
// never sends one.
//
// Logs carry the instruction byte, lengths and status words of APDUs, never
// their data: a VERIFY carries the PIN.
//
// pcscd polls a slot about every 400 ms, so it notices an attached or
// detached card up to that late. A client that transmits to a detached card
// before then gets a communication error; piv-go v2.6.0 does not release its
// handle when piv.Open fails that way, which keeps the reader busy for the
// rest of that process. Wait for pcscd to report the removal (pcsctest's
// WaitCard) before probing a reader whose card was just detached.
package vpcd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Card is what a slot needs from a card.
type Card interface {
	// Transmit processes a command APDU and returns the response APDU.
	Transmit(apdu []byte) []byte
	// Reset wipes the card's security state, as a warm reset does.
	Reset()
	// PowerOff wipes the card's security state, as losing power does.
	PowerOff()
}

// DefaultATR offers T=0 and T=1 (piv-go insists on T=1) and carries the
// historical bytes "vscard".
//
// The shorter 3B 80 80 01 01 works with piv-go too, but OpenSC 0.23 knows it
// as a PIVKey token and then disables elliptic curves, so pkcs11-tool offers
// no ECDSA mechanism. Historical bytes that OpenSC does not know make it
// treat the card as a plain PIV card.
var DefaultATR = withTCK([]byte{0x3B, 0x86, 0x80, 0x01, 'v', 's', 'c', 'a', 'r', 'd'})

// withTCK appends the check byte, the XOR of all bytes after TS, which an
// ATR offering a protocol other than T=0 must end with.
func withTCK(atr []byte) []byte {
	var x byte
	for _, b := range atr[1:] {
		x ^= b
	}
	return append(atr, x)
}

// Control codes sent by the vpcd driver.
const (
	ctlPowerOff = 0x00
	ctlPowerOn  = 0x01
	ctlReset    = 0x02
	ctlGetATR   = 0x04
)

// Options tune an attachment. The zero value works.
type Options struct {
	// ATR the card answers with; DefaultATR when nil.
	ATR []byte
	// Logger receives connection events (Info) and APDU summaries (Debug);
	// slog.Default() when nil.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts; 100ms and 5s when zero.
	MinBackoff, MaxBackoff time.Duration
}

func (o Options) withDefaults() Options {
	if o.ATR == nil {
		o.ATR = DefaultATR
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Second, o.MinBackoff)
	}
	return o
}

// Attachment is a card attached to one vpcd slot. It keeps the connection
// up, reconnecting with exponential backoff when pcscd goes away, until its
// context ends or Detach is called.
type Attachment struct {
	addr   string
	card   Card
	opts   Options
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	connected bool
	// ready is closed once pcscd has powered the card on over the current
	// connection and read its ATR.
	ready chan struct{}
}

// Attach connects card to the vpcd slot listening at addr (host:port) and
// serves it in a goroutine until ctx ends or Detach is called.
func Attach(ctx context.Context, addr string, card Card, opts Options) *Attachment {
	ctx, cancel := context.WithCancel(ctx)
	a := &Attachment{
		addr:   addr,
		card:   card,
		opts:   opts.withDefaults(),
		cancel: cancel,
		done:   make(chan struct{}),
		ready:  make(chan struct{}),
	}
	a.opts.Logger = a.opts.Logger.With("vpcd", addr)
	go a.run(ctx)
	return a
}

// Addr returns the slot address the card is attached to.
func (a *Attachment) Addr() string { return a.addr }

// Detach removes the card from the reader: it closes the connection and
// waits for the attachment's goroutine to end.
func (a *Attachment) Detach() {
	a.cancel()
	<-a.done
}

// Done is closed when the attachment has ended.
func (a *Attachment) Done() <-chan struct{} { return a.done }

// Connected reports whether the connection to the slot is up.
func (a *Attachment) Connected() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connected
}

// WaitReady waits until pcscd has powered the card on over the current
// connection and read its ATR, the point from which PC/SC clients can
// connect to it.
func (a *Attachment) WaitReady(ctx context.Context) error {
	a.mu.Lock()
	ch := a.ready
	a.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-a.done:
		return errors.New("wait for card: detached")
	case <-ctx.Done():
		return fmt.Errorf("wait for card: %w", ctx.Err())
	}
}

func (a *Attachment) run(ctx context.Context) {
	defer close(a.done)
	log := a.opts.Logger
	backoff := a.opts.MinBackoff
	var d net.Dialer
	for ctx.Err() == nil {
		conn, err := d.DialContext(ctx, "tcp", a.addr)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			log.Debug("connect to vpcd failed", "err", err, "retry_in", backoff)
			if !sleep(ctx, jitter(backoff)) {
				break
			}
			backoff = min(backoff*2, a.opts.MaxBackoff)
			continue
		}
		backoff = a.opts.MinBackoff
		log.Info("card inserted")
		a.setConnected(true)
		err = a.serve(ctx, conn)
		a.setConnected(false)
		a.card.PowerOff()
		if ctx.Err() != nil {
			break
		}
		log.Warn("vpcd connection lost, reconnecting", "err", err)
		if !sleep(ctx, jitter(backoff)) {
			break
		}
	}
	log.Info("card removed")
}

func (a *Attachment) setConnected(up bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.connected = up
	if up {
		select {
		case <-a.ready:
			a.ready = make(chan struct{}) // a new connection starts unpowered
		default:
		}
	}
}

func (a *Attachment) markReady() {
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-a.ready:
	default:
		close(a.ready)
	}
}

// serve answers the driver's messages until the connection fails or ctx
// ends.
func (a *Attachment) serve(ctx context.Context, conn net.Conn) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	log := a.opts.Logger

	var hdr [2]byte
	buf := make([]byte, 0xFFFF)
	powered := false
	for {
		quickAck(conn)
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return fmt.Errorf("read message length: %w", err)
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		msg := buf[:n]
		quickAck(conn)
		if _, err := io.ReadFull(conn, msg); err != nil {
			return fmt.Errorf("read message: %w", err)
		}
		var reply []byte
		switch {
		case n == 0:
			continue
		case n == 1:
			switch msg[0] {
			case ctlPowerOff:
				log.Debug("power off")
				a.card.PowerOff()
				powered = false
			case ctlPowerOn:
				log.Debug("power on")
				a.card.Reset()
				powered = true
			case ctlReset:
				log.Debug("reset")
				a.card.Reset()
			case ctlGetATR:
				reply = a.opts.ATR
				if powered {
					a.markReady()
				}
			default:
				log.Warn("unknown vpcd control code", "code", msg[0])
			}
		default:
			reply = a.card.Transmit(msg)
			if len(reply) < 2 {
				reply = []byte{0x6F, 0x00} // never send an empty answer
			}
			if log.Enabled(ctx, slog.LevelDebug) {
				log.Debug("apdu", "cla", msg[0], "ins", msg[1], "lc", n-4,
					"le", len(reply)-2, "sw", fmt.Sprintf("%02X%02X", reply[len(reply)-2], reply[len(reply)-1]))
			}
		}
		if reply == nil {
			continue
		}
		out := make([]byte, 2+len(reply))
		binary.BigEndian.PutUint16(out, uint16(len(reply)))
		copy(out[2:], reply)
		if _, err := conn.Write(out); err != nil {
			return fmt.Errorf("write reply: %w", err)
		}
	}
}

func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
