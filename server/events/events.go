// Package events carries "this changed" notices from the code that changes state to the
// GraphQL subscriptions that show it.
//
// A notice names a key ("order:ord_…") and nothing else: receivers re-read the state they
// care about. That keeps notices tiny, lets them cross server instances (PostgreSQL
// LISTEN/NOTIFY), and makes a missed or coalesced notice harmless: the next one, or a
// resync after a lost connection, brings the subscriber up to date.
package events

import (
	"context"
	"strings"
	"sync"
)

// Bus publishes and delivers notices.
type Bus interface {
	// Publish tells every subscriber of key that it changed.
	Publish(ctx context.Context, key string) error
	// Subscribe returns a channel that receives a value whenever key changes. Notices
	// coalesce: a subscriber that is slow sees one notice for several changes. The channel
	// is closed when ctx ends.
	Subscribe(ctx context.Context, key string) (<-chan struct{}, error)
}

// OrderKey is the key of an order's notices.
func OrderKey(orderID string) string { return orderPrefix + orderID }

const orderPrefix = "order:"

// CardKey is the key of a card's notices (cardUpdated), by the card's id: the code that
// changes a card has its id at hand, and a subscriber looks it up once.
func CardKey(cardID string) string { return cardPrefix + cardID }

const cardPrefix = "card:"

// Local is the in-process Bus, used with SQLite (one instance) and as the fan-out stage of
// the PostgreSQL bus.
type Local struct {
	mu       sync.Mutex
	subs     map[string]map[chan struct{}]struct{}
	watchers map[*watcher]struct{}
}

type watcher struct {
	prefix string
	fn     func(key string)
}

// Watcher is a Bus that also hands every notice whose key starts with a prefix to a
// function, for a cache that follows many keys (the CA's OCSP responses, one key per
// certificate) where a subscription per key would not do. Local and Postgres implement it.
type Watcher interface {
	Bus
	// Watch calls fn with the key of every notice that starts with prefix, and with ""
	// when notices may have been lost (a reconnect): then everything may have changed.
	// fn runs on the delivering goroutine, before the notice reaches the subscribers of
	// its key, so a subscriber that hears a notice knows fn has seen it. fn must be quick
	// and must not call the bus. The watch ends when ctx ends.
	Watch(ctx context.Context, prefix string, fn func(key string))
}

var _ Watcher = (*Local)(nil)

// Watch implements Watcher.
func (l *Local) Watch(ctx context.Context, prefix string, fn func(key string)) {
	w := &watcher{prefix: prefix, fn: fn}
	l.mu.Lock()
	if l.watchers == nil {
		l.watchers = map[*watcher]struct{}{}
	}
	l.watchers[w] = struct{}{}
	l.mu.Unlock()
	context.AfterFunc(ctx, func() {
		l.mu.Lock()
		delete(l.watchers, w)
		l.mu.Unlock()
	})
}

// NewLocal returns an empty in-process bus.
func NewLocal() *Local { return &Local{subs: map[string]map[chan struct{}]struct{}{}} }

// Publish implements Bus.
func (l *Local) Publish(_ context.Context, key string) error {
	l.Notify(key)
	return nil
}

// Notify wakes every subscriber of key without blocking.
func (l *Local) Notify(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for w := range l.watchers {
		if strings.HasPrefix(key, w.prefix) {
			w.fn(key)
		}
	}
	for ch := range l.subs[key] {
		select {
		case ch <- struct{}{}:
		default: // a notice is already pending; the subscriber will re-read anyway
		}
	}
}

// NotifyAll wakes every subscriber, e.g. after a lost connection to the database, so that
// each re-reads its state.
func (l *Local) NotifyAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for w := range l.watchers {
		w.fn("")
	}
	for _, set := range l.subs {
		for ch := range set {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// Subscribe implements Bus. A subscription costs a channel and a map entry, no
// goroutine: Notify sends to the channel directly (never blocking, under l.mu), and when
// ctx ends the channel leaves the map and is closed, under l.mu too, so no send can follow.
func (l *Local) Subscribe(ctx context.Context, key string) (<-chan struct{}, error) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	if l.subs[key] == nil {
		l.subs[key] = map[chan struct{}]struct{}{}
	}
	l.subs[key][ch] = struct{}{}
	l.mu.Unlock()
	context.AfterFunc(ctx, func() { l.unsubscribe(key, ch) })
	return ch, nil
}

func (l *Local) unsubscribe(key string, ch chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.subs[key], ch)
	if len(l.subs[key]) == 0 {
		delete(l.subs, key)
	}
	close(ch)
}

// Subscribers returns how many subscriptions are open (for metrics and tests).
func (l *Local) Subscribers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, set := range l.subs {
		n += len(set)
	}
	return n
}
