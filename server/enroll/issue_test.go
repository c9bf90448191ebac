package enroll

import (
	"context"

	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"github.com/vscard/vscard/ent"
	"testing"

	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
)

var twoCerts = &cardspec.Options{Certificates: []cardspec.CertificateSpec{
	{Template: cardspec.Authentication, Slot: "9A", Algorithm: cardspec.ECCP256},
	{Template: cardspec.Signature, Slot: "9C", Algorithm: cardspec.RSA2048},
}}

func csrFor(tb testing.TB, key any) []byte {
	tb.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "k"}}, key)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

func TestCheckSubmissions(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrFor(t, p256)}))
	rs := base64.StdEncoding.EncodeToString(csrFor(t, rsa2048))
	wrongCurve := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrFor(t, p384)}))

	e := &Engine{}
	cases := []struct {
		name string
		keys []KeySubmission
		ok   bool
	}{
		{"ok/PEM and base64 DER", []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: ec}, {Slot: "9c", Template: cardspec.Signature, CSR: rs}}, true},
		{"error/missing slot", []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: ec}}, false},
		{"error/extra slot", []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: ec}, {Slot: "9C", Template: cardspec.Signature, CSR: rs}, {Slot: "9D", Template: cardspec.Encryption, CSR: ec}}, false},
		{"error/slot twice", []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: ec}, {Slot: "9A", Template: cardspec.Authentication, CSR: ec}}, false},
		{"error/wrong template for the slot", []KeySubmission{{Slot: "9A", Template: cardspec.Signature, CSR: ec}, {Slot: "9C", Template: cardspec.Signature, CSR: rs}}, false},
		{"error/wrong curve", []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: wrongCurve}, {Slot: "9C", Template: cardspec.Signature, CSR: rs}}, false},
		{"error/RSA where EC was asked", []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: rs}, {Slot: "9C", Template: cardspec.Signature, CSR: rs}}, false},
		{"error/two PEM blocks", []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: ec + ec}, {Slot: "9C", Template: cardspec.Signature, CSR: rs}}, false},
		{"error/oversized", []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: string(make([]byte, maxPEM+1))}, {Slot: "9C", Template: cardspec.Signature, CSR: rs}}, false},
		{"error/attestation that is no certificate", []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: ec, Attestation: "AAAA"}, {Slot: "9C", Template: cardspec.Signature, CSR: rs}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.checkSubmissions(context.Background(), &ent.Order{Options: twoCerts}, tc.keys)
			if tc.ok {
				if err != nil || len(got) != 2 {
					t.Fatalf("checkSubmissions = %d, %v", len(got), err)
				}
				return
			}
			if errs.CodeOf(err) != errs.InvalidInput {
				t.Fatalf("error %v, want INVALID_INPUT", err)
			}
		})
	}
}

// FuzzCheckSubmissions: any CSR text is refused with INVALID_INPUT or accepted as a CSR of
// the requested algorithm; it never panics.
func FuzzCheckSubmissions(f *testing.F) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := csrFor(f, p256)
	f.Add(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: good})))
	f.Add(base64.StdEncoding.EncodeToString(good))
	f.Add("-----BEGIN CERTIFICATE REQUEST-----\n\n-----END CERTIFICATE REQUEST-----")
	f.Add("")
	opts := &cardspec.Options{Certificates: []cardspec.CertificateSpec{{Template: cardspec.Authentication, Slot: "9A", Algorithm: cardspec.ECCP256}}}
	e := &Engine{}
	f.Fuzz(func(t *testing.T, csr string) {
		got, err := e.checkSubmissions(context.Background(), &ent.Order{Options: opts}, []KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: csr}})
		if err != nil {
			if errs.CodeOf(err) != errs.InvalidInput {
				t.Fatalf("error %v is not INVALID_INPUT", err)
			}
			return
		}
		parsed, perr := x509.ParseCertificateRequest(got[0].csr)
		if perr != nil || algorithmOf(parsed.PublicKey) != cardspec.ECCP256 {
			t.Fatalf("accepted a CSR that is not P-256: %v", perr)
		}
	})
}
