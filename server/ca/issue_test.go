package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
)

func TestIssue(t *testing.T) {
	tc := newTestCA(t, nil)
	ctx := context.Background()
	now := tc.clock.Now()
	inOneYear := now.Add(365 * 24 * time.Hour)

	p256, p384 := newP256(t), mustECDSA(t, elliptic.P384())
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	opensslCSR, err := os.ReadFile("testdata/openssl-p256.csr")
	if err != nil {
		t.Fatal(err)
	}

	type want struct {
		ku        x509.KeyUsage
		eku       []x509.ExtKeyUsage
		smartcard bool
		upns      []string
		emails    []string
		notAfter  time.Time
	}
	tests := []struct {
		name string
		req  IssueRequest
		want want
	}{
		{"ok/authentication-p256", authRequest(makeCSR(t, p256), inOneYear), want{
			ku: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, smartcard: true,
			upns: []string{"alice@corp.example.com"}, emails: []string{"alice@example.com"}, notAfter: inOneYear,
		}},
		{"ok/authentication-p384", authRequest(makeCSR(t, p384), inOneYear), want{
			ku: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, smartcard: true,
			upns: []string{"alice@corp.example.com"}, emails: []string{"alice@example.com"}, notAfter: inOneYear,
		}},
		{"ok/authentication-rsa2048", authRequest(makeCSR(t, rsa2048), inOneYear), want{
			ku: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, smartcard: true,
			upns: []string{"alice@corp.example.com"}, emails: []string{"alice@example.com"}, notAfter: inOneYear,
		}},
		{"ok/authentication-upn-only", func() IssueRequest {
			r := authRequest(makeCSR(t, p256), inOneYear)
			r.Emails = nil
			return r
		}(), want{
			ku: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, smartcard: true,
			upns: []string{"alice@corp.example.com"}, notAfter: inOneYear,
		}},
		{"ok/signature-p256", withTemplate(authRequest(makeCSR(t, p256), inOneYear), cardspec.Signature), want{
			ku: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
			emails: []string{"alice@example.com"}, notAfter: inOneYear,
		}},
		{"ok/encryption-p256", withTemplate(authRequest(makeCSR(t, p256), inOneYear), cardspec.Encryption), want{
			ku: x509.KeyUsageKeyAgreement, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
			emails: []string{"alice@example.com"}, notAfter: inOneYear,
		}},
		{"ok/encryption-rsa2048", withTemplate(authRequest(makeCSR(t, rsa2048), inOneYear), cardspec.Encryption), want{
			ku: x509.KeyUsageKeyEncipherment, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
			emails: []string{"alice@example.com"}, notAfter: inOneYear,
		}},
		{"ok/csr-requests-granted-sans", authRequest(makeCSR(t, p256, sanExt(t, sans{UPN: "alice@corp.example.com", Emails: []string{"ALICE@example.com"}})), inOneYear), want{
			ku: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, smartcard: true,
			upns: []string{"alice@corp.example.com"}, emails: []string{"alice@example.com"}, notAfter: inOneYear,
		}},
		{"ok/openssl-csr", authRequest(opensslCSR, inOneYear), want{
			ku: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, smartcard: true,
			upns: []string{"alice@corp.example.com"}, emails: []string{"alice@example.com"}, notAfter: inOneYear,
		}},
		{"ok/not-after-clamped-to-issuing-ca", authRequest(makeCSR(t, p256), now.Add(100*365*24*time.Hour)), want{
			ku: x509.KeyUsageDigitalSignature, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, smartcard: true,
			upns: []string{"alice@corp.example.com"}, emails: []string{"alice@example.com"}, notAfter: tc.issuing.NotAfter,
		}},
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(tc.root)
	inters.AddCert(tc.issuing)
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tc.Issue(ctx, tt.req)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			cert := got.Certificate
			if !bytes.Equal(cert.Raw, got.DER) || got.Serial != formatSerial(cert.SerialNumber) {
				t.Fatalf("Issued is inconsistent: serial %s vs %s", got.Serial, cert.SerialNumber.Text(16))
			}
			if _, err := cert.Verify(x509.VerifyOptions{
				Roots: roots, Intermediates: inters, CurrentTime: now,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
			}); err != nil {
				t.Errorf("verify against the chain: %v", err)
			}
			if cert.SerialNumber.Sign() <= 0 || cert.SerialNumber.BitLen() > 128 || seen[got.Serial] {
				t.Errorf("serial %s is not a fresh positive 128-bit number", got.Serial)
			}
			seen[got.Serial] = true
			if cert.Subject.String() != tt.req.Subject.String() {
				t.Errorf("subject = %q, want %q (the CSR's is ignored)", cert.Subject, tt.req.Subject)
			}
			if cert.KeyUsage != tt.want.ku {
				t.Errorf("key usage = %b, want %b", cert.KeyUsage, tt.want.ku)
			}
			if !slices.Equal(cert.ExtKeyUsage, tt.want.eku) {
				t.Errorf("EKU = %v, want %v", cert.ExtKeyUsage, tt.want.eku)
			}
			hasSmartcard := len(cert.UnknownExtKeyUsage) == 1 && cert.UnknownExtKeyUsage[0].Equal(oidSmartcardLogon)
			if hasSmartcard != tt.want.smartcard || (!tt.want.smartcard && len(cert.UnknownExtKeyUsage) > 0) {
				t.Errorf("unknown EKUs = %v, want smartcardLogon %v", cert.UnknownExtKeyUsage, tt.want.smartcard)
			}
			upns, err := UPNs(cert)
			if err != nil {
				t.Fatalf("UPNs: %v", err)
			}
			if !slices.Equal(upns, tt.want.upns) {
				t.Errorf("UPNs = %q, want %q", upns, tt.want.upns)
			}
			if !slices.Equal(cert.EmailAddresses, tt.want.emails) {
				t.Errorf("emails = %q, want %q", cert.EmailAddresses, tt.want.emails)
			}
			if len(cert.DNSNames)+len(cert.URIs)+len(cert.IPAddresses) > 0 {
				t.Errorf("unexpected SANs: %v %v %v", cert.DNSNames, cert.URIs, cert.IPAddresses)
			}
			if !slices.Equal(cert.CRLDistributionPoints, []string{"http://localhost:8080/ca/crl/" + got.Serial[len(got.Serial)-1:]}) ||
				!slices.Equal(cert.OCSPServer, []string{"http://localhost:8080/ca/ocsp"}) ||
				!slices.Equal(cert.IssuingCertificateURL, []string{"http://localhost:8080/ca/issuing.crt"}) {
				t.Errorf("URLs: CRL %v OCSP %v AIA %v", cert.CRLDistributionPoints, cert.OCSPServer, cert.IssuingCertificateURL)
			}
			if len(cert.SubjectKeyId) != 20 || !bytes.Equal(cert.AuthorityKeyId, tc.issuing.SubjectKeyId) {
				t.Errorf("SKI %x, AKI %x (issuing SKI %x)", cert.SubjectKeyId, cert.AuthorityKeyId, tc.issuing.SubjectKeyId)
			}
			if cert.IsCA {
				t.Error("end-entity certificate is a CA")
			}
			if want := tt.want.notAfter.UTC().Truncate(time.Second); !cert.NotAfter.Equal(want) {
				t.Errorf("NotAfter = %v, want %v", cert.NotAfter, want)
			}
			if want := now.Add(-time.Minute); !cert.NotBefore.Equal(want) {
				t.Errorf("NotBefore = %v, want %v", cert.NotBefore, want)
			}
			rec, err := tc.store.Get(ctx, got.Serial)
			if err != nil {
				t.Fatalf("Get record: %v", err)
			}
			if rec.State != StatusValid || !bytes.Equal(rec.DER, got.DER) || rec.Reference != "ord_test" ||
				rec.Template != tt.req.Template || rec.Subject != tt.req.Subject.String() || !rec.NotAfter.Equal(cert.NotAfter) {
				t.Errorf("record = %+v", rec)
			}
		})
	}
}

func withTemplate(r IssueRequest, t cardspec.Template) IssueRequest {
	r.Template = t
	return r
}

func mustECDSA(tb testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestIssueRefused(t *testing.T) {
	tc := newTestCA(t, nil)
	ctx := context.Background()
	inOneYear := tc.clock.Now().Add(365 * 24 * time.Hour)
	p256 := newP256(t)

	tampered := makeCSR(t, p256)
	tampered[len(tampered)-1] ^= 0x01 // a byte of the signature's S value

	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	oversized := makeCSR(t, p256, pkix.Extension{Id: []int{1, 2, 3, 4}, Value: bytes.Repeat([]byte{0x05, 0x00}, MaxCSRSize/2)})

	tests := []struct {
		name    string
		req     IssueRequest
		message string // a fragment of the message a person reads
	}{
		{"error/bad-signature", authRequest(tampered, inOneYear), "signature does not verify"},
		{"error/rsa-1024", authRequest(makeCSR(t, rsa1024), inOneYear), "RSA-1024"},
		{"error/p224", authRequest(makeCSR(t, mustECDSA(t, elliptic.P224())), inOneYear), "curve P-224"},
		{"error/p521", authRequest(makeCSR(t, mustECDSA(t, elliptic.P521())), inOneYear), "curve P-521"},
		{"error/ed25519", authRequest(makeCSR(t, ed), inOneYear), "Ed25519"},
		{"error/extra-san-dns", authRequest(makeCSR(t, p256, dnsSANExt(t, "evil.example.com")), inOneYear), "extra SANs"},
		{"error/extra-san-email", authRequest(makeCSR(t, p256, sanExt(t, sans{Emails: []string{"ceo@example.com"}})), inOneYear), "email:ceo@example.com"},
		{"error/extra-san-upn", authRequest(makeCSR(t, p256, sanExt(t, sans{UPN: "administrator@corp.example.com"})), inOneYear), "UPN:administrator@corp.example.com"},
		{"error/upn-on-signature-template", withTemplate(authRequest(makeCSR(t, p256, sanExt(t, sans{UPN: "alice@corp.example.com"})), inOneYear), cardspec.Signature), "extra SANs"},
		{"error/garbage", authRequest([]byte("this is not a CSR at all"), inOneYear), "not a DER-encoded PKCS#10"},
		{"error/empty", authRequest(nil, inOneYear), "empty"},
		{"error/oversized", authRequest(oversized, inOneYear), "limit is 16384"},
		{"error/unknown-template", withTemplate(authRequest(makeCSR(t, p256), inOneYear), "WIFI"), "template \"WIFI\" is unknown"},
		{"error/empty-subject", func() IssueRequest {
			r := authRequest(makeCSR(t, p256), inOneYear)
			r.Subject = pkix.Name{}
			return r
		}(), "subject is empty"},
		{"error/no-not-after", authRequest(makeCSR(t, p256), time.Time{}), "no NotAfter"},
		{"error/past-not-after", authRequest(makeCSR(t, p256), tc.clock.Now().Add(-time.Hour)), "not in the future"},
		{"error/bad-email", func() IssueRequest {
			r := authRequest(makeCSR(t, p256), inOneYear)
			r.Emails = []string{"Alice <alice@example.com>"}
			return r
		}(), "not a plain ASCII email address"},
		{"error/bad-upn", func() IssueRequest {
			r := authRequest(makeCSR(t, p256), inOneYear)
			r.UPN = "alice"
			return r
		}(), "not a user principal name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tc.Issue(ctx, tt.req)
			if got != nil {
				t.Errorf("Issue returned a certificate: %s", got.Serial)
			}
			wantCode(t, err, errs.InvalidInput)
			var e *errs.Error
			if errors.As(err, &e); !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q does not contain %q", e.Message, tt.message)
			}
			if n := tc.recordCount(t); n != 0 {
				t.Errorf("%d CA records after a refused request, want 0", n)
			}
		})
	}
}

// dnsSANExt is a subjectAltName extension with a dNSName, as a TLS CSR would carry.
func dnsSANExt(tb testing.TB, name string) pkix.Extension {
	tb.Helper()
	tmp, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{name}}, newP256(tb))
	if err != nil {
		tb.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(tmp)
	if err != nil {
		tb.Fatal(err)
	}
	for _, ext := range csr.Extensions {
		if ext.Id.Equal(oidSubjectAltName) {
			return ext
		}
	}
	tb.Fatal("no SAN extension")
	return pkix.Extension{}
}

// failingMarkIssued is a store whose MarkIssued fails, after checking that the record
// was written as PENDING before the certificate was signed.
type failingMarkIssued struct {
	Store
	t       *testing.T
	mu      sync.Mutex
	serials []string
}

func (f *failingMarkIssued) MarkIssued(ctx context.Context, serial string, der []byte) error {
	rec, err := f.Store.Get(ctx, serial)
	if err != nil {
		f.t.Errorf("no record before signing finished: %v", err)
	} else if rec.State != StatusPending || len(rec.DER) != 0 {
		f.t.Errorf("record before MarkIssued: state %s, %d DER bytes; want PENDING, none", rec.State, len(rec.DER))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil || formatSerial(cert.SerialNumber) != serial {
		f.t.Errorf("signed certificate does not carry the reserved serial %s", serial)
	}
	f.mu.Lock()
	f.serials = append(f.serials, serial)
	f.mu.Unlock()
	return errDatabaseDown
}

var errDatabaseDown = errorString("database is down")

type errorString string

func (e errorString) Error() string { return string(e) }

func TestIssueRecordsBeforeSigning(t *testing.T) {
	var failing *failingMarkIssued
	tc := newTestCA(t, func(s Store) Store {
		failing = &failingMarkIssued{Store: s, t: t}
		return failing
	})
	ctx := context.Background()

	got, err := tc.Issue(ctx, authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
	if got != nil || err == nil {
		t.Fatalf("Issue = %v, %v; want an error", got, err)
	}
	if !errors.Is(err, errDatabaseDown) || errs.CodeOf(err) != errs.Internal {
		t.Errorf("error %v should wrap the store's error and be INTERNAL", err)
	}
	if len(failing.serials) != 1 {
		t.Fatalf("MarkIssued called %d times, want 1", len(failing.serials))
	}
	serial := failing.serials[0]

	if st, err := tc.Status(ctx, serial); err != nil || st != StatusPending {
		t.Fatalf("Status = %s, %v; want PENDING", st, err)
	}
	// Signed but never handed out: OCSP must not call it good.
	n, _ := new(big.Int).SetString(serial, 16)
	if r := queryOCSP(t, tc, &x509.Certificate{SerialNumber: n}, http.MethodPost); r.Status != ocsp.Unknown {
		t.Errorf("OCSP status of the pending certificate = %d, want unknown", r.Status)
	}
	if err := tc.Revoke(ctx, serial, ocsp.Superseded); err != nil {
		t.Fatalf("Revoke the pending certificate: %v", err)
	}
	if st, err := tc.Status(ctx, serial); err != nil || st != StatusRevoked {
		t.Fatalf("Status after Revoke = %s, %v; want REVOKED", st, err)
	}
	crl := fetchCRL(t, tc)
	if !crlHas(crl, serial) {
		t.Errorf("CRL does not list the revoked pending certificate %s", serial)
	}
}

func TestIssueConcurrent(t *testing.T) {
	tc := newTestCA(t, nil)
	ctx := context.Background()
	const n = 16
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tc.Issue(ctx, authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("Issue: %v", err)
		}
	}
	if got := tc.recordCount(t); got != n {
		t.Errorf("%d records, want %d", got, n)
	}
}

func BenchmarkIssue(b *testing.B) {
	tc := newTestCA(b, nil)
	ctx := context.Background()
	keys := make([]crypto.Signer, 16)
	csrs := make([][]byte, len(keys))
	for i := range keys {
		keys[i] = newP256(b)
		csrs[i] = makeCSR(b, keys[i])
	}
	notAfter := tc.clock.Now().Add(365 * 24 * time.Hour)
	i := 0
	for b.Loop() {
		if _, err := tc.Issue(ctx, authRequest(csrs[i%len(csrs)], notAfter)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
}
