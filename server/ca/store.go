package ca

import (
	"context"
	"errors"
	"time"

	"github.com/vscard/vscard/server/cardspec"
)

// Record is the CA's own record of one certificate.
type Record struct {
	// Serial is lower-case hex without leading zeros, as in [Issued].
	Serial    string
	Reference string
	Template  cardspec.Template
	// Subject is the RFC 2253 form of the subject the CA wrote.
	Subject   string
	NotBefore time.Time
	NotAfter  time.Time
	// State is PENDING, VALID, ON_HOLD or REVOKED; EXPIRED is derived from NotAfter.
	State Status
	// DER is empty while the record is PENDING.
	DER []byte
	// RevokedAt and RevocationReason are set for ON_HOLD and REVOKED records.
	RevokedAt        time.Time
	RevocationReason int
}

// Store keeps the CA's records. The CA is its only writer; implementations need not
// enforce state transitions, the CA checks them.
type Store interface {
	// Reserve records a certificate that is about to be signed, in state PENDING.
	// It returns ErrSerialTaken if the serial is already recorded.
	Reserve(ctx context.Context, rec *Record) error
	// MarkIssued stores the signed DER and moves a PENDING record to VALID. A record
	// revoked in the meantime keeps its state.
	MarkIssued(ctx context.Context, serial string, der []byte) error
	// Revoke puts a record into state (REVOKED or ON_HOLD) with the time and RFC 5280
	// reason code.
	Revoke(ctx context.Context, serial string, state Status, at time.Time, reason int) error
	// Reinstate moves an ON_HOLD record back to VALID and clears its revocation.
	Reinstate(ctx context.Context, serial string) error
	// Get returns the record of serial, or ErrRecordNotFound.
	Get(ctx context.Context, serial string) (*Record, error)
	// ListByReference returns the records issued for reference, oldest first.
	ListByReference(ctx context.Context, reference string) ([]*Record, error)
	// ListRevoked returns the REVOKED and ON_HOLD records whose NotAfter is not before
	// notAfterSince and whose serial ends with suffix ("" for all): the entries of the
	// CRL, or of one partition. Only Serial, State, NotAfter, RevokedAt and
	// RevocationReason need be filled in.
	ListRevoked(ctx context.Context, notAfterSince time.Time, suffix string) ([]*Record, error)
}

// BatchStore is a Store that also records several certificates at once, one statement
// each way, for IssueAll: what a card's issue (two or three certificates) costs the
// database does not grow with the number of certificates.
type BatchStore interface {
	// ReserveAll records recs in state PENDING, all or none: ErrSerialTaken if any serial
	// is already recorded.
	ReserveAll(ctx context.Context, recs []*Record) error
	// MarkAllIssued stores each record's signed DER (rec.DER) and moves the PENDING ones
	// to VALID; a record revoked in the meantime keeps its state.
	MarkAllIssued(ctx context.Context, recs []*Record) error
}

// Store errors. Implementations return (or wrap) these so the CA can tell them apart.
var (
	ErrRecordNotFound = errors.New("ca record not found")
	ErrSerialTaken    = errors.New("ca record serial already taken")
)
