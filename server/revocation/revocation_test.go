package revocation

import (
	"testing"

	"golang.org/x/crypto/ocsp"
)

func TestCodes(t *testing.T) {
	want := map[Reason]int{
		Unspecified: ocsp.Unspecified, KeyCompromise: ocsp.KeyCompromise, CACompromise: ocsp.CACompromise,
		AffiliationChanged: ocsp.AffiliationChanged, Superseded: ocsp.Superseded,
		CessationOfOperation: ocsp.CessationOfOperation, CertificateHold: ocsp.CertificateHold,
		PrivilegeWithdrawn: ocsp.PrivilegeWithdrawn, AACompromise: ocsp.AACompromise,
	}
	if n := len(Reason("").Values()); n != len(want) {
		t.Fatalf("Values has %d reasons, want %d", n, len(want))
	}
	for _, v := range Reason("").Values() {
		r := Reason(v)
		if code, ok := want[r]; !ok || r.Code() != code {
			t.Errorf("%s.Code() = %d, want %d (known: %v)", r, r.Code(), code, ok)
		}
	}
}

func TestCauses(t *testing.T) {
	for c, want := range map[Cause]Reason{LostOrStolen: KeyCompromise, Replaced: Superseded, NoLongerNeeded: CessationOfOperation} {
		if !c.Valid() || c.Reason() != want {
			t.Errorf("%s: valid %v, reason %s; want %s", c, c.Valid(), c.Reason(), want)
		}
	}
	if Cause("STOLEN").Valid() {
		t.Error("an unknown cause is valid")
	}
}
