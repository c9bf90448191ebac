package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/server/errs"
)

// CA is the embedded certificate authority. It is safe for concurrent use.
type CA struct {
	cfg     Config
	store   Store
	root    *x509.Certificate
	issuing *x509.Certificate
	key     crypto.Signer // the issuing CA's key
	crl     crlCache
	ocsp    ocspIssuer
	live    atomic.Pointer[live] // set by Follow
	// holder names this instance in the cluster's CRL claims (host, process, random).
	holder string
}

var (
	_ Authority        = (*CA)(nil)
	_ ReferenceRevoker = (*CA)(nil)
)

// Open loads the CA from dir, creating a new root and issuing CA there on first start.
// dir should be the CA's own folder (e.g. <data>/ca); it is created with mode 0700 and
// the key files with 0600. Open refuses key files that the group or others can access
// ([ErrInsecureKeyFile]) and a folder holding only some of the CA files.
func Open(dir string, cfg Config, store Store) (*CA, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("open CA: store is nil")
	}
	root, issuing, err := loadOrCreate(dir, cfg)
	if err != nil {
		return nil, fmt.Errorf("open CA in %s: %w", dir, err)
	}
	c := &CA{cfg: cfg, store: store, root: root.cert, issuing: issuing.cert, key: issuing.key, holder: instanceName()}
	if c.ocsp, err = newOCSPIssuer(issuing.cert); err != nil {
		return nil, fmt.Errorf("open CA: %w", err)
	}
	return c, nil
}

// instanceName names this process among the instances of a cluster, for the CRL claims
// (see CRLStore) and the logs of whoever reads them.
func instanceName() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%x", host, os.Getpid(), b)
}

// Chain returns the issuing CA certificate followed by the root.
func (c *CA) Chain() []*x509.Certificate { return []*x509.Certificate{c.issuing, c.root} }

// Status returns the CA's state for serial: the stored state, or EXPIRED for a VALID
// certificate past its NotAfter. An unknown serial is a NOT_FOUND error.
func (c *CA) Status(ctx context.Context, serial string) (Status, error) {
	rec, err := c.record(ctx, serial)
	if err != nil {
		return StatusUnknown, err
	}
	return c.effectiveStatus(rec), nil
}

func (c *CA) effectiveStatus(rec *Record) Status {
	if rec.State == StatusValid && !c.cfg.Now().Before(rec.NotAfter) {
		return StatusExpired
	}
	return rec.State
}

// record returns the record of serial, with errs codes for bad and unknown serials.
func (c *CA) record(ctx context.Context, serial string) (*Record, error) {
	s, err := normalizeSerial(serial)
	if err != nil {
		return nil, err
	}
	rec, err := c.store.Get(ctx, s)
	if errors.Is(err, ErrRecordNotFound) {
		return nil, errs.Wrap(err, errs.NotFound, "this CA has not issued a certificate with serial %s", s)
	}
	if err != nil {
		return nil, fmt.Errorf("get CA record %s: %w", s, err)
	}
	return rec, nil
}

// Revoke revokes serial with an RFC 5280 reason code. ocsp.CertificateHold puts the
// certificate on hold, and ocsp.RemoveFromCRL releases a certificate from hold; every
// other reason revokes for good. Revoking a revoked certificate again changes nothing.
// PENDING records (signed, but not handed out) can be revoked too.
func (c *CA) Revoke(ctx context.Context, serial string, reason int) error {
	if err := checkReason(reason); err != nil {
		return err
	}
	rec, err := c.record(ctx, serial)
	if err != nil {
		return err
	}
	if err := c.revoke(ctx, rec, reason); err != nil {
		return err
	}
	return nil
}

func (c *CA) revoke(ctx context.Context, rec *Record, reason int) error {
	now := c.cfg.Now().UTC()
	switch {
	case rec.State == StatusRevoked && reason == ocsp.RemoveFromCRL:
		return errs.New(errs.IllegalState, "certificate %s is revoked for good and cannot be released", rec.Serial)
	case rec.State == StatusRevoked:
		return nil
	case reason == ocsp.RemoveFromCRL && rec.State != StatusOnHold:
		return errs.New(errs.IllegalState, "certificate %s is not on hold, so it cannot be released", rec.Serial)
	case reason == ocsp.RemoveFromCRL:
		if err := c.store.Reinstate(ctx, rec.Serial); err != nil {
			return fmt.Errorf("release CA record %s: %w", rec.Serial, err)
		}
	case reason == ocsp.CertificateHold && rec.State == StatusOnHold:
		return nil
	case reason == ocsp.CertificateHold:
		if err := c.store.Revoke(ctx, rec.Serial, StatusOnHold, now, reason); err != nil {
			return fmt.Errorf("hold CA record %s: %w", rec.Serial, err)
		}
	default:
		// A certificate revoked after a hold keeps the time it stopped being trusted.
		at := now
		if rec.State == StatusOnHold && !rec.RevokedAt.IsZero() {
			at = rec.RevokedAt
		}
		if err := c.store.Revoke(ctx, rec.Serial, StatusRevoked, at, reason); err != nil {
			return fmt.Errorf("revoke CA record %s: %w", rec.Serial, err)
		}
	}
	c.crl.invalidate(rec.Serial)
	c.announce(ctx, rec.Serial)
	return nil
}

// RevokeReference revokes every certificate recorded for reference (an order id),
// including those still PENDING, and returns their serials. The enrolment engine calls it
// when an order is cancelled, fails or expires: it also reaches certificates that were
// signed but never reached the identity store.
func (c *CA) RevokeReference(ctx context.Context, reference string, reason int) ([]string, error) {
	if reference == "" {
		return nil, errs.New(errs.InvalidInput, "give the reference (order id) whose certificates to revoke")
	}
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	if reason == ocsp.RemoveFromCRL {
		return nil, errs.New(errs.InvalidInput, "removeFromCRL releases one held certificate; revoke by serial instead")
	}
	recs, err := c.store.ListByReference(ctx, reference)
	if err != nil {
		return nil, fmt.Errorf("list CA records of %s: %w", reference, err)
	}
	serials := make([]string, 0, len(recs))
	for _, rec := range recs {
		if err := c.revoke(ctx, rec, reason); err != nil {
			return serials, err
		}
		serials = append(serials, rec.Serial)
	}
	return serials, nil
}

// checkReason accepts the RFC 5280 CRLReason codes (7 is unused).
func checkReason(reason int) error {
	if reason < ocsp.Unspecified || reason > ocsp.AACompromise || reason == 7 {
		return errs.New(errs.InvalidInput, "revocation reason %d is not an RFC 5280 reason code (0-10 except 7)", reason)
	}
	return nil
}

// detached returns a context for work that must finish even when the caller gives up,
// such as recording a certificate that was already signed.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
}
