package ca

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/server/events"
)

// countingStore counts the reads of single records, the read an OCSP request may cost.
type countingStore struct {
	*EntStore
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, serial string) (*Record, error) {
	s.gets.Add(1)
	return s.EntStore.Get(ctx, serial)
}

// following is a CA that follows bus, on a store that counts its reads.
type following struct {
	*testCA
	counts *countingStore
	srv    *httptest.Server
}

// newFollowing opens a CA that follows bus and waits for its filter of issued serials.
// With from, it opens a second instance on from's folder and store, as a second server
// on one database would be.
func newFollowing(t *testing.T, bus events.Watcher, from *following) *following {
	t.Helper()
	var f following
	if from == nil {
		f.testCA = newTestCA(t, func(s Store) Store {
			f.counts = &countingStore{EntStore: s.(*EntStore)}
			return f.counts
		})
	} else {
		f.counts = &countingStore{EntStore: from.store}
		c, err := Open(from.dir, testConfig(from.clock), f.counts)
		if err != nil {
			t.Fatal(err)
		}
		f.testCA = &testCA{CA: c, client: from.client, store: from.store, clock: from.clock, dir: from.dir}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f.Follow(ctx, bus)
	<-f.OCSPFilterLoaded()
	f.srv = httptest.NewServer(f.Handler())
	t.Cleanup(f.srv.Close)
	return &f
}

func (f *following) issue(t *testing.T) *Issued {
	t.Helper()
	got, err := f.Issue(context.Background(), authRequest(makeCSR(t, newP256(t)), f.clock.Now().Add(24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// get sends a GET for cert with extra headers and returns the response and its body.
func (f *following) get(t *testing.T, cert *x509.Certificate, header http.Header) (*http.Response, []byte) {
	t.Helper()
	reqDER, err := ocsp.CreateRequest(cert, f.issuing, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/ca/ocsp/"+base64.StdEncoding.EncodeToString(reqDER), nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}

// status asks f about cert by GET and returns the checked response.
func (f *following) status(t *testing.T, cert *x509.Certificate) *ocsp.Response {
	t.Helper()
	resp, body := f.get(t, cert, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET OCSP: %s", resp.Status)
	}
	r, err := ocsp.ParseResponseForCert(body, cert, f.issuing)
	if err != nil {
		t.Fatalf("parse OCSP response: %v", err)
	}
	return r
}

// TestOCSPPreProduced: a certificate's response is signed once per half validity window
// and served from memory, with RFC 5019's headers on GET; a GET that names its ETag gets
// a 304; POST and nonce requests are not cached by HTTP, and a nonce gets its own
// response.
func TestOCSPPreProduced(t *testing.T) {
	f := newFollowing(t, events.NewLocal(), nil)
	cert := f.issue(t).Certificate

	resp, first := f.get(t, cert, nil)
	reads := f.counts.gets.Load()
	h := resp.Header
	if h.Get("Cache-Control") != "public, max-age=3600, no-transform, must-revalidate" ||
		h.Get("ETag") == "" ||
		h.Get("Last-Modified") != f.clock.Now().UTC().Format(http.TimeFormat) ||
		h.Get("Expires") != f.clock.Now().Add(time.Hour).UTC().Format(http.TimeFormat) {
		t.Errorf("GET headers %v, want RFC 5019's for an hour", h)
	}
	for range 5 {
		if _, again := f.get(t, cert, nil); !bytes.Equal(again, first) {
			t.Fatal("a second GET got a response signed anew")
		}
	}
	if got := f.counts.gets.Load(); got != reads {
		t.Errorf("5 GETs from memory read the store %d times", got-reads)
	}

	t.Run("ok/revalidate-304", func(t *testing.T) {
		resp, body := f.get(t, cert, http.Header{"If-None-Match": {h.Get("ETag")}})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != h.Get("ETag") {
			t.Errorf("GET with the ETag: %s, %d bytes, ETag %q", resp.Status, len(body), resp.Header.Get("ETag"))
		}
		resp, _ = f.get(t, cert, http.Header{"If-None-Match": {`"something-else"`}})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET with another ETag: %s", resp.Status)
		}
	})
	t.Run("ok/post-uncached-from-memory", func(t *testing.T) {
		reqDER, _ := ocsp.CreateRequest(cert, f.issuing, nil)
		resp, err := http.Post(f.srv.URL+"/ca/ocsp", "application/ocsp-request", bytes.NewReader(reqDER))
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("ETag") != "" || !bytes.Equal(body, first) {
			t.Errorf("POST: Cache-Control %q, ETag %q, same response as GET: %v", resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"), bytes.Equal(body, first))
		}
	})
	t.Run("ok/nonce-fresh", func(t *testing.T) {
		resp, body := askOCSP(t, f.srv, http.MethodGet, ocspRequestWith(t, f.testCA, cert, nonceExt(t, []byte("0123456789abcdef"))))
		if bytes.Equal(body, first) || resp.Header.Get("Cache-Control") != "no-store" || len(responseExtensions(t, body)) != 1 {
			t.Errorf("nonce request: Cache-Control %q, same as cached %v", resp.Header.Get("Cache-Control"), bytes.Equal(body, first))
		}
	})
	t.Run("ok/resigned-at-half-validity", func(t *testing.T) {
		f.clock.Advance(30*time.Minute - time.Second)
		if _, body := f.get(t, cert, nil); !bytes.Equal(body, first) {
			t.Error("re-signed before half the validity window")
		}
		f.clock.Advance(time.Second)
		resp, body := f.get(t, cert, nil)
		if bytes.Equal(body, first) || resp.Header.Get("ETag") == h.Get("ETag") {
			t.Fatal("not re-signed at half the validity window")
		}
		if r := f.status(t, cert); !r.ThisUpdate.Equal(f.clock.Now()) {
			t.Errorf("thisUpdate %v, want %v", r.ThisUpdate, f.clock.Now())
		}
		resp, _ = f.get(t, cert, http.Header{"If-None-Match": {h.Get("ETag")}})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the old ETag revalidated: %s", resp.Status)
		}
	})
}

// TestOCSPStateChanges: revoke, hold and release show at once in the responses served
// from memory, on this instance and on another one that follows the same bus.
func TestOCSPStateChanges(t *testing.T) {
	bus := events.NewLocal()
	a := newFollowing(t, bus, nil)
	b := newFollowing(t, bus, a)
	ctx := context.Background()
	held, revoked := a.issue(t), a.issue(t)
	for _, f := range []*following{a, b} {
		for _, c := range []*Issued{held, revoked} {
			if r := f.status(t, c.Certificate); r.Status != ocsp.Good {
				t.Fatalf("fresh certificate: status %d", r.Status)
			}
		}
	}
	check := func(step string, c *Issued, status, reason int) {
		t.Helper()
		for name, f := range map[string]*following{"A": a, "B": b} {
			if r := f.status(t, c.Certificate); r.Status != status || (status == ocsp.Revoked && r.RevocationReason != reason) {
				t.Errorf("%s: %s says status %d reason %d, want %d %d", step, name, r.Status, r.RevocationReason, status, reason)
			}
		}
	}
	if err := a.Revoke(ctx, revoked.Serial, ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	check("revoke on A", revoked, ocsp.Revoked, ocsp.KeyCompromise)
	if err := b.Revoke(ctx, held.Serial, ocsp.CertificateHold); err != nil {
		t.Fatal(err)
	}
	check("hold on B", held, ocsp.Revoked, ocsp.CertificateHold)
	if err := a.Revoke(ctx, held.Serial, ocsp.RemoveFromCRL); err != nil {
		t.Fatal(err)
	}
	check("release on A", held, ocsp.Good, 0)
}

// TestOCSPUnknownSerials: serials the CA never issued are answered unknown without a read
// of the store; a certificate issued on another instance is known here as soon as its
// notice arrives; after notices may have been lost, the filter is loaded again.
func TestOCSPUnknownSerials(t *testing.T) {
	bus := events.NewLocal()
	a := newFollowing(t, bus, nil)
	b := newFollowing(t, bus, a)
	random := func() *x509.Certificate {
		n, _ := rand.Int(rand.Reader, serialLimit)
		return &x509.Certificate{SerialNumber: n.Add(n, big.NewInt(1))}
	}
	before := b.counts.gets.Load()
	for range 200 {
		if r := b.status(t, random()); r.Status != ocsp.Unknown {
			t.Fatalf("random serial: status %d", r.Status)
		}
	}
	if n := b.counts.gets.Load() - before; n != 0 {
		t.Errorf("200 unknown serials read the store %d times, want none", n)
	}

	got := a.issue(t)
	if r := b.status(t, got.Certificate); r.Status != ocsp.Good {
		t.Errorf("a certificate issued on A is %d on B, want good", r.Status)
	}
	resp, _ := b.get(t, random(), nil)
	if resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("ETag") == "" {
		t.Errorf("unknown answer headers %v: want revalidation every time", resp.Header)
	}

	// A reconnect: B forgets its filter and loads it again, with what was issued meanwhile.
	missed, err := a.Issue(context.Background(), authRequest(makeCSR(t, newP256(t)), a.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	bus.NotifyAll()
	<-b.OCSPFilterLoaded()
	if r := b.status(t, missed.Certificate); r.Status != ocsp.Good {
		t.Errorf("after a reload, a certificate is %d on B, want good", r.Status)
	}
	before = b.counts.gets.Load()
	for range 50 {
		b.status(t, random())
	}
	if n := b.counts.gets.Load() - before; n != 0 {
		t.Errorf("after a reload, 50 unknown serials read the store %d times", n)
	}
}

// TestOCSPWithoutFollow: a CA that follows no bus reads the store for every request, as
// before, and so sees another instance's changes at once.
func TestOCSPWithoutFollow(t *testing.T) {
	tc := newTestCA(t, nil)
	got, err := tc.Issue(context.Background(), authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if r := queryOCSP(t, tc, got.Certificate, http.MethodGet); r.Status != ocsp.Good {
		t.Fatal(r.Status)
	}
	if err := tc.store.Revoke(context.Background(), got.Serial, StatusRevoked, tc.clock.Now(), ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	if r := queryOCSP(t, tc, got.Certificate, http.MethodGet); r.Status != ocsp.Revoked {
		t.Errorf("status %d after the store changed, want revoked", r.Status)
	}
	if k, u := tc.OCSPCached(); k+u != 0 {
		t.Errorf("a CA without a bus cached %d responses", k+u)
	}
}
