package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// CRLPartitions is how many partitions the CRL is split into: a certificate's CRL
// distribution point is <BaseURL>/ca/crl/<p>, p the last hexadecimal digit of its serial
// (serials are random, so the partitions are even). At 100,000 revoked certificates the
// whole CRL is about 4 MB, each partition about 250 KB. The number is part of every
// certificate issued, so it never changes. /ca/crl is still the whole CRL, for
// certificates issued before the partitions and for clients that want everything.
const CRLPartitions = 16

// crlScope names one CRL: a partition (0 to 15) or fullCRL.
type crlScope int

const fullCRL crlScope = CRLPartitions

// partitionOf is the CRL partition of serial (formatSerial's form).
func partitionOf(serial string) crlScope {
	d, err := strconv.ParseUint(serial[len(serial)-1:], 16, 8)
	if err != nil {
		return fullCRL
	}
	return crlScope(d)
}

// suffix is what the serials of scope's certificates end with ("" for the full CRL).
func (s crlScope) suffix() string {
	if s == fullCRL {
		return ""
	}
	return strconv.FormatInt(int64(s), 16)
}

// crlCache holds the last signed CRL of each scope. A revocation bumps the gen of its
// partition and of the full CRL, which makes the next request re-sign them; so does age
// past half the CRL's validity.
type crlCache struct {
	scopes [CRLPartitions + 1]crlSlot
}

type crlSlot struct {
	gen atomic.Uint64

	mu      sync.Mutex // serialises re-signing
	current *signedCRL
	builtAt uint64 // gen when current was built or loaded
	// checkedAt is when current was last found to be the cluster's latest (zero: look
	// again at the next request).
	checkedAt time.Time
}

// signedCRL is one CRL with the fields the HTTP layer needs.
type signedCRL struct {
	DER        []byte
	Number     *big.Int
	ThisUpdate time.Time
	NextUpdate time.Time
}

// invalidate marks the CRLs that list serial as out of date.
func (cc *crlCache) invalidate(serial string) {
	cc.scopes[fullCRL].gen.Add(1)
	if p := partitionOf(serial); p != fullCRL {
		cc.scopes[p].gen.Add(1)
	}
}

// CRL returns the current DER-encoded CRL of the issuing CA, signing a new one when a
// certificate was revoked or held since the last, or the last is past half its validity.
//
// With a [CRLStore] (the server's database), the instances of a cluster share the CRLs:
// one instance signs each change and stores the CRL, the others load it. Each instance
// keeps the CRL in memory and asks the store again after a revocation on any instance
// (when it follows the event bus, [CA.Follow]), or after Config.CRLMaxAge without one.
// Without a CRLStore each instance signs its own.
func (c *CA) CRL(ctx context.Context) ([]byte, error) {
	crl, err := c.currentCRL(ctx, fullCRL)
	if err != nil {
		return nil, err
	}
	return crl.DER, nil
}

// PartitionCRL returns the current CRL of partition p (0 to CRLPartitions-1).
func (c *CA) PartitionCRL(ctx context.Context, p int) ([]byte, error) {
	if p < 0 || p >= CRLPartitions {
		return nil, fmt.Errorf("get CRL partition %d: there are %d", p, CRLPartitions)
	}
	crl, err := c.currentCRL(ctx, crlScope(p))
	if err != nil {
		return nil, err
	}
	return crl.DER, nil
}

func (c *CA) currentCRL(ctx context.Context, scope crlScope) (*signedCRL, error) {
	cc := &c.crl.scopes[scope]
	cc.mu.Lock()
	defer cc.mu.Unlock()
	now := c.cfg.Now().UTC()
	// Read gen before the store: a revocation during the build triggers another one.
	gen := cc.gen.Load()
	cur := cc.current
	if cur != nil && cc.builtAt == gen && c.crlFresh(cur, now) && now.Sub(cc.checkedAt) < c.cfg.CRLMaxAge {
		return cur, nil
	}
	if cs, ok := c.store.(CRLStore); ok {
		crl, covers, err := c.sharedCRL(ctx, cs, scope, now, cur)
		if err != nil {
			return nil, err
		}
		cc.current, cc.builtAt, cc.checkedAt = crl, gen, now
		if !covers {
			cc.checkedAt = time.Time{} // another instance is signing: look again next time
		}
		return crl, nil
	}
	var last *big.Int
	if cur != nil {
		last = cur.Number
	}
	crl, err := c.signCRL(ctx, scope, now, last)
	if err != nil {
		return nil, err
	}
	cc.current, cc.builtAt, cc.checkedAt = crl, gen, crl.ThisUpdate
	return crl, nil
}

// signCRL signs the CRL of scope: every held or revoked certificate of it that expired less than one CRL
// validity ago, so each revoked certificate appears on at least one CRL issued after it
// expires (RFC 5280 3.3).
func (c *CA) signCRL(ctx context.Context, scope crlScope, now time.Time, last *big.Int) (*signedCRL, error) {
	recs, err := c.store.ListRevoked(ctx, now.Add(-c.cfg.CRLValidity), scope.suffix())
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
	if scope != fullCRL {
		idp, err := issuingDistributionPoint(c.cfg.crlPartitionURL(int(scope)))
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = []pkix.Extension{idp}
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

// oidIssuingDistributionPoint is id-ce-issuingDistributionPoint (RFC 5280 5.2.5).
var oidIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}

// issuingDistributionPoint is the critical extension that says a CRL covers only the
// certificates whose CRL distribution point is url, and only end-entity certificates:
// without it, a client could take a partition for the whole CRL.
func issuingDistributionPoint(url string) (pkix.Extension, error) {
	uri, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(url)})
	if err != nil {
		return pkix.Extension{}, err
	}
	fullName, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: uri})
	if err != nil {
		return pkix.Extension{}, err
	}
	value, err := asn1.Marshal([]asn1.RawValue{
		{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: fullName}, // distributionPoint
		{Class: asn1.ClassContextSpecific, Tag: 1, Bytes: []byte{0xff}},               // onlyContainsUserCerts
	})
	if err != nil {
		return pkix.Extension{}, fmt.Errorf("encode issuing distribution point: %w", err)
	}
	return pkix.Extension{Id: oidIssuingDistributionPoint, Critical: true, Value: value}, nil
}
