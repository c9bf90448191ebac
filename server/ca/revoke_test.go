package ca

import (
	"context"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/server/errs"
)

func TestRevoke(t *testing.T) {
	tc := newTestCA(t, nil)
	ctx := context.Background()
	issue := func() string {
		t.Helper()
		got, err := tc.Issue(ctx, authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		return got.Serial
	}
	colons := func(s string) string { // "0A:1B:…", as certificate viewers show serials
		if len(s)%2 == 1 {
			s = "0" + s
		}
		var parts []string
		for i := 0; i < len(s); i += 2 {
			parts = append(parts, strings.ToUpper(s[i:i+2]))
		}
		return strings.Join(parts, ":")
	}

	tests := []struct {
		name    string
		steps   []int // reasons applied in order; the last one is checked
		serial  func(string) string
		want    Status
		code    errs.Code
		message string
	}{
		{name: "ok/revoke", steps: []int{ocsp.KeyCompromise}, want: StatusRevoked},
		{name: "ok/revoke-twice", steps: []int{ocsp.KeyCompromise, ocsp.Superseded}, want: StatusRevoked},
		{name: "ok/hold", steps: []int{ocsp.CertificateHold}, want: StatusOnHold},
		{name: "ok/hold-then-release", steps: []int{ocsp.CertificateHold, ocsp.RemoveFromCRL}, want: StatusValid},
		{name: "ok/hold-then-revoke", steps: []int{ocsp.CertificateHold, ocsp.CessationOfOperation}, want: StatusRevoked},
		{name: "ok/serial-with-colons", steps: []int{ocsp.Unspecified}, serial: colons, want: StatusRevoked},
		{name: "error/release-valid", steps: []int{ocsp.RemoveFromCRL}, want: StatusValid, code: errs.IllegalState, message: "not on hold"},
		{name: "error/release-revoked", steps: []int{ocsp.KeyCompromise, ocsp.RemoveFromCRL}, want: StatusRevoked, code: errs.IllegalState, message: "revoked for good"},
		{name: "error/reason-7", steps: []int{7}, want: StatusValid, code: errs.InvalidInput, message: "not an RFC 5280 reason"},
		{name: "error/reason-11", steps: []int{11}, want: StatusValid, code: errs.InvalidInput, message: "not an RFC 5280 reason"},
		{name: "error/unknown-serial", steps: []int{ocsp.KeyCompromise}, serial: func(string) string { return "abcdef0123" },
			want: StatusValid, code: errs.NotFound, message: "has not issued a certificate with serial abcdef0123"},
		{name: "error/not-hex", steps: []int{ocsp.KeyCompromise}, serial: func(string) string { return "xyz" },
			want: StatusValid, code: errs.InvalidInput, message: "in hexadecimal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serial := issue()
			arg := serial
			if tt.serial != nil {
				arg = tt.serial(serial)
			}
			var err error
			for _, reason := range tt.steps {
				err = tc.Revoke(ctx, arg, reason)
			}
			if tt.code == "" && err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if tt.code != "" {
				wantCode(t, err, tt.code)
				if !strings.Contains(err.Error(), tt.message) {
					t.Errorf("error %q does not contain %q", err, tt.message)
				}
			}
			if got, err := tc.Status(ctx, serial); err != nil || got != tt.want {
				t.Errorf("Status = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	tc := newTestCA(t, nil)
	ctx := context.Background()
	got, err := tc.Issue(ctx, authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	held, err := tc.Issue(ctx, authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.Revoke(ctx, held.Serial, ocsp.CertificateHold); err != nil {
		t.Fatal(err)
	}
	if st, err := tc.Status(ctx, got.Serial); err != nil || st != StatusValid {
		t.Errorf("Status = %s, %v; want VALID", st, err)
	}
	tc.clock.Advance(time.Hour)
	if st, err := tc.Status(ctx, got.Serial); err != nil || st != StatusExpired {
		t.Errorf("Status at NotAfter = %s, %v; want EXPIRED", st, err)
	}
	if st, err := tc.Status(ctx, held.Serial); err != nil || st != StatusOnHold {
		t.Errorf("Status of an expired held certificate = %s, %v; want ON_HOLD", st, err)
	}
	st, err := tc.Status(ctx, "1234")
	wantCode(t, err, errs.NotFound)
	if st != StatusUnknown {
		t.Errorf("Status of an unknown serial = %s, want UNKNOWN", st)
	}
}

func TestRevokeReference(t *testing.T) {
	tc := newTestCA(t, nil)
	ctx := context.Background()
	issue := func(ref string) string {
		t.Helper()
		req := authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour))
		req.Reference = ref
		got, err := tc.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return got.Serial
	}
	a1, a2, b := issue("ord_a"), issue("ord_a"), issue("ord_b")

	serials, err := tc.RevokeReference(ctx, "ord_a", ocsp.CessationOfOperation)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(serials)
	want := []string{a1, a2}
	slices.Sort(want)
	if !slices.Equal(serials, want) {
		t.Errorf("revoked %v, want %v", serials, want)
	}
	for serial, st := range map[string]Status{a1: StatusRevoked, a2: StatusRevoked, b: StatusValid} {
		if got, err := tc.Status(ctx, serial); err != nil || got != st {
			t.Errorf("Status(%s) = %s, %v; want %s", serial, got, err, st)
		}
	}
	if serials, err := tc.RevokeReference(ctx, "ord_none", ocsp.Unspecified); err != nil || len(serials) != 0 {
		t.Errorf("RevokeReference of an unknown reference = %v, %v; want nothing", serials, err)
	}
	_, err = tc.RevokeReference(ctx, "", ocsp.Unspecified)
	wantCode(t, err, errs.InvalidInput)
}

func TestCRLCache(t *testing.T) {
	tc := newTestCA(t, nil)
	ctx := context.Background()
	first := fetchCRL(t, tc)

	if again := fetchCRL(t, tc); again.Number.Cmp(first.Number) != 0 {
		t.Errorf("CRL re-signed without a change: number %v then %v", first.Number, again.Number)
	}
	tc.clock.Advance(12*time.Hour + time.Second) // past half the 24 h validity
	aged := fetchCRL(t, tc)
	if aged.Number.Cmp(first.Number) <= 0 || !aged.ThisUpdate.After(first.ThisUpdate) {
		t.Errorf("CRL not re-signed at half its validity: number %v, thisUpdate %v", aged.Number, aged.ThisUpdate)
	}

	// A revoked certificate stays on the CRL until one CRL validity after it expires.
	got, err := tc.Issue(ctx, authRequest(makeCSR(t, newP256(t)), tc.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.Revoke(ctx, got.Serial, ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	if !crlHas(fetchCRL(t, tc), got.Serial) {
		t.Fatal("revocation not on the next CRL")
	}
	tc.clock.Advance(time.Hour + 23*time.Hour) // expired, but less than a CRL validity ago
	if !crlHas(fetchCRL(t, tc), got.Serial) {
		t.Error("revoked certificate left the CRL less than a CRL validity after it expired")
	}
	tc.clock.Advance(13 * time.Hour) // and past half that CRL's validity, so it is re-signed
	if crlHas(fetchCRL(t, tc), got.Serial) {
		t.Error("revoked certificate still on the CRL a CRL validity after it expired")
	}
}

// TestCRLAcrossInstances: two server instances share the CA's files and records; a
// revocation made on one reaches the other's CRL once that instance's cache is
// CRLMaxAge old.
func TestCRLAcrossInstances(t *testing.T) {
	a := newTestCA(t, nil)
	b, err := Open(a.dir, testConfig(a.clock), a.store)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	onB := func() *x509.RevocationList {
		der, err := b.CRL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		return crl
	}
	_ = onB() // b caches a CRL
	got, err := a.Issue(ctx, authRequest(makeCSR(t, newP256(t)), a.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Revoke(ctx, got.Serial, ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	a.clock.Advance(11 * time.Second) // past the default CRLMaxAge of 10 s
	if !crlHas(onB(), got.Serial) {
		t.Fatal("a revocation made on one instance is missing from the other's CRL after CRLMaxAge")
	}
}
