package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	// Hashes an OCSP request may name for the issuer.
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"
)

// oidOCSPNonce is id-pkix-ocsp-nonce (RFC 6960 4.4.1, RFC 9654).
var oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

// maxNonce is the longest nonce RFC 9654 allows (Nonce ::= OCTET STRING (SIZE(1..128))).
// RFC 9654 obsoletes RFC 8954, whose limit of 32 octets refused some clients' nonces.
const maxNonce = 128

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

func (oi ocspIssuer) matches(req *ocspRequest) bool {
	name, ok := oi.nameHash[req.hash]
	return ok && bytes.Equal(name, req.issuerNameHash) && bytes.Equal(oi.keyHash[req.hash], req.issuerKeyHash)
}

// ocspAnswer is a DER OCSP response with what the HTTP layer needs to say how it may be
// cached.
type ocspAnswer struct {
	DER []byte
	// Nonce: the response echoes the request's nonce, so no cache may keep it.
	Nonce bool
	// Status is ocsp.Good, ocsp.Revoked or ocsp.Unknown for a signed answer; an error
	// response (malformedRequest…) has ThisUpdate zero.
	Status                 int
	ThisUpdate, NextUpdate time.Time
	// ETag names DER for HTTP revalidation; LastModified and Expires are ThisUpdate and
	// NextUpdate in HTTP's form, made once rather than per request.
	ETag, LastModified, Expires string
}

// respondOCSP answers a DER OCSP request with a DER OCSP response signed by the issuing
// CA. Errors are answered in-band (malformedRequest, unauthorized, internalError), as RFC
// 6960 wants; the returned error is for the log only. A request's nonce is echoed in the
// response (RFC 9654) in a response signed for it; a nonce of 0 or more than 128 octets
// is a malformedRequest. Without a nonce, and once the CA follows a bus ([CA.Follow]),
// the answer comes from memory while it is in the first half of its validity.
//
// Statuses: VALID and EXPIRED are good (validity is the client's check); ON_HOLD and REVOKED are revoked with time
// and reason; PENDING (signed but never handed out) and unknown serials are unknown.
func (c *CA) respondOCSP(ctx context.Context, reqDER []byte) (ocspAnswer, error) {
	lv := c.live.Load()
	if lv != nil {
		if k, ok := lv.requests.get(reqDER); ok {
			if a, ok := lv.known.get(k.serial, k.hash, c.cfg.Now()); ok {
				return a, nil
			}
		}
	}
	raw, err := parseOCSPRequest(reqDER)
	if err != nil {
		return ocspAnswer{DER: ocsp.MalformedRequestErrorResponse}, nil
	}
	req := raw
	if !c.ocsp.matches(req) {
		return ocspAnswer{DER: ocsp.UnauthorizedErrorResponse}, nil
	}
	serial := formatSerial(req.serial)
	if raw.nonce != nil || lv == nil {
		var filter *issuedFilter
		if lv != nil {
			filter = lv.filter
		}
		rec, err := c.ocspRecord(ctx, serial, filter)
		if err != nil {
			return ocspAnswer{DER: ocsp.InternalErrorErrorResponse}, err
		}
		a, err := c.signAnswer(raw.certID, rec, raw.nonce)
		if err != nil {
			return ocspAnswer{DER: ocsp.InternalErrorErrorResponse}, err
		}
		return a, nil
	}
	now := c.cfg.Now()
	if a, ok := lv.known.get(serial, req.hash, now); ok {
		lv.requests.put(reqDER, requestKey{serial: serial, hash: req.hash})
		return a, nil
	}
	if a, ok := lv.unknown.get(serial, req.hash, now); ok {
		return a, nil
	}
	a, err := c.produceOCSP(ctx, serial, req.hash, raw.certID)
	if err != nil {
		return ocspAnswer{DER: ocsp.InternalErrorErrorResponse}, err
	}
	return a, nil
}

// produceOCSP signs the response for serial and one CertID as the record is now, and
// keeps it in memory unless the certificate changed while it was being made.
func (c *CA) produceOCSP(ctx context.Context, serial string, hash crypto.Hash, certID []byte) (ocspAnswer, error) {
	lv := c.live.Load()
	genKnown, genUnknown := lv.known.generation(serial), lv.unknown.generation(serial)
	rec, err := c.ocspRecord(ctx, serial, lv.filter)
	if err != nil {
		return ocspAnswer{}, err
	}
	a, err := c.signAnswer(certID, rec, nil)
	if err != nil {
		return ocspAnswer{}, err
	}
	e := &ocspEntry{
		hash: hash, certID: bytes.Clone(certID), answer: a,
		refresh: a.ThisUpdate.Add(a.NextUpdate.Sub(a.ThisUpdate) / 2),
	}
	if a.Status == ocsp.Unknown {
		lv.unknown.put(serial, genUnknown, e)
	} else {
		lv.known.put(serial, genKnown, e)
	}
	return a, nil
}

// ocspRecord reads serial's record, or returns nil for a serial the CA never recorded:
// at once, without a read, when filter (if any) is sure of it.
func (c *CA) ocspRecord(ctx context.Context, serial string, filter *issuedFilter) (*Record, error) {
	if filter != nil && !filter.mayHave(serial) {
		return nil, nil
	}
	rec, err := c.store.Get(ctx, serial)
	switch {
	case errors.Is(err, ErrRecordNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get CA record for OCSP: %w", err)
	}
	return rec, nil
}

// signAnswer signs the response for certID (as the request sent it) from rec (nil: never
// issued), echoing nonce if given.
func (c *CA) signAnswer(certID []byte, rec *Record, nonce *pkix.Extension) (ocspAnswer, error) {
	now := c.cfg.Now().UTC().Truncate(time.Second)
	single := singleResponse{
		CertID:     asn1.RawValue{FullBytes: certID},
		Unknown:    true,
		ThisUpdate: now,
		NextUpdate: now.Add(c.cfg.OCSPValidity),
	}
	status := ocsp.Unknown
	switch {
	case rec == nil:
	case rec.State == StatusValid || rec.State == StatusExpired:
		single.Unknown, single.Good = false, true
		status = ocsp.Good
	case rec.State == StatusOnHold || rec.State == StatusRevoked:
		single.Unknown = false
		single.Revoked = revokedInfo{RevocationTime: rec.RevokedAt.UTC(), Reason: asn1.Enumerated(rec.RevocationReason)}
		status = ocsp.Revoked
	}
	var exts []pkix.Extension
	if nonce != nil {
		exts = append(exts, *nonce)
	}
	der, err := c.signOCSP(now, single, exts)
	if err != nil {
		return ocspAnswer{}, fmt.Errorf("sign OCSP response: %w", err)
	}
	return ocspAnswer{
		DER: der, Nonce: nonce != nil, Status: status,
		ThisUpdate: single.ThisUpdate, NextUpdate: single.NextUpdate, ETag: etagOf(der),
		LastModified: single.ThisUpdate.Format(http.TimeFormat), Expires: single.NextUpdate.Format(http.TimeFormat),
	}, nil
}

// ocspRequest is what respondOCSP reads of an OCSP request (RFC 6960 4.1.1): the first
// CertID, as sent (to echo it) and parsed, and the checked nonce extension, if any.
type ocspRequest struct {
	certID         []byte
	hash           crypto.Hash
	issuerNameHash []byte
	issuerKeyHash  []byte
	serial         *big.Int
	nonce          *pkix.Extension
}

// ocspHashes are the hash algorithms a CertID may name.
var ocspHashes = map[string]crypto.Hash{
	"1.3.14.3.2.26":          crypto.SHA1,
	"2.16.840.1.101.3.4.2.1": crypto.SHA256,
	"2.16.840.1.101.3.4.2.2": crypto.SHA384,
	"2.16.840.1.101.3.4.2.3": crypto.SHA512,
}

var errMalformedOCSP = errors.New("malformed OCSP request")

// parseOCSPRequest reads der in one pass with cryptobyte (encoding/asn1's reflection, in
// x/crypto's ParseRequest and again for what it does not read, cost a third as much as
// signing an answer). The HTTP layer bounds der's size, so the work is bounded too. It
// accepts what x/crypto's ParseRequest accepts; a nonce must also be a DER OCTET STRING of
// 1 to maxNonce octets and appear once, and an unknown critical extension is refused, as
// RFC 5280 4.2 wants of extensions one does not understand.
func parseOCSPRequest(der []byte) (*ocspRequest, error) {
	var (
		in                   = cryptobyte.String(der)
		req, tbs, list, next cryptobyte.String
		out                  ocspRequest
	)
	if !in.ReadASN1(&req, cbasn1.SEQUENCE) || !in.Empty() ||
		!req.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || // version
		!tbs.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) || // requestorName
		!tbs.ReadASN1(&list, cbasn1.SEQUENCE) || list.Empty() {
		return nil, errMalformedOCSP
	}
	// The first Request is answered; the others must be well formed.
	for first := true; !list.Empty(); first = false {
		if !list.ReadASN1(&next, cbasn1.SEQUENCE) {
			return nil, errMalformedOCSP
		}
		if first {
			if err := out.readCertID(next); err != nil {
				return nil, err
			}
		}
	}
	var (
		exts, outer cryptobyte.String
		hasExts     bool
	)
	if !tbs.ReadOptionalASN1(&outer, &hasExts, cbasn1.Tag(2).Constructed().ContextSpecific()) ||
		(hasExts && (!outer.ReadASN1(&exts, cbasn1.SEQUENCE) || !outer.Empty())) || !tbs.Empty() ||
		!req.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !req.Empty() { // optionalSignature
		return nil, errMalformedOCSP
	}
	for !exts.Empty() {
		var (
			ext, value cryptobyte.String
			id         asn1.ObjectIdentifier
			critical   bool
		)
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&id) ||
			!ext.ReadOptionalASN1Boolean(&critical, cbasn1.BOOLEAN, false) ||
			!ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return nil, errMalformedOCSP
		}
		if !id.Equal(oidOCSPNonce) {
			if critical {
				return nil, fmt.Errorf("unknown critical OCSP request extension %v", id)
			}
			continue
		}
		if out.nonce != nil {
			return nil, errors.New("two OCSP nonces")
		}
		var nonce cryptobyte.String
		if v := value; !v.ReadASN1(&nonce, cbasn1.OCTET_STRING) || !v.Empty() || len(nonce) == 0 || len(nonce) > maxNonce {
			return nil, fmt.Errorf("OCSP nonce is not an OCTET STRING of 1 to %d octets", maxNonce)
		}
		out.nonce = &pkix.Extension{Id: oidOCSPNonce, Value: bytes.Clone(value)}
	}
	return &out, nil
}

// skipOptionalElement skips one well-formed element of any tag, if s is not empty: an
// AlgorithmIdentifier's parameters.
func skipOptionalElement(s *cryptobyte.String) bool {
	if s.Empty() {
		return true
	}
	var (
		elem cryptobyte.String
		tag  cbasn1.Tag
	)
	return s.ReadAnyASN1Element(&elem, &tag)
}

// readCertID reads a Request: CertID and optional singleRequestExtensions (ignored).
func (r *ocspRequest) readCertID(request cryptobyte.String) error {
	var (
		elem, cid, alg cryptobyte.String
		oid            asn1.ObjectIdentifier
		name, key      cryptobyte.String
	)
	r.serial = new(big.Int)
	if !request.ReadASN1Element(&elem, cbasn1.SEQUENCE) ||
		!request.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !request.Empty() {
		return errMalformedOCSP
	}
	r.certID = bytes.Clone(elem)
	if !elem.ReadASN1(&cid, cbasn1.SEQUENCE) ||
		!cid.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) ||
		!skipOptionalElement(&alg) || !alg.Empty() ||
		!cid.ReadASN1(&name, cbasn1.OCTET_STRING) || !cid.ReadASN1(&key, cbasn1.OCTET_STRING) ||
		!cid.ReadASN1Integer(r.serial) || !cid.Empty() {
		return errMalformedOCSP
	}
	h, ok := ocspHashes[oid.String()]
	if !ok {
		return fmt.Errorf("OCSP request names an unknown hash algorithm %v", oid)
	}
	r.hash, r.issuerNameHash, r.issuerKeyHash = h, name, key
	return nil
}

// RFC 6960 4.2.1. golang.org/x/crypto/ocsp cannot write responseExtensions, where the
// nonce goes (golang/go#20001), so vscard encodes and signs the BasicOCSPResponse itself
// (signOCSP) and relies on x/crypto and OpenSSL to read it back in the tests.
type singleResponse struct {
	CertID     asn1.RawValue
	Good       asn1.Flag   `asn1:"tag:0,optional"`
	Revoked    revokedInfo `asn1:"tag:1,optional"`
	Unknown    asn1.Flag   `asn1:"tag:2,optional"`
	ThisUpdate time.Time   `asn1:"generalized"`
	NextUpdate time.Time   `asn1:"generalized,explicit,tag:0,optional"`
}

// revokedInfo leaves out reason 0 (unspecified), as RFC 5280 5.3.1 prefers.
type revokedInfo struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"`
}

var oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}

// signOCSP signs a successful response with one single response, named by the issuing
// CA's subject (byName). It writes the DER with cryptobyte rather than encoding/asn1's
// reflection, which cost a third as much as the signature; the tests read every kind of
// response back with x/crypto and OpenSSL.
func (c *CA) signOCSP(producedAt time.Time, single singleResponse, exts []pkix.Extension) ([]byte, error) {
	hash, alg, err := signatureParams(c.key.Public())
	if err != nil {
		return nil, err
	}
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ResponseData
		b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { // byName
			b.AddBytes(c.issuing.RawSubject)
		})
		b.AddASN1GeneralizedTime(producedAt.UTC())
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // responses
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SingleResponse
				b.AddBytes(single.CertID.FullBytes)
				switch {
				case bool(single.Good):
					b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(*cryptobyte.Builder) {})
				case bool(single.Unknown):
					b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(*cryptobyte.Builder) {})
				default:
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1GeneralizedTime(single.Revoked.RevocationTime.UTC())
						if single.Revoked.Reason != 0 { // RFC 5280 5.3.1: leave out unspecified
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddASN1Enum(int64(single.Revoked.Reason))
							})
						}
					})
				}
				b.AddASN1GeneralizedTime(single.ThisUpdate.UTC())
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1GeneralizedTime(single.NextUpdate.UTC())
				})
			})
		})
		if len(exts) > 0 {
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, ext := range exts {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(ext.Id)
							if ext.Critical {
								b.AddASN1Boolean(true)
							}
							b.AddASN1OctetString(ext.Value)
						})
					}
				})
			})
		}
	})
	tbs, err := tb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode OCSP response data: %w", err)
	}
	sig, err := c.key.Sign(rand.Reader, digest(hash, tbs), hash)
	if err != nil {
		return nil, fmt.Errorf("sign OCSP response data: %w", err)
	}
	algDER, err := asn1.Marshal(alg)
	if err != nil {
		return nil, fmt.Errorf("encode OCSP signature algorithm: %w", err)
	}
	var rb cryptobyte.Builder
	rb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OCSPResponse
		b.AddASN1Enum(int64(ocsp.Success))
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ResponseBytes
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // BasicOCSPResponse
						b.AddBytes(tbs)
						b.AddBytes(algDER)
						b.AddASN1BitString(sig)
					})
				})
			})
		})
	})
	der, err := rb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode OCSP response: %w", err)
	}
	return der, nil
}

// signatureParams picks the hash and signature algorithm for the CA key, as x509 does
// for certificates: ECDSA with the curve's hash, RSA PKCS #1 v1.5 with SHA-256.
func signatureParams(pub crypto.PublicKey) (crypto.Hash, pkix.AlgorithmIdentifier, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return crypto.SHA256, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}, nil
		case elliptic.P384():
			return crypto.SHA384, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}}, nil
		case elliptic.P521():
			return crypto.SHA512, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}}, nil
		}
	case *rsa.PublicKey:
		return crypto.SHA256, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, Parameters: asn1.NullRawValue}, nil
	}
	return 0, pkix.AlgorithmIdentifier{}, fmt.Errorf("no OCSP signature algorithm for a %T CA key", pub)
}
