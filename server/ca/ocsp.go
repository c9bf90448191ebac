package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	// Hashes an OCSP request may name for the issuer.
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"

	"golang.org/x/crypto/ocsp"
)

// ocspIssuer holds the issuing CA's name and key hashes, by hash algorithm, to recognise
// requests about our certificates.
type ocspIssuer struct {
	nameHash map[crypto.Hash][]byte
	keyHash  map[crypto.Hash][]byte
}

func newOCSPIssuer(issuer *x509.Certificate) (ocspIssuer, error) {
	oi := ocspIssuer{nameHash: map[crypto.Hash][]byte{}, keyHash: map[crypto.Hash][]byte{}}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return oi, fmt.Errorf("decode issuing CA public key: %w", err)
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		oi.nameHash[h] = digest(h, issuer.RawSubject)
		oi.keyHash[h] = digest(h, spki.PublicKey.RightAlign())
	}
	return oi, nil
}

func digest(h crypto.Hash, b []byte) []byte {
	w := h.New()
	w.Write(b)
	return w.Sum(nil)
}

func (oi ocspIssuer) matches(req *ocsp.Request) bool {
	name, ok := oi.nameHash[req.HashAlgorithm]
	return ok && bytes.Equal(name, req.IssuerNameHash) && bytes.Equal(oi.keyHash[req.HashAlgorithm], req.IssuerKeyHash)
}

// respondOCSP answers a DER OCSP request with a DER OCSP response signed by the issuing
// CA. Errors are answered in-band (malformedRequest, unauthorized, internalError), as RFC
// 6960 wants; the returned error is for the log only.
//
// Statuses: VALID and EXPIRED are good (validity is the client's check); ON_HOLD and REVOKED are revoked with time
// and reason; PENDING (signed but never handed out) and unknown serials are unknown.
func (c *CA) respondOCSP(ctx context.Context, reqDER []byte) ([]byte, error) {
	req, err := ocsp.ParseRequest(reqDER)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, nil
	}
	if !c.ocsp.matches(req) {
		return ocsp.UnauthorizedErrorResponse, nil
	}
	now := c.cfg.Now().UTC()
	tmpl := ocsp.Response{
		Status:       ocsp.Unknown,
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now,
		NextUpdate:   now.Add(c.cfg.OCSPValidity),
		IssuerHash:   req.HashAlgorithm,
	}
	rec, err := c.store.Get(ctx, formatSerial(req.SerialNumber))
	switch {
	case errors.Is(err, ErrRecordNotFound):
	case err != nil:
		return ocsp.InternalErrorErrorResponse, fmt.Errorf("get CA record for OCSP: %w", err)
	case rec.State == StatusValid || rec.State == StatusExpired:
		tmpl.Status = ocsp.Good
	case rec.State == StatusOnHold || rec.State == StatusRevoked:
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = rec.RevokedAt
		tmpl.RevocationReason = rec.RevocationReason
	}
	resp, err := ocsp.CreateResponse(c.issuing, c.issuing, tmpl, c.key)
	if err != nil {
		return ocsp.InternalErrorErrorResponse, fmt.Errorf("sign OCSP response: %w", err)
	}
	return resp, nil
}
