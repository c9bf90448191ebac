package ca

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"

	"golang.org/x/crypto/ocsp"
)

// FuzzParseOCSPRequest: vscard's one-pass parser reads what x/crypto's ParseRequest
// reads, the same way: whatever x/crypto accepts without extensions vscard accepts with
// the same hash, issuer hashes and serial, and what vscard accepts x/crypto accepts too.
func FuzzParseOCSPRequest(f *testing.F) {
	tc := newTestCA(f, nil)
	issuer := tc.issuing
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		for _, serial := range []int64{1, 255, -3, 1 << 40} {
			der, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: big.NewInt(serial)}, issuer, &ocsp.RequestOptions{Hash: h})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(der)
		}
	}
	cert := &x509.Certificate{SerialNumber: big.NewInt(77)}
	f.Add(ocspRequestWith(f, tc, cert, nonceExt(f, []byte("0123456789abcdef"))))
	f.Add(ocspRequestWith(f, tc, cert, pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3}, Critical: true, Value: []byte{5, 0}}))
	f.Fuzz(func(t *testing.T, der []byte) {
		theirs, theirErr := ocsp.ParseRequest(der)
		ours, ourErr := parseOCSPRequest(der)
		if ourErr == nil && theirErr != nil {
			t.Fatalf("vscard accepts what x/crypto refuses (%v)", theirErr)
		}
		if ourErr != nil {
			return
		}
		if ours.hash != theirs.HashAlgorithm || !bytes.Equal(ours.issuerNameHash, theirs.IssuerNameHash) ||
			!bytes.Equal(ours.issuerKeyHash, theirs.IssuerKeyHash) || ours.serial.Cmp(theirs.SerialNumber) != 0 {
			t.Fatalf("vscard read %v %x %x %v, x/crypto %v %x %x %v", ours.hash, ours.issuerNameHash, ours.issuerKeyHash, ours.serial,
				theirs.HashAlgorithm, theirs.IssuerNameHash, theirs.IssuerKeyHash, theirs.SerialNumber)
		}
		if !bytes.Contains(der, ours.certID) {
			t.Fatalf("the CertID %x is not the request's", ours.certID)
		}
	})
}
