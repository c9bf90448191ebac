package ca

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vscard/vscard/server/events"
)

// CertKeyPrefix starts the event-bus key of every notice about one certificate
// ([CertKey]): the CA publishes one when it reserves, issues, revokes, holds or releases a
// certificate, and every instance's OCSP responder re-reads that certificate.
const CertKeyPrefix = "ca:cert:"

// CertKey is the event-bus key of the notices about the certificate with serial (in
// formatSerial's form).
func CertKey(serial string) string { return CertKeyPrefix + serial }

// ocspShards spreads the OCSP caches' locks so that 16 requests in flight rarely meet.
const ocspShards = 64

// ocspEntry is one pre-produced response: one certificate, one CertID hash algorithm.
type ocspEntry struct {
	hash    crypto.Hash
	certID  []byte // as the request sent it, to re-sign before anyone asks
	answer  ocspAnswer
	refresh time.Time // re-sign from then on: half way through the validity window
}

// ocspCache holds pre-produced responses by serial, about size serials at most. It forgets an
// arbitrary serial when full: the responses are cheap to make again, and a flood of
// requests cannot make it grow.
type ocspCache struct {
	seed     maphash.Seed
	perShard int
	shards   [ocspShards]ocspShard
}

type ocspShard struct {
	mu sync.Mutex
	// gen counts the drops in this shard: a response signed from a record read before a
	// drop is served but not kept, since the record may be older than the change.
	gen uint64
	m   map[string][]*ocspEntry
}

func newOCSPCache(size int) *ocspCache {
	oc := &ocspCache{seed: maphash.MakeSeed(), perShard: max(1, size/ocspShards)}
	for i := range oc.shards {
		oc.shards[i].m = map[string][]*ocspEntry{}
	}
	return oc
}

func (oc *ocspCache) shard(serial string) *ocspShard {
	return &oc.shards[maphash.String(oc.seed, serial)%ocspShards]
}

// get returns the response for serial and hash that is still fresh at now.
func (oc *ocspCache) get(serial string, hash crypto.Hash, now time.Time) (ocspAnswer, bool) {
	sh := oc.shard(serial)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, e := range sh.m[serial] {
		if e.hash == hash && now.Before(e.refresh) && !now.Before(e.answer.ThisUpdate) {
			return e.answer, true
		}
	}
	return ocspAnswer{}, false
}

// generation is what put must be given for a response made from a record read after it.
func (oc *ocspCache) generation(serial string) uint64 {
	sh := oc.shard(serial)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.gen
}

// put keeps e for serial unless the shard dropped something since gen.
func (oc *ocspCache) put(serial string, gen uint64, e *ocspEntry) {
	sh := oc.shard(serial)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.gen != gen {
		return
	}
	entries, ok := sh.m[serial]
	if !ok && len(sh.m) >= oc.perShard {
		for victim := range sh.m { // map order is arbitrary enough
			delete(sh.m, victim)
			break
		}
	}
	for i, old := range entries {
		if old.hash == e.hash {
			entries[i] = e
			return
		}
	}
	sh.m[serial] = append(entries, e)
}

// drop forgets serial's responses and returns them, to be re-signed.
func (oc *ocspCache) drop(serial string) []*ocspEntry {
	sh := oc.shard(serial)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.gen++
	entries := sh.m[serial]
	delete(sh.m, serial)
	return entries
}

// clear forgets everything.
func (oc *ocspCache) clear() {
	for i := range oc.shards {
		sh := &oc.shards[i]
		sh.mu.Lock()
		sh.gen++
		clear(sh.m)
		sh.mu.Unlock()
	}
}

// len is how many serials the cache holds.
func (oc *ocspCache) len() int {
	n := 0
	for i := range oc.shards {
		sh := &oc.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// requestIndex remembers which certificate and CertID hash a request without a nonce
// asks about, by its DER, so that a request seen before is answered without parsing it
// (ASN.1 parsing is most of what a response from memory costs). What a request asks
// never changes, so entries are only forgotten to stay within the bound.
type requestIndex struct {
	seed     maphash.Seed
	perShard int
	shards   [ocspShards]struct {
		mu sync.Mutex
		m  map[string]requestKey
	}
}

type requestKey struct {
	serial string
	hash   crypto.Hash
}

func newRequestIndex(size int) *requestIndex {
	ix := &requestIndex{seed: maphash.MakeSeed(), perShard: max(1, size/ocspShards)}
	for i := range ix.shards {
		ix.shards[i].m = map[string]requestKey{}
	}
	return ix
}

func (ix *requestIndex) get(reqDER []byte) (requestKey, bool) {
	sh := &ix.shards[maphash.Bytes(ix.seed, reqDER)%ocspShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	k, ok := sh.m[string(reqDER)]
	return k, ok
}

func (ix *requestIndex) put(reqDER []byte, k requestKey) {
	sh := &ix.shards[maphash.Bytes(ix.seed, reqDER)%ocspShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[string(reqDER)]; !ok && len(sh.m) >= ix.perShard {
		for victim := range sh.m {
			delete(sh.m, victim)
			break
		}
	}
	sh.m[string(reqDER)] = k
}

func etagOf(der []byte) string {
	sum := sha256.Sum256(der)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// SerialLister is what the OCSP responder's filter of issued serials needs from a Store
// beyond [Store]. EntStore implements it; without it, every unknown serial is a read.
type SerialLister interface {
	// CountSerials is how many records there are, to size the filter.
	CountSerials(ctx context.Context) (int, error)
	// Serials returns up to limit serials greater than after (in the database's order of
	// the serial column), for keyset pagination.
	Serials(ctx context.Context, after string, limit int) ([]string, error)
}

// serialFilter is a Bloom filter of the serials the CA has recorded: "no" is certain, so
// OCSP answers unknown without a read; "maybe" (about 1% of unknown serials, by its size)
// costs a read. Bits are set and read atomically: adds are rare, reads constant.
type serialFilter struct {
	seed1, seed2 maphash.Seed
	bits         []atomic.Uint64
	m            uint64
	capacity     int64
	n            atomic.Int64
}

// filterBitsPerEntry and filterHashes give a false-positive rate near 1%.
const (
	filterBitsPerEntry = 10
	filterHashes       = 7
	minFilterCapacity  = 1 << 20
)

func newSerialFilter(expected int) *serialFilter {
	capacity := max(minFilterCapacity, 2*expected)
	words := (capacity*filterBitsPerEntry + 63) / 64
	return &serialFilter{
		seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(),
		bits: make([]atomic.Uint64, words), m: uint64(words) * 64, capacity: int64(capacity),
	}
}

func (f *serialFilter) positions(serial string, fn func(word int, bit uint64) bool) {
	h1, h2 := maphash.String(f.seed1, serial), maphash.String(f.seed2, serial)|1
	for i := range uint64(filterHashes) {
		p := (h1 + i*h2) % f.m
		if !fn(int(p/64), 1<<(p%64)) {
			return
		}
	}
}

func (f *serialFilter) add(serial string) {
	f.positions(serial, func(w int, bit uint64) bool { f.bits[w].Or(bit); return true })
	f.n.Add(1)
}

func (f *serialFilter) has(serial string) bool {
	all := true
	f.positions(serial, func(w int, bit uint64) bool {
		all = f.bits[w].Load()&bit != 0
		return all
	})
	return all
}

// issuedFilter keeps a serialFilter in step with the store: every serial this instance
// reserves and every serial another instance announces on the bus is added, and a new
// filter is loaded from the store when the old one is full or notices may have been lost.
// Until a filter is loaded, every serial may exist (and is read from the store).
type issuedFilter struct {
	lister SerialLister

	mu      sync.Mutex // orders adds against swaps
	cur     atomic.Pointer[serialFilter]
	loading *serialFilter
}

// mayHave reports whether the store may hold serial.
func (fl *issuedFilter) mayHave(serial string) bool {
	f := fl.cur.Load()
	return f == nil || f.has(serial)
}

// add records serial, and reports whether the filter is full and should be reloaded.
func (fl *issuedFilter) add(serial string) (full bool) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.loading != nil {
		fl.loading.add(serial)
	}
	if f := fl.cur.Load(); f != nil {
		f.add(serial)
		return f.n.Load() > f.capacity && fl.loading == nil
	}
	return false
}

// forget drops the filter: every serial is read from the store until reload ends.
func (fl *issuedFilter) forget() { fl.cur.Store(nil) }

// reload builds a new filter from the store. Serials added meanwhile go into the new
// filter too, so one that the scan has passed is not lost: the scan reads committed rows
// batch by batch, and a serial committed after its batch was read is announced after
// loading began.
func (fl *issuedFilter) reload(ctx context.Context) error {
	n, err := fl.lister.CountSerials(ctx)
	if err != nil {
		return fmt.Errorf("count CA records: %w", err)
	}
	f := newSerialFilter(n)
	fl.mu.Lock()
	if fl.loading != nil {
		fl.mu.Unlock()
		return errors.New("load serial filter: already loading")
	}
	fl.loading = f
	fl.mu.Unlock()
	defer func() {
		fl.mu.Lock()
		if fl.loading == f {
			fl.loading = nil
		}
		fl.mu.Unlock()
	}()
	const batch = 10_000
	after := ""
	for {
		serials, err := fl.lister.Serials(ctx, after, batch)
		if err != nil {
			return fmt.Errorf("list CA serials: %w", err)
		}
		for _, s := range serials {
			f.add(s)
		}
		if len(serials) < batch {
			break
		}
		after = serials[len(serials)-1]
	}
	fl.mu.Lock()
	fl.cur.Store(f)
	fl.loading = nil
	fl.mu.Unlock()
	return nil
}

// live is the OCSP responder's state once the CA follows an event bus ([CA.Follow]):
// the caches of pre-produced responses and the filter of issued serials.
type live struct {
	ctx     context.Context
	bus     events.Bus
	known   *ocspCache // good and revoked
	unknown *ocspCache // kept apart, so random serials cannot push out known ones
	// requests short-cuts parsing for requests for known certificates seen before.
	requests *requestIndex
	filter   *issuedFilter
	resign   chan struct{} // bounds the re-signing goroutines
	// reloading lets one filter load run at a time; loaded is closed when the last one
	// started has ended.
	reloading atomic.Bool
	loaded    atomic.Pointer[chan struct{}]
}

// Follow makes the CA pre-produce OCSP responses, keep them in memory until half their
// validity has passed, and answer unknown serials from a filter of the issued ones;
// bus is how it hears of certificates that other instances sharing its store issue,
// revoke, hold and release, and how it tells them of its own changes. It returns at once;
// the filter loads in the background (until then, unknown serials are read from the
// store). Without Follow, every OCSP request reads the store and is signed anew.
//
// Every instance that shares the store must follow the same bus: an instance that does
// not would not tell the others of its changes.
func (c *CA) Follow(ctx context.Context, bus events.Watcher) {
	lv := &live{
		ctx: ctx, bus: bus,
		known:    newOCSPCache(c.cfg.OCSPCacheSize),
		unknown:  newOCSPCache(max(1, c.cfg.OCSPCacheSize/4)),
		requests: newRequestIndex(c.cfg.OCSPCacheSize),
		resign:   make(chan struct{}, 2),
	}
	done := make(chan struct{})
	close(done)
	lv.loaded.Store(&done)
	if lister, ok := c.store.(SerialLister); ok {
		lv.filter = &issuedFilter{lister: lister}
	}
	bus.Watch(ctx, CertKeyPrefix, func(key string) {
		if key == "" { // notices may have been lost
			lv.known.clear()
			lv.unknown.clear()
			if lv.filter != nil {
				lv.filter.forget()
				c.reloadFilter()
			}
			return
		}
		c.changed(key[len(CertKeyPrefix):])
	})
	c.live.Store(lv)
	c.reloadFilter()
}

// reloadFilter loads the filter of issued serials in the background, once at a time.
func (c *CA) reloadFilter() {
	lv := c.live.Load()
	if lv == nil || lv.filter == nil || !lv.reloading.CompareAndSwap(false, true) {
		return
	}
	done := make(chan struct{})
	lv.loaded.Store(&done)
	go func() {
		defer close(done)
		defer lv.reloading.Store(false)
		if err := lv.filter.reload(lv.ctx); err != nil && lv.ctx.Err() == nil {
			c.cfg.Logger.Error("load the OCSP filter of issued serials; unknown serials are read from the database meanwhile", "err", err)
		}
	}()
}

// changed is called for every notice about serial, this instance's own included: the
// serial exists, and its responses are re-signed from the record as it is now.
func (c *CA) changed(serial string) {
	lv := c.live.Load()
	if lv == nil {
		return
	}
	c.crl.invalidate(serial) // another instance's revocation: re-sign the CRLs too
	if lv.filter != nil && lv.filter.add(serial) {
		c.reloadFilter()
	}
	lv.unknown.drop(serial)
	entries := lv.known.drop(serial)
	if len(entries) == 0 {
		return
	}
	select {
	case lv.resign <- struct{}{}:
	default:
		return // busy: the next request signs
	}
	go func() {
		defer func() { <-lv.resign }()
		for _, e := range entries {
			if _, err := c.produceOCSP(lv.ctx, serial, e.hash, e.certID); err != nil && lv.ctx.Err() == nil {
				c.cfg.Logger.Error("re-sign OCSP response", "serial", serial, "err", err)
			}
		}
	}()
}

// announce tells every instance (this one through its own watcher) that serial changed.
// A lost notice is not fatal to the change: the store has it; instances pick it up when
// they re-sign.
func (c *CA) announce(ctx context.Context, serial string) {
	lv := c.live.Load()
	if lv == nil {
		return
	}
	c.changed(serial) // at once here, whatever the bus does
	if err := lv.bus.Publish(context.WithoutCancel(ctx), CertKey(serial)); err != nil {
		c.cfg.Logger.ErrorContext(ctx, "announce a certificate change to the other instances", "serial", serial, "err", err)
	}
}

// ReloadOCSPFilter loads the filter of issued serials from the store again, in the
// background, and returns a channel closed when it is done: after records were added
// behind the CA's back (a bulk import), which no notice announced.
func (c *CA) ReloadOCSPFilter() <-chan struct{} {
	if lv := c.live.Load(); lv != nil {
		lv.known.clear()
		lv.unknown.clear()
		c.reloadFilter()
	}
	return c.OCSPFilterLoaded()
}

// OCSPFilterLoaded is closed once the filter of issued serials that is loading (after
// Follow, or after notices may have been lost) has loaded, or failed to. Tests and
// benchmarks wait on it.
func (c *CA) OCSPFilterLoaded() <-chan struct{} {
	if lv := c.live.Load(); lv != nil {
		return *lv.loaded.Load()
	}
	ch := make(chan struct{})
	close(ch)
	return ch
}

// OCSPCached is how many certificates have responses in memory (known, unknown).
func (c *CA) OCSPCached() (known, unknown int) {
	if lv := c.live.Load(); lv != nil {
		return lv.known.len(), lv.unknown.len()
	}
	return 0, 0
}
