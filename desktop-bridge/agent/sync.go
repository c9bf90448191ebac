package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// Why a card left the desktop, in removed/<serial>.json.
const (
	RemovedOutOfService = "OUT_OF_SERVICE"   // the server says the card is revoked or deleted
	RemovedUnknown      = "UNKNOWN_CARD"     // the server has no such card (deleted for good)
	DefaultSyncInterval = 15 * time.Minute   // the fallback contact when no subscription runs
	maxFollowBackoff    = 5 * time.Minute    // bound on the wait between subscription attempts
	minFollowBackoff    = 2 * time.Second    // first wait after a lost subscription
	syncTimeout         = 30 * time.Second   // one contact with the server
	removedRecordMode   = os.FileMode(0o600) // what is kept of a removed card
)

// PINChangeReport is the result of a PIN change made without the portal (`vscard-bridge
// pin change`), as a code of the server's enum PinChangeResult; the agent queues it and
// sends it on the next contact with the card's server.
type PINChangeReport struct {
	Result    api.PinChangeResult `json:"result"`
	At        time.Time           `json:"at"`
	TriesLeft *int                `json:"triesLeft,omitempty"`
}

// removal is what the agent keeps of a card that left the desktop, for forensics: which
// card, from which server and order, with which certificates (public), when and why. The
// card file (its keys, PIN and PUK) is deleted: its certificates are revoked, so keeping
// the keys would only keep a risk.
type removal struct {
	record
	RemovedAt time.Time `json:"removedAt"`
	Reason    string    `json:"reason"`
	State     string    `json:"serverState,omitempty"`
}

// SyncCard contacts the card's server now: it proves the card (server/cardproof),
// reports its PIN state and the queued PIN changes, and removes the card if the server
// says it is out of service. It returns the card's state on the server ("" when the
// card was removed as unknown). A card without a server (made by another tool) is
// skipped.
func (a *Agent) SyncCard(ctx context.Context, serial uint32) (string, error) {
	rec, card, err := a.syncable(serial)
	if err != nil || rec == nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	client, err := api.New(rec.Server, a.cfg.HTTPClient)
	if err != nil {
		return "", err
	}
	// The server keeps one challenge per card: a follower's proof must not replace this
	// one before syncCard has used it.
	unlock := a.lockProof(serial)
	defer unlock()
	proof, err := a.prove(ctx, client, serial, card)
	if err != nil {
		return "", err
	}
	left, pukBlocked := card.PINStatus()
	report := api.CardReportInput{Proof: proof, PinState: &api.CardPinStateInput{TriesLeft: left, Blocked: left == 0, PukBlocked: pukBlocked}}
	queued, err := a.pending.load(serial)
	if err != nil {
		a.log.Warn("read queued PIN changes", "card", serial, "err", err)
	}
	for _, q := range queued {
		report.PinChanges = append(report.PinChanges, api.PinChangeReportInput{Result: q.Result, At: q.At, TriesLeft: q.TriesLeft})
	}
	repairs, err := a.repairs.load(serial)
	if err != nil {
		a.log.Warn("read queued card repairs", "card", serial, "err", err)
	}
	report.KeyRepairs = repairs
	if done := a.reportCutShort(card, &report); done != nil {
		defer done()
	}
	resp, err := api.SyncCard(ctx, client.GraphQL(), report)
	if err != nil {
		return "", fmt.Errorf("sync card %d with %s: %w", serial, rec.Server, err)
	}
	if len(queued) > 0 {
		if err := a.pending.drop(serial, len(queued)); err != nil {
			a.log.Warn("drop sent PIN changes", "card", serial, "err", err)
		}
	}
	if len(repairs) > 0 {
		if err := a.repairs.drop(serial, len(repairs)); err != nil {
			a.log.Warn("drop sent card repairs", "card", serial, "err", err)
		}
	}
	st := resp.SyncCard
	if st.PinPolicy != nil {
		if err := a.keepPINPolicy(serial, handoff.PolicyOf(*st.PinPolicy)); err != nil {
			a.log.Warn("record PIN policy", "card", serial, "err", err)
		}
	}
	if st.Remove {
		return string(st.State), a.retire(serial, RemovedOutOfService, string(st.State))
	}
	a.repairCard(serial, st.Certificates)
	return string(st.State), nil
}

// syncable returns the card's record and the open card, or nil when the card has no
// server to sync with.
func (a *Agent) syncable(serial uint32) (*record, *vcard.Card, error) {
	rec, err := a.recs.load(serial)
	if err != nil {
		return nil, nil, err
	}
	if rec == nil || rec.Server == "" || rec.State != StateReady {
		return nil, nil, nil
	}
	a.mu.Lock()
	card := a.cards[serial]
	a.mu.Unlock()
	if card == nil {
		return nil, nil, fmt.Errorf("sync card %d: %w", serial, vcard.ErrNotFound)
	}
	return rec, card, nil
}

// prove asks the server for a challenge and has the card answer it. A server that has no
// such card gets the card removed (errRetired).
func (a *Agent) prove(ctx context.Context, client *api.Client, serial uint32, card *vcard.Card) (api.CardProofInput, error) {
	s := strconv.FormatUint(uint64(serial), 10)
	ch, err := api.CardChallenge(ctx, client.GraphQL(), s)
	if api.Code(err) == api.ErrorCodeNotFound {
		if err := a.retire(serial, RemovedUnknown, ""); err != nil {
			return api.CardProofInput{}, err
		}
		return api.CardProofInput{}, errRetired
	}
	if err != nil {
		return api.CardProofInput{}, fmt.Errorf("ask for a challenge for card %d: %w", serial, err)
	}
	raw, err := base64.StdEncoding.DecodeString(ch.CardChallenge.Challenge)
	if err != nil {
		return api.CardProofInput{}, fmt.Errorf("decode challenge for card %d: %w", serial, err)
	}
	return api.CardProofInput{Serial: s, Challenge: ch.CardChallenge.Challenge,
		Response: base64.StdEncoding.EncodeToString(card.Prove(raw))}, nil
}

// lockProof takes the card's proof lock and returns what releases it.
func (a *Agent) lockProof(serial uint32) func() {
	a.mu.Lock()
	m := a.proofs[serial]
	if m == nil {
		m = &sync.Mutex{}
		a.proofs[serial] = m
	}
	a.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// errRetired: the card left the desktop during a contact.
var errRetired = errors.New("the card left the desktop")

// SyncAll contacts the servers of every card the agent hosts; failures are logged.
func (a *Agent) SyncAll(ctx context.Context) {
	a.mu.Lock()
	serials := make([]uint32, 0, len(a.cards))
	for s := range a.cards {
		serials = append(serials, s)
	}
	a.mu.Unlock()
	for _, s := range serials {
		if _, err := a.SyncCard(ctx, s); err != nil && !errors.Is(err, errRetired) {
			a.log.Warn("sync card with its server", "card", s, "err", err)
		}
	}
}

// retire takes a card out of service on this desktop: out of its reader (which is then
// free for the next card), its file deleted, its record kept under removed/.
func (a *Agent) retire(serial uint32, reason, state string) error {
	rec, err := a.recs.load(serial)
	if err != nil {
		return err
	}
	if rec != nil {
		kept := removal{record: *rec, RemovedAt: time.Now().UTC(), Reason: reason, State: state}
		b, err := json.MarshalIndent(kept, "", "  ")
		if err == nil {
			dir := filepath.Join(a.cfg.DataDir, "removed")
			if err = os.MkdirAll(dir, 0o700); err == nil {
				err = os.WriteFile(filepath.Join(dir, strconv.FormatUint(uint64(serial), 10)+".json"), b, removedRecordMode)
			}
		}
		if err != nil {
			a.log.Warn("keep the record of a removed card", "card", serial, "err", err)
		}
	}
	a.log.Info("card left the desktop: the server says it is out of service", "card", serial, "reason", reason, "state", state)
	a.stopFollowing(serial)
	if err := a.DeleteCard(serial); err != nil {
		return err
	}
	_ = a.pending.remove(serial)
	_ = a.repairs.save(serial, nil)
	if a.cfg.OnRemoved != nil {
		a.cfg.OnRemoved(serial, reason)
	}
	return nil
}

// WasRemoved reports whether the card left the desktop under dataDir because its server
// said it is out of service (removed/<serial>.json is kept).
func WasRemoved(dataDir string, serial uint32) bool {
	_, err := os.Stat(filepath.Join(dataDir, "removed", strconv.FormatUint(uint64(serial), 10)+".json"))
	return err == nil
}

// QueuePINChange keeps the result of a PIN change for the card's server and sends it
// now if it can. It reports whether the server has it.
func (a *Agent) QueuePINChange(ctx context.Context, serial uint32, r PINChangeReport) (bool, error) {
	if err := a.pending.add(serial, r); err != nil {
		return false, err
	}
	if _, err := a.SyncCard(ctx, serial); err != nil {
		a.log.Info("PIN change queued for the next contact", "card", serial, "err", err)
		return false, nil
	}
	return true, nil
}

// syncLoop contacts every card's server at start, after each hand-off, and every
// SyncInterval, and keeps a subscription to each card's state.
func (a *Agent) syncLoop() {
	interval := a.cfg.SyncInterval
	if interval == 0 {
		interval = DefaultSyncInterval
	}
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		a.SyncAll(a.ctx)
		a.followAll()
		select {
		case <-a.ctx.Done():
			return
		case <-tick:
		case <-a.kick:
		}
	}
}

// watchPINs reports a card's PIN state to its server as soon as it changed on this
// desktop (wrong PINs, a blocked PIN, a PIN unblocked by another tool). Reading the
// counters costs a lock per card and no I/O; only a change costs a contact.
func (a *Agent) watchPINs() {
	interval := a.cfg.PINWatchInterval
	if interval == 0 {
		interval = 2 * time.Second
	}
	if interval < 0 {
		return
	}
	type pinState struct {
		left       int
		pukBlocked bool
	}
	seen := map[uint32]pinState{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
		a.mu.Lock()
		now := make(map[uint32]pinState, len(a.cards))
		for s, c := range a.cards {
			left, puk := c.PINStatus()
			now[s] = pinState{left, puk}
		}
		a.mu.Unlock()
		for s, st := range now {
			// A card seen for the first time is reported when it is blocked already: the
			// wrong PINs may all have come between two looks (a new card, a busy host).
			if old, ok := seen[s]; (ok && old != st) || (!ok && (st.left == 0 || st.pukBlocked)) {
				if _, err := a.SyncCard(a.ctx, s); err != nil && !errors.Is(err, errRetired) {
					a.log.Info("report PIN state", "card", s, "err", err)
					continue // try again on the next look
				}
			}
			seen[s] = st
		}
		for s := range seen {
			if _, ok := now[s]; !ok {
				delete(seen, s)
			}
		}
	}
}

// Kick asks for a contact with every card's server soon (after a hand-off).
func (a *Agent) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// followAll starts a subscription for each hosted card that has a server and none yet.
func (a *Agent) followAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for serial := range a.cards {
		if _, ok := a.followers[serial]; ok {
			continue
		}
		rec, err := a.recs.load(serial)
		if err != nil || rec == nil || rec.Server == "" || rec.State != StateReady {
			continue
		}
		ctx, cancel := context.WithCancel(a.ctx)
		a.followers[serial] = cancel
		a.wg.Go(func() { a.follow(ctx, serial, rec.Server) })
	}
}

func (a *Agent) stopFollowing(serial uint32) {
	a.mu.Lock()
	cancel := a.followers[serial]
	delete(a.followers, serial)
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// follow keeps a cardUpdated subscription to one card: each attempt proves the card
// afresh; a lost connection is retried after a wait that doubles up to maxFollowBackoff.
// Meanwhile the periodic contact (syncLoop) still finds a card gone out of service.
func (a *Agent) follow(ctx context.Context, serial uint32, server string) {
	defer func() {
		a.mu.Lock()
		if ctx.Err() == nil { // ended on its own: a later contact may start it again
			delete(a.followers, serial)
		}
		a.mu.Unlock()
	}()
	client, err := api.New(server, a.cfg.HTTPClient)
	if err != nil {
		a.log.Warn("follow card", "card", serial, "err", err)
		return
	}
	backoff := minFollowBackoff
	for ctx.Err() == nil {
		_, card, err := a.syncable(serial)
		if err != nil || card == nil {
			return
		}
		// Held until the server has used the proof (its first answer), so that a contact
		// does not replace the challenge meanwhile.
		unlock := sync.OnceFunc(a.lockProof(serial))
		pctx, cancel := context.WithTimeout(ctx, syncTimeout)
		proof, err := a.prove(pctx, client, serial, card)
		cancel()
		if errors.Is(err, errRetired) {
			unlock()
			return
		}
		if err == nil {
			err = client.WatchCard(ctx, proof, func(st api.CardSyncState) bool {
				unlock()
				backoff = minFollowBackoff // it worked: the next loss starts over
				if !st.Remove {
					a.repairCard(serial, st.Certificates)
					return true
				}
				if err := a.retire(serial, RemovedOutOfService, string(st.State)); err != nil {
					a.log.Warn("remove card", "card", serial, "err", err)
				}
				return false
			})
		}
		unlock()
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, api.ErrSubscriptionEnded) {
			a.log.Info("card subscription lost; trying again", "card", serial, "err", err, "in", backoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff/2 + rand.N(backoff/2+1)):
		}
		backoff = min(2*backoff, maxFollowBackoff)
	}
}

// pendingQueue keeps the PIN change results not yet sent, one JSON list per card.
type pendingQueue struct{ dir string }

func (p pendingQueue) path(serial uint32) string {
	return filepath.Join(p.dir, strconv.FormatUint(uint64(serial), 10)+".json")
}

func (p pendingQueue) load(serial uint32) ([]PINChangeReport, error) {
	b, err := os.ReadFile(p.path(serial))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read queued PIN changes: %w", err)
	}
	var out []PINChangeReport
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("parse queued PIN changes: %w", err)
	}
	return out, nil
}

func (p pendingQueue) save(serial uint32, list []PINChangeReport) error {
	if len(list) == 0 {
		return p.remove(serial)
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return fmt.Errorf("create queue directory: %w", err)
	}
	b, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("encode queued PIN changes: %w", err)
	}
	tmp := p.path(serial) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write queued PIN changes: %w", err)
	}
	if err := os.Rename(tmp, p.path(serial)); err != nil {
		return fmt.Errorf("write queued PIN changes: %w", err)
	}
	return nil
}

// maxQueued bounds a card's queue (the server takes at most 20 at once): the oldest go.
const maxQueued = 20

func (p pendingQueue) add(serial uint32, r PINChangeReport) error {
	list, err := p.load(serial)
	if err != nil {
		list = nil // a damaged queue is replaced rather than blocking every report after it
	}
	list = append(list, r)
	if len(list) > maxQueued {
		list = list[len(list)-maxQueued:]
	}
	return p.save(serial, list)
}

// drop removes the n oldest entries, which the server has.
func (p pendingQueue) drop(serial uint32, n int) error {
	list, err := p.load(serial)
	if err != nil {
		return err
	}
	return p.save(serial, list[min(n, len(list)):])
}

func (p pendingQueue) remove(serial uint32) error {
	if err := os.Remove(p.path(serial)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove queued PIN changes: %w", err)
	}
	return nil
}
