package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/vcard"
	"github.com/vscard/vscard/desktop-bridge/vpcd"
	"github.com/vscard/vscard/server/cardspec"
)

// Slot is one vpcd reader slot: the TCP address the card connects to and the reader
// name pcscd gives it.
type Slot struct {
	Addr   string `json:"addr"`
	Reader string `json:"reader"`
}

// DefaultSlots are the two slots of the first reader.conf entry that
// scripts/desktop-setup.sh writes ("Virtual PCD", reversed mode: the driver connects to
// the card on 127.0.0.1:35963 and :35964).
var DefaultSlots = []Slot{
	{Addr: "127.0.0.1:35963", Reader: "Virtual PCD 00 00"},
	{Addr: "127.0.0.1:35964", Reader: "Virtual PCD 00 01"},
}

// DefaultBasePort is the first vpcd port scripts/desktop-setup.sh gives its readers.
const DefaultBasePort = 35963

// ReaderSlots returns the slots of the n readers scripts/desktop-setup.sh writes into
// reader.conf (VSCARD_READERS=n): pairs of ports from base, the first pair "Virtual PCD
// 00 0x", then "vscard i 00 0x". n is 1 to 16, as pcscd serves at most 16 readers.
func ReaderSlots(n, base int) ([]Slot, error) {
	if n < 1 || n > 16 {
		return nil, fmt.Errorf("virtual readers: want 1 to 16, got %d", n)
	}
	out := make([]Slot, 0, n)
	for i := range n {
		name := "Virtual PCD"
		if i/2 > 0 {
			name = "vscard " + strconv.Itoa(i/2)
		}
		out = append(out, Slot{Addr: "127.0.0.1:" + strconv.Itoa(base+i), Reader: fmt.Sprintf("%s 00 %02d", name, i%2)})
	}
	return out, nil
}

// Config configures an agent.
type Config struct {
	// DataDir holds cards/, cards.key and enrolled/ (see the package doc). Required.
	DataDir string
	// Trust is the trusted-server list. Required.
	Trust handoff.TrustStore
	// Slots are the vpcd reader slots to insert cards into; DefaultSlots when empty.
	Slots []Slot
	// HTTPClient talks to vscard servers; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Version is the bridge's version, reported to servers.
	Version string
	// PINPageAddr is where PIN pages listen; default 127.0.0.1:0.
	PINPageAddr string
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
	// SyncInterval is how often the agent contacts each card's server when no
	// subscription tells it of changes (DefaultSyncInterval when 0; never when < 0).
	SyncInterval time.Duration
	// PINWatchInterval is how often the agent looks at its cards' PIN counters (in
	// memory) to report a change at once: wrong PINs typed into any PC/SC program reach
	// the portal without waiting for the next contact (default 2s; never when < 0).
	PINWatchInterval time.Duration
	// TPM, when set, is the TPM device (vcard.DefaultTPMPath on a desktop): new
	// cards keep their keys, PIN and PUK in it (see package vcard), and its sealed
	// file key is DataDir/tpm.key. Cards made before stay software cards.
	TPM string
	// TPMDial, when set, opens the TPM instead of the device TPM names (tests:
	// a swtpm socket).
	TPMDial func() (io.ReadWriteCloser, error)
	// OnRemoved, when set, hears of each card the agent removed because its server says
	// it is out of service (reason RemovedOutOfService or RemovedUnknown).
	OnRemoved func(serial uint32, reason string)
}

// Agent hosts the virtual cards and runs enrolments. Its methods are safe for
// concurrent use.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	cardDir string
	keys    vcard.KeyStore
	tpm     *vcard.TPM // nil: new cards are software cards
	recs    records
	pool    *vpcd.Pool
	readers map[string]string // reader name by slot address
	host    string

	// deleting serialises DeleteCard: the person's `vscard-bridge delete` and the
	// server-following sync may remove the same card at once, and the second must not
	// find the file still held open by the first (vcard.ErrInUse) but already gone.
	deleting sync.Mutex

	ctx    context.Context // ends with Close: attachments and enrolments
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// running counts the hand-offs under way: a renewal's staged and backup keys are its
	// own until it ends, so repairCard waits meanwhile.
	running   atomic.Int32
	repairing sync.Mutex
	// handoffs is held for reading by a contact that tells the server a renewal was cut
	// short (SyncCard), and for writing while a hand-off starts (running goes up): the
	// server ends the card's claimed renewal on that report, so no hand-off may begin
	// between the agent's look and the server's answer.
	handoffs sync.RWMutex

	pending pendingQueue  // PIN change results for the cards' servers
	repairs repairQueue   // card repairs after a renewal cut short, for the cards' servers
	kick    chan struct{} // asks the sync loop for a contact now

	mu         sync.Mutex
	cards      map[uint32]*vcard.Card
	enrolments map[string]*enrolment
	followers  map[uint32]context.CancelFunc // cardUpdated subscriptions by card
	proofs     map[uint32]*sync.Mutex        // one proof at a time per card (lockProof)
}

// New opens the card key and the card directory; Start then inserts the cards.
func New(cfg Config) (*Agent, error) {
	if cfg.DataDir == "" || cfg.Trust == nil {
		return nil, errors.New("new agent: DataDir and Trust are required")
	}
	if len(cfg.Slots) == 0 {
		cfg.Slots = DefaultSlots
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	keys, err := vcard.LoadMasterKey(filepath.Join(cfg.DataDir, "cards.key"))
	if err != nil {
		return nil, fmt.Errorf("load card key: %w", err)
	}
	tpm, err := openTPM(cfg)
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg: cfg, log: cfg.Logger, keys: keys, tpm: tpm,
		cardDir:    filepath.Join(cfg.DataDir, "cards"),
		recs:       records{dir: filepath.Join(cfg.DataDir, "enrolled")},
		readers:    map[string]string{},
		cards:      map[uint32]*vcard.Card{},
		enrolments: map[string]*enrolment{},
		followers:  map[uint32]context.CancelFunc{},
		proofs:     map[uint32]*sync.Mutex{},
		pending:    pendingQueue{dir: filepath.Join(cfg.DataDir, "pending")},
		repairs:    repairQueue{dir: filepath.Join(cfg.DataDir, "pending")},
		kick:       make(chan struct{}, 1),
	}
	addrs := make([]string, len(cfg.Slots))
	for i, s := range cfg.Slots {
		addrs[i] = s.Addr
		a.readers[s.Addr] = s.Reader
	}
	a.pool = vpcd.NewPool(addrs, vpcd.Options{Logger: cfg.Logger.With("component", "vpcd")})
	a.host, _ = os.Hostname()
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a, nil
}

// Start opens every card in the card directory and inserts it into a reader slot. It
// deletes cards whose enrolment was interrupted. A card that cannot be opened or has
// no free slot is logged and skipped.
func (a *Agent) Start() error {
	serials, err := vcard.List(a.cardDir)
	if err != nil {
		return fmt.Errorf("list cards: %w", err)
	}
	for _, serial := range serials {
		rec, err := a.recs.load(serial)
		if err != nil {
			a.log.Warn("skip card", "card", serial, "err", err)
			continue
		}
		if rec != nil && rec.State == StateEnrolling {
			a.log.Info("deleting card of an interrupted enrolment", "card", serial, "order", rec.Order)
			if err := a.deleteFiles(serial); err != nil {
				a.log.Warn("delete interrupted card", "card", serial, "err", err)
			}
			continue
		}
		card, err := a.openCard(serial)
		if err != nil {
			a.log.Warn("skip card", "card", serial, "err", err)
			continue
		}
		reader, err := a.insert(card)
		if err != nil {
			card.Close()
			a.log.Warn("card not inserted", "card", serial, "err", err)
			continue
		}
		a.log.Info("card inserted", "card", serial, "reader", reader)
	}
	// Every contact tells the cards' servers what this desktop knows and learns what
	// they know: a card revoked meanwhile leaves now.
	a.wg.Go(a.syncLoop)
	a.wg.Go(a.watchPINs)
	return nil
}

// insert attaches an open card to a free slot and registers it.
func (a *Agent) insert(card *vcard.Card) (string, error) {
	addr, err := a.pool.Attach(a.ctx, card)
	if errors.Is(err, vpcd.ErrNoFreeSlot) {
		// The log keeps the detail; the person reads the code's words.
		a.log.Warn("no free virtual reader", "readers", len(a.cfg.Slots))
		return "", &handoff.Error{Code: handoff.CodeNoFreeReader, Detail: fmt.Sprintf("all %d virtual readers hold a card", len(a.cfg.Slots))}
	}
	if err != nil {
		return "", fmt.Errorf("insert card: %w", err)
	}
	a.mu.Lock()
	a.cards[card.Serial()] = card
	a.mu.Unlock()
	return a.readers[addr], nil
}

// CreateCard makes a fresh card, inserts it and waits until pcscd has powered it on.
// It implements handoff.CardHost.
func (a *Agent) CreateCard(ctx context.Context, serial uint32) (string, error) {
	if err := a.recs.save(&record{Serial: serial, State: StateEnrolling, CreatedAt: time.Now()}); err != nil {
		return "", err
	}
	ks := vcard.KeyStore(a.keys)
	if a.tpm != nil {
		ks = a.tpm
	}
	card, err := vcard.Create(a.cardDir, vcard.Options{Serial: serial, KeyStore: ks})
	if err != nil {
		return "", fmt.Errorf("create virtual card: %w", err)
	}
	reader, err := a.insert(card)
	if err != nil {
		card.Close()
		return "", err
	}
	att := a.pool.Attachment(card)
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := att.WaitReady(wctx); err != nil {
		return "", fmt.Errorf("wait for pcscd to power the card on in %s (is pcscd running with the vpcd driver?): %w", reader, err)
	}
	return reader, nil
}

// FreeReaders returns how many reader slots hold no card. It implements
// handoff.ReaderCounter.
func (a *Agent) FreeReaders() int { return a.pool.Free() }

// ResetCard wipes the card's security state, as a warm reset does. It implements
// handoff.CardHost.
func (a *Agent) ResetCard(serial uint32) error {
	a.mu.Lock()
	card := a.cards[serial]
	a.mu.Unlock()
	if card == nil {
		return fmt.Errorf("reset card %d: %w", serial, vcard.ErrNotFound)
	}
	card.Reset()
	return nil
}

// CardReader returns the reader the card is inserted into. It implements
// handoff.CardHost.
func (a *Agent) CardReader(serial uint32) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if card := a.cards[serial]; card != nil {
		if att := a.pool.Attachment(card); att != nil {
			return a.readers[att.Addr()], nil
		}
	}
	return "", fmt.Errorf("find reader of card %d: %w", serial, vcard.ErrNotFound)
}

// MoveKey moves a key between slots of an inserted card (to 0xFF deletes it). It
// implements handoff.CardHost.
func (a *Agent) MoveKey(serial uint32, from, to byte) error {
	a.mu.Lock()
	card := a.cards[serial]
	a.mu.Unlock()
	if card == nil {
		return fmt.Errorf("move key on card %d: %w", serial, vcard.ErrNotFound)
	}
	return card.MoveKey(from, to)
}

// DeleteCard removes the card from its reader and deletes its files. It implements
// handoff.CardHost.
func (a *Agent) DeleteCard(serial uint32) error {
	a.deleting.Lock()
	defer a.deleting.Unlock()
	a.stopFollowing(serial)
	a.mu.Lock()
	card := a.cards[serial]
	delete(a.cards, serial)
	a.mu.Unlock()
	if card != nil {
		if err := a.pool.Detach(card); err != nil && !errors.Is(err, vpcd.ErrNotAttached) {
			a.log.Warn("detach card", "card", serial, "err", err)
		}
		if err := card.Close(); err != nil {
			a.log.Warn("close card", "card", serial, "err", err)
		}
	}
	return a.deleteFiles(serial)
}

func (a *Agent) deleteFiles(serial uint32) error {
	if err := vcard.Delete(a.cardDir, serial); err != nil && !errors.Is(err, vcard.ErrNotFound) {
		return fmt.Errorf("delete card %d: %w", serial, err)
	}
	return a.recs.remove(serial)
}

// CardInfo describes a card for `vscard-bridge cards`.
type CardInfo struct {
	Serial       uint32                `json:"serial"`
	State        string                `json:"state"`
	Reader       string                `json:"reader,omitempty"` // empty when not inserted
	Server       string                `json:"server,omitempty"`
	UserName     string                `json:"userName,omitempty"`
	ValidUntil   time.Time             `json:"validUntil,omitzero"`
	Certificates []handoff.Certificate `json:"certificates,omitempty"`
	// PINPolicy is the last PIN policy the card's server gave; nil before any.
	PINPolicy *cardspec.PINPolicy `json:"pinPolicy,omitempty"`
}

// Cards lists the cards in the card directory, with where each is inserted.
func (a *Agent) Cards() ([]CardInfo, error) {
	infos, err := ListCards(a.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range infos {
		if card := a.cards[infos[i].Serial]; card != nil {
			if att := a.pool.Attachment(card); att != nil {
				infos[i].Reader = a.readers[att.Addr()]
			}
		}
	}
	return infos, nil
}

// ListCards lists the cards under a data directory without an agent (and so without
// readers).
func ListCards(dataDir string) ([]CardInfo, error) {
	serials, err := vcard.List(filepath.Join(dataDir, "cards"))
	if err != nil {
		return nil, fmt.Errorf("list cards: %w", err)
	}
	recs := records{dir: filepath.Join(dataDir, "enrolled")}
	out := make([]CardInfo, 0, len(serials))
	for _, s := range serials {
		info := CardInfo{Serial: s, State: StateUnknown}
		if rec, err := recs.load(s); err == nil && rec != nil {
			info.State, info.Server, info.UserName = rec.State, rec.Server, rec.UserName
			info.ValidUntil, info.Certificates = rec.ValidUntil, rec.Certificates
			info.PINPolicy = rec.PINPolicy
		}
		for i := range info.Certificates {
			info.Certificates[i].PEM = "" // listings stay short; the card has them
		}
		out = append(out, info)
	}
	return out, nil
}

// DeleteFiles deletes a card under a data directory without an agent; it fails with
// vcard.ErrInUse while an agent has the card open.
func DeleteFiles(dataDir string, serial uint32) error {
	dir := filepath.Join(dataDir, "cards")
	serials, err := vcard.List(dir)
	if err != nil {
		return fmt.Errorf("list cards: %w", err)
	}
	if !slices.Contains(serials, serial) {
		return fmt.Errorf("delete card %d: %w", serial, vcard.ErrNotFound)
	}
	if err := vcard.Delete(dir, serial); err != nil {
		return fmt.Errorf("delete card %d: %w", serial, err)
	}
	return records{dir: filepath.Join(dataDir, "enrolled")}.remove(serial)
}

// Close cancels running enrolments (they fail their orders and delete their cards),
// detaches and closes every card.
func (a *Agent) Close() error {
	a.cancel()
	a.wg.Wait()
	a.pool.Close()
	a.mu.Lock()
	defer a.mu.Unlock()
	for serial, c := range a.cards {
		if err := c.Close(); err != nil {
			a.log.Warn("close card", "card", serial, "err", err)
		}
	}
	clear(a.cards)
	if a.tpm != nil {
		if err := a.tpm.Close(); err != nil {
			a.log.Warn("close TPM", "err", err)
		}
	}
	return nil
}

// Slots returns the configured reader slots.
func (a *Agent) Slots() []Slot { return slices.Clone(a.cfg.Slots) }

func parseSerial(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("parse card serial %q: %w", s, err)
	}
	return uint32(n), nil
}

// openTPM opens the configured TPM key store, or returns nil when none is
// configured. A TPM that cannot be used is an error with a code, so the person
// reads what to do.
func openTPM(cfg Config) (*vcard.TPM, error) {
	keyFile := filepath.Join(cfg.DataDir, "tpm.key")
	var tpm *vcard.TPM
	var err error
	switch {
	case cfg.TPMDial != nil:
		var rwc io.ReadWriteCloser
		if rwc, err = cfg.TPMDial(); err == nil {
			tpm, err = vcard.OpenTPM(rwc, keyFile)
		} else {
			err = fmt.Errorf("%w: %w", vcard.ErrTPMUnavailable, err)
		}
	case cfg.TPM != "":
		tpm, err = vcard.OpenTPMDevice(cfg.TPM, keyFile)
	default:
		return nil, nil
	}
	switch {
	case errors.Is(err, vcard.ErrTPMPermission):
		return nil, &handoff.Error{Code: handoff.CodeTPMPermission, Detail: err.Error()}
	case errors.Is(err, vcard.ErrTPMKeysLost):
		return nil, &handoff.Error{Code: handoff.CodeTPMKeysLost, Detail: err.Error()}
	case err != nil:
		return nil, &handoff.Error{Code: handoff.CodeTPMUnavailable, Detail: err.Error()}
	}
	return tpm, nil
}

// openCard opens a card with the key store it was made with: a TPM card with
// the TPM, a software card with the card key.
func (a *Agent) openCard(serial uint32) (*vcard.Card, error) {
	if a.tpm != nil {
		card, err := vcard.Open(a.cardDir, serial, a.tpm)
		if err == nil || !errors.Is(err, vcard.ErrUnseal) {
			return card, err
		}
	}
	return vcard.Open(a.cardDir, serial, a.keys)
}

var _ handoff.EvidenceSource = (*Agent)(nil)
