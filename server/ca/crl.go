package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"time"
)

// crlCache holds the last signed CRL. A revocation bumps gen, which makes the next request
// re-sign; so does age past half the CRL's validity.
type crlCache struct {
	gen atomic.Uint64

	mu      sync.Mutex // serialises re-signing
	current *signedCRL
	builtAt uint64 // gen when current was built
}

// signedCRL is one CRL with the fields the HTTP layer needs.
type signedCRL struct {
	DER        []byte
	Number     *big.Int
	ThisUpdate time.Time
	NextUpdate time.Time
}

func (cc *crlCache) invalidate() { cc.gen.Add(1) }

// CRL returns the current DER-encoded CRL of the issuing CA, signing a new one when a
// certificate was revoked or held since the last, or the last is past half its validity.
//
// Each server instance keeps its own cache; with several instances, a revocation made on
// another instance shows in this one's CRL after at most Config.CRLMaxAge (OCSP reads the
// store on every request and is always current).
func (c *CA) CRL(ctx context.Context) ([]byte, error) {
	crl, err := c.currentCRL(ctx)
	if err != nil {
		return nil, err
	}
	return crl.DER, nil
}

func (c *CA) currentCRL(ctx context.Context) (*signedCRL, error) {
	cc := &c.crl
	cc.mu.Lock()
	defer cc.mu.Unlock()
	now := c.cfg.Now().UTC()
	gen := cc.gen.Load()
	if cur := cc.current; cur != nil && cc.builtAt == gen &&
		now.Before(cur.ThisUpdate.Add(cur.NextUpdate.Sub(cur.ThisUpdate)/2)) &&
		now.Sub(cur.ThisUpdate) < c.cfg.CRLMaxAge {
		return cur, nil
	}
	// Read gen before the store: a revocation during the build triggers another one.
	var last *big.Int
	if cc.current != nil {
		last = cc.current.Number
	}
	crl, err := c.signCRL(ctx, now, last)
	if err != nil {
		return nil, err
	}
	cc.current, cc.builtAt = crl, gen
	return crl, nil
}

// signCRL signs a CRL of every held or revoked certificate that expired less than one CRL
// validity ago, so each revoked certificate appears on at least one CRL issued after it
// expires (RFC 5280 3.3).
func (c *CA) signCRL(ctx context.Context, now time.Time, last *big.Int) (*signedCRL, error) {
	recs, err := c.store.ListRevoked(ctx, now.Add(-c.cfg.CRLValidity))
	if err != nil {
		return nil, fmt.Errorf("list revoked CA records: %w", err)
	}
	entries := make([]x509.RevocationListEntry, 0, len(recs))
	for _, rec := range recs {
		serial, ok := new(big.Int).SetString(rec.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("build CRL: record has a malformed serial %q", rec.Serial)
		}
		entries = append(entries, x509.RevocationListEntry{
			SerialNumber:   serial,
			RevocationTime: rec.RevokedAt,
			ReasonCode:     rec.RevocationReason,
		})
	}
	thisUpdate := now.Truncate(time.Second)
	tmpl := &x509.RevocationList{
		Number:                    crlNumber(thisUpdate, last),
		ThisUpdate:                thisUpdate,
		NextUpdate:                thisUpdate.Add(c.cfg.CRLValidity),
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, c.issuing, c.key)
	if err != nil {
		return nil, fmt.Errorf("sign CRL: %w", err)
	}
	return &signedCRL{DER: der, Number: tmpl.Number, ThisUpdate: tmpl.ThisUpdate, NextUpdate: tmpl.NextUpdate}, nil
}

// crlNumber derives the CRL number from the clock (milliseconds since 1970), so numbers
// keep increasing across restarts without a stored counter, and from last, so two CRLs
// within a millisecond still differ.
func crlNumber(now time.Time, last *big.Int) *big.Int {
	n := big.NewInt(now.UnixMilli())
	if last != nil && n.Cmp(last) <= 0 {
		n.Add(last, big.NewInt(1))
	}
	return n
}
