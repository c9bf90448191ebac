package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/pinpage"
	"github.com/vscard/vscard/server/cardspec"
)

// pageLinger is how long a PIN page stays up after its enrolment ended, so the person
// can read the result.
const pageLinger = 10 * time.Minute

// EnrolRequest starts an enrolment.
type EnrolRequest struct {
	// URL is the vscard://enroll link.
	URL string `json:"url"`
	// Trust puts an unknown server on the trusted list without asking.
	Trust bool `json:"trust"`
	// ClientPIN makes the client answer the PIN prompts (POST .../pin) instead of a PIN
	// page. Such an enrolment cannot ask whether to trust a server: without Trust an
	// unknown server is refused.
	ClientPIN bool `json:"clientPin"`
}

// Message types of an enrolment's stream.
const (
	MsgStarted   = "started"    // ID and PINPage (when there is one)
	MsgEvent     = "event"      // Event: a step; the stream ends after the final one
	MsgPINNeeded = "pin_needed" // PINRequest: answer with POST /v1/enrolments/{id}/pin
)

// Message is one line of an enrolment's stream.
type Message struct {
	Type       string              `json:"type"`
	ID         string              `json:"id,omitempty"`
	PINPage    string              `json:"pinPage,omitempty"`
	Event      *handoff.Event      `json:"event,omitempty"`
	PINRequest *handoff.PINRequest `json:"pinRequest,omitempty"`
}

// enrolment is one running or recently ended enrolment.
type enrolment struct {
	id     string
	page   *pinpage.Page  // nil for ClientPIN
	client *clientPrompts // nil unless ClientPIN

	mu      sync.Mutex
	msgs    []Message
	ended   bool
	changed chan struct{}
}

func (e *enrolment) add(m Message, final bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.msgs = append(e.msgs, m)
	e.ended = e.ended || final
	close(e.changed)
	e.changed = make(chan struct{})
}

// next returns the messages from index i on, whether the enrolment has ended, and a
// channel closed at the next change.
func (e *enrolment) next(i int) ([]Message, bool, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.msgs[min(i, len(e.msgs)):], e.ended, e.changed
}

// startEnrolment starts an enrolment in the background. The caller keeps the enrolment
// itself: one that fails at once may be forgotten before its id could be looked up.
func (a *Agent) startEnrolment(req EnrolRequest) (*enrolment, error) {
	h, err := handoff.ParseLink(req.URL)
	if err != nil {
		return nil, err
	}
	e := &enrolment{id: newID(), changed: make(chan struct{})}
	var prompter handoff.Prompter
	if req.ClientPIN {
		e.client = &clientPrompts{e: e, pins: make(chan handoff.PINAnswer, 1), cancelled: make(chan struct{})}
		prompter = e.client
	} else {
		e.page, err = pinpage.Start(pinpage.Options{Addr: a.cfg.PINPageAddr, Logger: a.log})
		if err != nil {
			return nil, err
		}
		prompter = e.page
	}
	e.add(Message{Type: MsgStarted, ID: e.id, PINPage: e.pageURL()}, false)

	a.mu.Lock()
	a.enrolments[e.id] = e
	a.mu.Unlock()

	cfg := handoff.Config{
		Trust: a.cfg.Trust, TrustWithoutAsking: req.Trust, Prompter: prompter,
		Cards: a, HTTPClient: a.cfg.HTTPClient, Host: a.host, Version: a.cfg.Version,
		Logger: a.log.With("enrolment", e.id),
		Notify: func(ev handoff.Event) { a.notify(e, h, ev) },
		Tasks:  &a.wg, // Close waits for the order to be followed to its end
	}
	a.handoffs.Lock() // waits for a report of a renewal cut short to be answered
	a.running.Add(1)
	a.handoffs.Unlock()
	a.wg.Go(func() {
		_, _ = handoff.Run(a.ctx, cfg, h) // Run reports its end through Notify
		a.running.Add(-1)
		a.Kick() // a hand-off is a contact: sync every card, follow a new one
		a.forget(e)
	})
	return e, nil
}

// notify records the card once it is ready, before anyone hears so, and passes the
// event on to the page and the stream.
func (a *Agent) notify(e *enrolment, h handoff.Link, ev handoff.Event) {
	// Only a new card is recorded (get-virtual-smart-card, replace): a process on a card
	// this desktop has (change-pin) changes nothing the record holds, and its result lists
	// no certificates.
	if ev.Step == handoff.StepDone && ev.Result != nil && handoff.MakesNewCard(h.Process) {
		r := ev.Result
		serial, err := parseSerial(r.Serial)
		if err == nil {
			err = a.recs.save(&record{
				Serial: serial, State: StateReady, Server: h.Server, Order: h.Order,
				UserName: r.UserName, CreatedAt: time.Now(), ValidUntil: r.ValidUntil,
				Certificates: r.Certificates, PINPolicy: r.PINPolicy,
			})
		}
		if err != nil {
			a.log.Error("record ready card", "card", r.Serial, "err", err)
		}
	}
	// Renew and add certificates put new certificates on a recorded card: the record
	// follows, slot by slot (`vscard-bridge cards` shows what the card holds).
	if ev.Step == handoff.StepDone && ev.Result != nil &&
		(h.Process == handoff.RenewCard || h.Process == handoff.IssueCertificates) {
		if err := a.recordIssued(ev.Result); err != nil {
			a.log.Error("record new certificates", "card", ev.Result.Serial, "err", err)
		}
	}
	// Any other process on a recorded card brought the PIN policy in force now.
	if ev.Step == handoff.StepDone && ev.Result != nil && !handoff.MakesNewCard(h.Process) && ev.Result.PINPolicy != nil {
		if serial, err := parseSerial(ev.Result.Serial); err == nil {
			if err := a.keepPINPolicy(serial, ev.Result.PINPolicy); err != nil {
				a.log.Error("record PIN policy", "card", ev.Result.Serial, "err", err)
			}
		}
	}
	if e.page != nil {
		e.page.Notify(ev)
	}
	final := ev.Step == handoff.StepDone || ev.Step == handoff.StepFailed || ev.Step == handoff.StepCancelled
	e.add(Message{Type: MsgEvent, Event: &ev}, final)
}

// recordIssued puts the certificates of r into its card's record in place of those of
// the same slots, and the card's validity.
func (a *Agent) recordIssued(r *handoff.Result) error {
	serial, err := parseSerial(r.Serial)
	if err != nil {
		return err
	}
	rec, err := a.recs.load(serial)
	if err != nil || rec == nil {
		return err
	}
	for _, c := range r.Certificates {
		i := slices.IndexFunc(rec.Certificates, func(o handoff.Certificate) bool { return o.Slot == c.Slot })
		if i < 0 {
			rec.Certificates = append(rec.Certificates, c)
		} else {
			rec.Certificates[i] = c
		}
	}
	if r.ValidUntil.After(rec.ValidUntil) {
		rec.ValidUntil = r.ValidUntil
	}
	return a.recs.save(rec)
}

// keepPINPolicy records p as the PIN policy of the card serial, when it has a record and
// p differs from the one it has.
func (a *Agent) keepPINPolicy(serial uint32, p *cardspec.PINPolicy) error {
	rec, err := a.recs.load(serial)
	if err != nil || rec == nil {
		return err
	}
	if rec.PINPolicy != nil && reflect.DeepEqual(*rec.PINPolicy, *p) {
		return nil
	}
	rec.PINPolicy = p
	return a.recs.save(rec)
}

// forget closes the enrolment's page after a while and drops the enrolment.
func (a *Agent) forget(e *enrolment) {
	if e.page != nil {
		select {
		case <-time.After(pageLinger):
		case <-a.ctx.Done():
		}
		e.page.Close()
	}
	a.mu.Lock()
	delete(a.enrolments, e.id)
	a.mu.Unlock()
}

func (a *Agent) enrolment(id string) *enrolment {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.enrolments[id]
}

// CancelEnrolment cancels a running enrolment as its Cancel button would.
func (a *Agent) CancelEnrolment(id string) error {
	e := a.enrolment(id)
	if e == nil {
		return errNoEnrolment
	}
	if e.client != nil {
		e.client.cancel()
	} else {
		e.page.Cancel()
	}
	return nil
}

// SendPIN answers a ClientPIN enrolment's PIN prompt.
func (a *Agent) SendPIN(id string, pin handoff.PINAnswer) error {
	e := a.enrolment(id)
	if e == nil {
		return errNoEnrolment
	}
	if e.client == nil {
		return fmt.Errorf("send PIN: enrolment %s takes its PIN on its PIN page", id)
	}
	select {
	case e.client.pins <- pin:
		return nil
	default:
		return fmt.Errorf("send PIN: enrolment %s is not waiting for a PIN", id)
	}
}

func (e *enrolment) pageURL() string {
	if e.page == nil {
		return ""
	}
	return e.page.URL()
}

// clientPrompts relays PIN prompts to the client that started the enrolment.
type clientPrompts struct {
	e         *enrolment
	pins      chan handoff.PINAnswer
	cancelled chan struct{}
	once      sync.Once

	mu      sync.Mutex
	waiting bool
}

func (c *clientPrompts) ConfirmTrust(context.Context, string) (bool, error) { return false, nil }

func (c *clientPrompts) AskPIN(ctx context.Context, req handoff.PINRequest) (handoff.PINAnswer, error) {
	c.setWaiting(true)
	defer c.setWaiting(false)
	c.e.add(Message{Type: MsgPINNeeded, PINRequest: &req}, false)
	select {
	case pin := <-c.pins:
		return pin, nil
	case <-c.cancelled:
		return handoff.PINAnswer{}, handoff.ErrCancelled
	case <-ctx.Done():
		return handoff.PINAnswer{}, ctx.Err()
	}
}

func (c *clientPrompts) Cancelled() <-chan struct{} { return c.cancelled }

func (c *clientPrompts) cancel() { c.once.Do(func() { close(c.cancelled) }) }

func (c *clientPrompts) setWaiting(w bool) {
	c.mu.Lock()
	c.waiting = w
	c.mu.Unlock()
}

// clientGone cancels the enrolment if it waits for a PIN from a client that left.
func (c *clientPrompts) clientGone() {
	c.mu.Lock()
	waiting := c.waiting
	c.mu.Unlock()
	if waiting {
		c.cancel()
	}
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
