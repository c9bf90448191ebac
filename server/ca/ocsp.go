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

func (oi ocspIssuer) matches(req *ocsp.Request) bool {
	name, ok := oi.nameHash[req.HashAlgorithm]
	return ok && bytes.Equal(name, req.IssuerNameHash) && bytes.Equal(oi.keyHash[req.HashAlgorithm], req.IssuerKeyHash)
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
	req, err := ocsp.ParseRequest(reqDER)
	if err != nil {
		return ocspAnswer{DER: ocsp.MalformedRequestErrorResponse}, nil
	}
	// ocsp.ParseRequest reads neither the request's extensions nor its raw CertID.
	raw, err := parseOCSPRequestExtras(reqDER)
	if err != nil {
		return ocspAnswer{DER: ocsp.MalformedRequestErrorResponse}, nil
	}
	if !c.ocsp.matches(req) {
		return ocspAnswer{DER: ocsp.UnauthorizedErrorResponse}, nil
	}
	serial := formatSerial(req.SerialNumber)
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
	if a, ok := lv.known.get(serial, req.HashAlgorithm, now); ok {
		lv.requests.put(reqDER, requestKey{serial: serial, hash: req.HashAlgorithm})
		return a, nil
	}
	if a, ok := lv.unknown.get(serial, req.HashAlgorithm, now); ok {
		return a, nil
	}
	a, err := c.produceOCSP(ctx, serial, req.HashAlgorithm, raw.certID)
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

// ocspRequestExtras is what respondOCSP reads of a request beyond ocsp.ParseRequest: the
// first CertID as sent, to echo it, and the checked nonce extension, if any.
type ocspRequestExtras struct {
	certID []byte
	nonce  *pkix.Extension
}

// RFC 6960 4.1.1, with what vscard does not read left raw.
type rawOCSPRequest struct {
	TBSRequest struct {
		Version       int           `asn1:"explicit,tag:0,default:0,optional"`
		RequestorName asn1.RawValue `asn1:"explicit,tag:1,optional"`
		RequestList   []struct {
			ReqCert    asn1.RawValue
			Extensions asn1.RawValue `asn1:"explicit,tag:0,optional"`
		}
		Extensions []pkix.Extension `asn1:"explicit,tag:2,optional"`
	}
	OptionalSignature asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

// parseOCSPRequestExtras reads der, which ocsp.ParseRequest has accepted. The HTTP layer
// bounds its size, so the work is bounded too. A nonce must be a DER OCTET STRING of 1
// to maxNonce octets, and appear once; an unknown critical extension is refused, as RFC
// 5280 4.2 wants of extensions one does not understand.
func parseOCSPRequestExtras(der []byte) (ocspRequestExtras, error) {
	var out ocspRequestExtras
	var req rawOCSPRequest
	if rest, err := asn1.Unmarshal(der, &req); err != nil || len(rest) > 0 || len(req.TBSRequest.RequestList) == 0 {
		return out, errors.New("malformed OCSP request")
	}
	out.certID = req.TBSRequest.RequestList[0].ReqCert.FullBytes
	for _, ext := range req.TBSRequest.Extensions {
		if !ext.Id.Equal(oidOCSPNonce) {
			if ext.Critical {
				return out, fmt.Errorf("unknown critical OCSP request extension %v", ext.Id)
			}
			continue
		}
		if out.nonce != nil {
			return out, errors.New("two OCSP nonces")
		}
		var nonce []byte
		rest, err := asn1.Unmarshal(ext.Value, &nonce)
		if err != nil || len(rest) > 0 || len(nonce) == 0 || len(nonce) > maxNonce {
			return out, fmt.Errorf("OCSP nonce is not an OCTET STRING of 1 to %d octets", maxNonce)
		}
		out.nonce = &pkix.Extension{Id: oidOCSPNonce, Value: ext.Value}
	}
	return out, nil
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
