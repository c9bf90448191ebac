package handoff

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/tpmevidence"
	"github.com/vscard/vscard/desktop-bridge/vcard"
	"github.com/vscard/vscard/desktop-bridge/vpcd"
	"github.com/vscard/vscard/server/tpmverify"
)

// testHost creates cards in a temporary directory and inserts them into the readers
// of a private pcscd, as the agent does with the real one.
type testHost struct {
	tb   testing.TB
	env  *pcsctest.Env
	dir  string
	keys vcard.KeyStore

	// afterCreate, when set, runs once the card is in its reader.
	afterCreate func(serial uint32)

	mu      sync.Mutex
	cards   map[uint32]*vcard.Card
	atts    map[uint32]*vpcd.Attachment
	slots   map[int]uint32 // reader index -> serial
	deleted []uint32
}

func newTestHost(tb testing.TB, env *pcsctest.Env) *testHost {
	keys, err := vcard.NewMasterKey(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	h := &testHost{tb: tb, env: env, dir: tb.TempDir(), keys: keys,
		cards: map[uint32]*vcard.Card{}, atts: map[uint32]*vpcd.Attachment{}, slots: map[int]uint32{}}
	tb.Cleanup(func() {
		for s := range h.cards {
			h.DeleteCard(s)
		}
	})
	return h
}

func (h *testHost) CreateCard(ctx context.Context, serial uint32) (string, error) {
	card, err := vcard.Create(h.dir, vcard.Options{Serial: serial, KeyStore: h.keys})
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	i := 0
	for ; i < len(h.env.Readers); i++ {
		if _, busy := h.slots[i]; !busy {
			break
		}
	}
	if i == len(h.env.Readers) {
		h.mu.Unlock()
		card.Close()
		return "", fmt.Errorf("no free reader")
	}
	att := vpcd.Attach(context.Background(), h.env.Readers[i].Addr, card, vpcd.Options{Logger: quiet()})
	h.slots[i], h.cards[serial], h.atts[serial] = serial, card, att
	h.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := att.WaitReady(wctx); err != nil {
		return "", err
	}
	if h.afterCreate != nil {
		h.afterCreate(serial)
	}
	return h.env.Readers[i].Name, nil
}

func (h *testHost) CardReader(serial uint32) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, s := range h.slots {
		if s == serial {
			return h.env.Readers[i].Name, nil
		}
	}
	return "", fmt.Errorf("find reader of card %d: %w", serial, vcard.ErrNotFound)
}

func (h *testHost) ResetCard(serial uint32) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.cards[serial]; c != nil {
		c.Reset()
	}
	return nil
}

func (h *testHost) MoveKey(serial uint32, from, to byte) error {
	h.mu.Lock()
	c := h.cards[serial]
	h.mu.Unlock()
	if c == nil {
		return fmt.Errorf("move key on card %d: %w", serial, vcard.ErrNotFound)
	}
	return c.MoveKey(from, to)
}

func (h *testHost) DeleteCard(serial uint32) error {
	h.mu.Lock()
	card, att := h.cards[serial], h.atts[serial]
	delete(h.cards, serial)
	delete(h.atts, serial)
	for i, s := range h.slots {
		if s == serial {
			delete(h.slots, i)
		}
	}
	h.deleted = append(h.deleted, serial)
	h.mu.Unlock()
	if att != nil {
		att.Detach()
	}
	if card != nil {
		card.Close()
	}
	return vcard.Delete(h.dir, serial)
}

func (h *testHost) wasDeleted(serial uint32) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.deleted {
		if s == serial {
			return true
		}
	}
	return false
}

// scriptedPrompter answers trust questions with trust and PIN prompts with pins, in
// order; when they run out it cancels.
type scriptedPrompter struct {
	trust     bool
	answers   []PINAnswer
	asked     []PINRequest
	trustAsks int
	cancelled chan struct{}
}

// newPrompter answers with new PINs, as the choose and unblock modes ask.
func newPrompter(trust bool, pins ...string) *scriptedPrompter {
	p := &scriptedPrompter{trust: trust, cancelled: make(chan struct{})}
	for _, pin := range pins {
		p.answers = append(p.answers, PINAnswer{New: pin})
	}
	return p
}

func (p *scriptedPrompter) ConfirmTrust(context.Context, string) (bool, error) {
	p.trustAsks++
	return p.trust, nil
}

func (p *scriptedPrompter) AskPIN(_ context.Context, req PINRequest) (PINAnswer, error) {
	p.asked = append(p.asked, req)
	if len(p.answers) == 0 {
		return PINAnswer{}, ErrCancelled
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return a, nil
}

func (p *scriptedPrompter) Cancelled() <-chan struct{} { return p.cancelled }

// memTrust is a TrustStore in memory.
type memTrust struct {
	mu      sync.Mutex
	servers map[string]bool
}

func (m *memTrust) Trusted(s string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.servers[s], nil
}

func (m *memTrust) Trust(s string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.servers == nil {
		m.servers = map[string]bool{}
	}
	m.servers[s] = true
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testLogger(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return quiet()
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// The test host's TPM cards attest their keys as the agent's do (tpmevidence.Cards);
// its software cards send no evidence.
func (h *testHost) evidence() tpmevidence.Cards {
	return tpmevidence.Cards{Card: func(serial uint32) (*vcard.Card, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if c := h.cards[serial]; c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("card %d: %w", serial, vcard.ErrNotFound)
	}}
}

func (h *testHost) TPMIdentity(serial uint32) (tpmverify.Identity, bool, error) {
	return h.evidence().TPMIdentity(serial)
}

func (h *testHost) TPMActivate(serial uint32, blob, secret []byte) ([]byte, error) {
	return h.evidence().TPMActivate(serial, blob, secret)
}

func (h *testHost) TPMCertify(serial uint32, slot byte, pin string, secret []byte) (*tpmevidence.Certification, error) {
	return h.evidence().TPMCertify(serial, slot, pin, secret)
}
