package ca

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// CRLStore is a Store that also keeps the last signed CRL of each scope for every
// instance of a cluster, so that a change is signed once per cluster rather than once
// per instance. Its Revoke and Reinstate count the change in the scopes the serial
// belongs to (after the record's own update, so that a signer that reads the count and
// then lists the revoked records sees the record if it sees the count).
type CRLStore interface {
	// LoadCRL returns scope's stored CRL. DER is filled in only when the stored number is
	// not have (the number of the CRL the caller holds already, "" for none). It returns
	// nil when nothing was stored for scope yet.
	LoadCRL(ctx context.Context, scope int, have string) (*StoredCRL, error)
	// ClaimCRL makes holder the one instance that signs scope's CRL until until, unless
	// another holds an unexpired claim. It returns whether it did and the change count
	// the new CRL will cover.
	ClaimCRL(ctx context.Context, scope int, holder string, now, until time.Time) (claimed bool, changes int64, err error)
	// SaveCRL stores crl as scope's CRL, covering changes, and ends holder's claim.
	SaveCRL(ctx context.Context, scope int, holder string, changes int64, crl *StoredCRL) error
	// ReleaseCRL ends holder's claim without storing a CRL (signing failed).
	ReleaseCRL(ctx context.Context, scope int, holder string) error
}

// ErrCRLClaimLost is SaveCRL's error when the holder's claim ran out and another instance
// took it: the CRL signed is still valid, but the other's will be stored.
var ErrCRLClaimLost = errors.New("claim to sign the CRL lost")

// StoredCRL is a signed CRL as the cluster shares it.
type StoredCRL struct {
	Number                 string // decimal
	DER                    []byte
	ThisUpdate, NextUpdate time.Time
	// Changes is the scope's change count now, SignedChanges the one the CRL covers.
	Changes, SignedChanges int64
}

// crlLease bounds how long a claim to sign a CRL lasts if its holder dies while signing.
// Signing the whole CRL of 100,000 revoked certificates takes seconds to tens of seconds
// on a busy host; the previous CRL stays valid and is served meanwhile.
const crlLease = 5 * time.Minute

// sharedCRL returns scope's current CRL through the cluster's store: the stored one if it
// covers every change and is fresh, or one this instance signs and stores if it wins the
// claim. covers reports whether the result covers every change known to the store; when
// another instance is signing, the previous stored CRL is returned with covers false (it
// is valid until its nextUpdate), and the caller asks again on its next request. cur is
// the CRL this instance holds, if any.
func (c *CA) sharedCRL(ctx context.Context, cs CRLStore, scope crlScope, now time.Time, cur *signedCRL) (crl *signedCRL, covers bool, err error) {
	have := ""
	if cur != nil {
		have = cur.Number.String()
	}
	st, err := cs.LoadCRL(ctx, int(scope), have)
	if err != nil {
		return nil, false, fmt.Errorf("load stored CRL: %w", err)
	}
	var stored *signedCRL
	if st != nil && st.Number != "" {
		if stored, err = c.fromStored(st, cur); err != nil {
			return nil, false, err
		}
		if st.SignedChanges == st.Changes && c.crlFresh(stored, now) {
			return stored, true, nil
		}
	}
	claimed, changes, err := cs.ClaimCRL(ctx, int(scope), c.holder, now, now.Add(crlLease))
	if err != nil {
		return nil, false, fmt.Errorf("claim CRL signing: %w", err)
	}
	if !claimed {
		if stored != nil && now.Before(stored.NextUpdate) {
			return stored, false, nil
		}
		// Nothing valid to serve while another instance signs (a first start): sign for
		// this request alone rather than make the client wait.
		crl, err := c.signCRL(ctx, scope, now, nil)
		return crl, false, err
	}
	var last *big.Int
	if stored != nil {
		last = stored.Number
	}
	crl, err = c.signCRL(ctx, scope, now, last)
	if err != nil {
		if rerr := cs.ReleaseCRL(ctx, int(scope), c.holder); rerr != nil {
			err = fmt.Errorf("%w (and release the claim: %v)", err, rerr)
		}
		return nil, false, err
	}
	if err := cs.SaveCRL(ctx, int(scope), c.holder, changes, &StoredCRL{
		Number: crl.Number.String(), DER: crl.DER, ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate,
	}); errors.Is(err, ErrCRLClaimLost) {
		return crl, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("store CRL: %w", err)
	}
	return crl, true, nil
}

// fromStored turns st into a signedCRL, reusing cur's DER when st has the same number.
func (c *CA) fromStored(st *StoredCRL, cur *signedCRL) (*signedCRL, error) {
	n, ok := new(big.Int).SetString(st.Number, 10)
	if !ok {
		return nil, fmt.Errorf("load stored CRL: malformed number %q", st.Number)
	}
	der := st.DER
	if der == nil && cur != nil && cur.Number.Cmp(n) == 0 {
		der = cur.DER
	}
	if der == nil {
		return nil, fmt.Errorf("load stored CRL %s: no DER", st.Number)
	}
	return &signedCRL{DER: der, Number: n, ThisUpdate: st.ThisUpdate, NextUpdate: st.NextUpdate}, nil
}

// crlFresh reports whether crl may still be handed out without signing a newer one: in
// the first half of its validity.
func (c *CA) crlFresh(crl *signedCRL, now time.Time) bool {
	return now.Before(crl.ThisUpdate.Add(crl.NextUpdate.Sub(crl.ThisUpdate) / 2))
}
