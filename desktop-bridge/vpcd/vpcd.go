// Package vpcd attaches software smart cards to pcscd through the vpcd
// reader driver of vsmartcard (https://frankmorgner.github.io/vsmartcard/).
//
// The driver runs in its reversed mode: each reader.conf entry names
// DEVICENAME 127.0.0.1:<port>, and the driver connects out to the card
// process on <port> and <port>+1, one TCP connection per reader slot. This
// package is that card process: while a card is attached to a slot, it
// listens on the slot's loopback address and serves the driver's connection;
// detaching closes both, which is how the card is removed. Nothing listens
// beyond loopback: Attach refuses any other address. On loopback, only
// processes of root (pcscd) and of the card process's own user are served;
// another user's connection is closed at once (on Linux, where the kernel's
// socket table tells the peer's user). (In the driver's other
// mode, vpcd itself listens, on every interface, for anyone to present a
// card.) Reversed mode needs the driver built by scripts/build-vpcd.sh:
// Debian bookworm's aborts pcscd whenever a connection drops.
//
// pcscd's driver polls an empty slot about every 400 ms by connecting to its
// port, so it notices an attached card up to that late; a removed one it
// notices at its next poll, when the closed connection fails. A client that
// transmits to a detached card before then gets a communication error;
// piv-go v2.6.0 does not release its handle when piv.Open fails that way,
// which keeps the reader busy for the rest of that process. Wait for pcscd
// to report the removal (pcsctest's WaitCard) before probing a reader whose
// card was just detached.
//
// The protocol frames every message, in both directions, with a 2-byte
// big-endian length. A 1-byte message from the driver is a control code
// (00 power off, 01 power on, 02 reset, 04 get ATR); the card answers only
// 04, with the ATR. Longer messages are command APDUs, answered with the
// response APDU. An empty message means "card removed": the driver closes
// the connection and pcscd reports the card gone.
//
// The card sends one in a single case. When an attachment's listener closes
// and a new one opens within one of pcscd's polls (the Desktop App restarted
// at once), the driver may find the new connection without pcscd having seen
// a removal in between: pcscd believes the card it powered earlier is still
// in the reader and never powers this one on, so the card is never ready. A
// connection on which the driver has asked for the ATR staleProbes times
// without ever powering the card on is such a leftover: the card answers the
// last probe with the empty message, pcscd sees the card leave, and at its
// next poll the driver connects again and pcscd powers the card on as newly
// inserted. A connection that has been powered once, or carried an APDU, is
// never treated so (pcscd powers an idle card off and goes on polling it).
//
// Logs carry the instruction byte, lengths and status words of APDUs, never
// their data: a VERIFY carries the PIN.
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
	"net/netip"
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

// staleProbes is how many ATR requests without a power-on make a new
// connection a leftover of pcscd's (see the package doc): pcscd powers a
// card it newly sees at once, after the first.
const staleProbes = 3

// errStale ends a connection the card has declared removed.
var errStale = errors.New("pcscd kept the card of an earlier connection; reported it removed")

// ErrNotLoopback is why an attachment to an address beyond loopback ends at
// once: the slot's port would let any host present the card.
var ErrNotLoopback = errors.New("vpcd slot address is not on loopback")

// Options tune an attachment. The zero value works.
type Options struct {
	// ATR the card answers with; DefaultATR when nil.
	ATR []byte
	// Logger receives connection events (Info) and APDU summaries (Debug);
	// slog.Default() when nil.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait between attempts to listen
	// on the slot's address while something else holds it; 100ms and 5s
	// when zero.
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

// Attachment is a card attached to one vpcd slot. It listens on the slot's
// address and serves the driver whenever it connects (again, after pcscd
// restarts), until its context ends or Detach is called.
type Attachment struct {
	addr   string
	card   Card
	opts   Options
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	connected bool
	// down is closed while no driver connection is up, and replaced by an open
	// one when a connection comes up.
	down chan struct{}
	err  error // why the attachment ended by itself
	// ready is closed once pcscd has powered the card on over the current
	// connection and read its ATR.
	ready chan struct{}
}

// Attach offers card on the vpcd slot whose driver connects to addr
// (127.0.0.1:port or localhost:port) and serves it in a goroutine until ctx
// ends or Detach is called. An address beyond loopback ends the attachment
// at once with ErrNotLoopback (see WaitReady).
func Attach(ctx context.Context, addr string, card Card, opts Options) *Attachment {
	ctx, cancel := context.WithCancel(ctx)
	a := &Attachment{
		addr:   addr,
		card:   card,
		opts:   opts.withDefaults(),
		cancel: cancel,
		done:   make(chan struct{}),
		down:   make(chan struct{}),
		ready:  make(chan struct{}),
	}
	close(a.down)
	a.opts.Logger = a.opts.Logger.With("vpcd", addr)
	go a.run(ctx)
	return a
}

// Addr returns the slot address the card is attached to.
func (a *Attachment) Addr() string { return a.addr }

// Detach removes the card from the reader: it closes the connection and
// the listener and waits for the attachment's goroutine to end.
func (a *Attachment) Detach() {
	a.cancel()
	<-a.done
}

// Done is closed when the attachment has ended.
func (a *Attachment) Done() <-chan struct{} { return a.done }

// Connected reports whether the driver's connection is up.
func (a *Attachment) Connected() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connected
}

// Disconnected returns a channel that is closed once no driver connection is
// up: at once if none is, else when the current one has ended and the card
// has been powered off.
func (a *Attachment) Disconnected() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.down
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
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.err != nil {
			return fmt.Errorf("wait for card: %w", a.err)
		}
		return errors.New("wait for card: detached")
	case <-ctx.Done():
		return fmt.Errorf("wait for card: %w", ctx.Err())
	}
}

// CheckSlotAddr returns an error wrapping ErrNotLoopback when a card could
// not be attached to addr, so a configuration can be refused up front.
func CheckSlotAddr(addr string) error {
	_, err := loopbackAddr(addr)
	return err
}

// loopbackAddr returns the address to listen on for a slot address, or
// ErrNotLoopback. The driver connects over IPv4 only (AF_INET), so
// localhost means 127.0.0.1.
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("parse slot address %q: %w", addr, err)
	}
	if host == "localhost" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.Is4() || !ip.IsLoopback() {
		return "", fmt.Errorf("slot address %q: %w", addr, ErrNotLoopback)
	}
	return addr, nil
}

func (a *Attachment) run(ctx context.Context) {
	defer close(a.done)
	log := a.opts.Logger
	laddr, err := loopbackAddr(a.addr)
	if err != nil {
		log.Error("card not inserted", "err", err)
		a.mu.Lock()
		a.err = err
		a.mu.Unlock()
		return
	}
	backoff := a.opts.MinBackoff
	var lc net.ListenConfig
	for ctx.Err() == nil {
		ln, err := lc.Listen(ctx, "tcp4", laddr)
		if err != nil {
			// Another process holds the port: a second bridge, or pcscd
			// still running the driver in its listening mode.
			log.Warn("cannot listen for the vpcd driver, retrying", "err", err, "retry_in", backoff)
			if !sleep(ctx, jitter(backoff)) {
				break
			}
			backoff = min(backoff*2, a.opts.MaxBackoff)
			continue
		}
		log.Info("card inserted")
		backoff = a.opts.MinBackoff
		a.accept(ctx, ln)
		// accept returns before the end only when accepting failed (out
		// of descriptors, say): wait before listening again.
		if ctx.Err() == nil && !sleep(ctx, jitter(backoff)) {
			break
		}
	}
	log.Info("card removed")
}

// accept serves the driver's connections on ln, one at a time, until ctx
// ends. A connection that arrives while one is served is closed at once: a
// slot belongs to one pcscd, and the driver reads without a timeout, so
// leaving it waiting would hang that pcscd's reader.
func (a *Attachment) accept(ctx context.Context, ln net.Listener) {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer ln.Close()
	log := a.opts.Logger
	var serving sync.WaitGroup
	defer serving.Wait()
	busy := make(chan struct{}, 1)
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("accept vpcd connection failed", "err", err)
			}
			return
		}
		if ok, uid, err := peerAllowed(conn); !ok {
			log.Warn("vpcd connection from another user's process refused", "uid", uid, "err", err)
			conn.Close()
			continue
		}
		select {
		case busy <- struct{}{}:
		default:
			log.Warn("second vpcd connection to a busy slot closed", "from", conn.RemoteAddr().String())
			conn.Close()
			continue
		}
		serving.Add(1)
		go func() {
			defer serving.Done()
			defer func() { <-busy }()
			log.Info("pcscd connected")
			a.setConnected(true)
			err := a.serve(ctx, conn)
			a.card.PowerOff()
			a.setConnected(false)
			switch {
			case ctx.Err() != nil:
			case errors.Is(err, errStale):
				log.Info("pcscd had not seen the card removed; it reconnects and powers it on", "err", err)
			default:
				log.Warn("vpcd connection lost, waiting for pcscd to reconnect", "err", err)
			}
		}()
	}
}

func (a *Attachment) setConnected(up bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if up == a.connected {
		return
	}
	a.connected = up
	if !up {
		close(a.down)
		return
	}
	a.down = make(chan struct{})
	select {
	case <-a.ready:
		a.ready = make(chan struct{}) // a new connection starts unpowered
	default:
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
	everPowered, probes := false, 0
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
				powered, everPowered = true, true
			case ctlReset:
				log.Debug("reset")
				a.card.Reset()
				everPowered = true
			case ctlGetATR:
				reply = a.opts.ATR
				if powered {
					a.markReady()
				}
				if !everPowered {
					if probes++; probes >= staleProbes {
						conn.Write([]byte{0, 0}) // removed; the driver closes the connection
						return errStale
					}
				}
			default:
				log.Warn("unknown vpcd control code", "code", msg[0])
			}
		default:
			everPowered = true // in use: pcscd has the card as powered, whoever powered it
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
