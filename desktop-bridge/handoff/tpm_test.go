package handoff

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
	"github.com/vscard/vscard/server/enroll"
)

// TestRunTPMCard runs a whole enrolment against a card whose keys live in a
// TPM (swtpm) under KEY_PROTECTION = TPM: claim, personalisation with piv-go,
// keys generated in the TPM, CSRs signed by the TPM and sent with the TPM's
// evidence (EK certificate, credential activation, TPM2_Certify of each key),
// certificates stored, CARD_READY; the server records the keys as attested and
// says so in the certificates.
func TestRunTPMCard(t *testing.T) {
	env := pcsctest.Start(t, 1)
	srv := portaltest.StartTPM(t, "TPM")
	alice := srv.SignIn(t)
	tp := tpmtest.Start(t)
	conn, err := tp.Dial()
	if err != nil {
		t.Fatal(err)
	}
	ks, err := vcard.OpenTPM(conn, filepath.Join(t.TempDir(), "tpm.key"))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	host := newTestHost(t, env)
	host.keys = ks
	trust := &memTrust{}
	trust.Trust(srv.URL)

	order, link := alice.StartOrder()
	h, err := ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{Trust: trust, Prompter: newPrompter(false, goodPIN), Cards: host, Logger: testLogger(t)}, h)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := alice.Order(order.ID).State; got != "CARD_READY" {
		t.Errorf("order state %s, want CARD_READY", got)
	}
	if len(res.Certificates) != 2 {
		t.Fatalf("%d certificates, want 2", len(res.Certificates))
	}
	t.Logf("claim to CARD_READY with TPM keys: %v", res.Duration)
	if got := alice.Next(order.ID).State; got != "COMPLETED" {
		t.Errorf("after Next: %s, want COMPLETED", got)
	}
	if got := alice.CardStatus(res.Serial).State; got != "ACTIVE" {
		t.Errorf("card state %s, want ACTIVE", got)
	}
	if got := alice.KeyProtection(res.Serial); got != "TPM_ATTESTED" {
		t.Errorf("card keys held as %s, want TPM_ATTESTED", got)
	}
	attested := func(certs []Certificate) {
		t.Helper()
		for _, c := range certs {
			b, _ := pem.Decode([]byte(c.PEM))
			if b == nil {
				t.Fatalf("certificate of slot %s is no PEM", c.Slot)
			}
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if p := cert.PolicyIdentifiers; len(p) != 1 || !p[0].Equal(enroll.OIDKeyEKCertVerified) {
				t.Errorf("certificate of slot %s has policies %v, want [%v]", c.Slot, p, enroll.OIDKeyEKCertVerified)
			}
		}
	}
	attested(res.Certificates)

	// A renewal makes new keys in retired slots of the TPM card; they are
	// attested the same way, or KEY_PROTECTION = TPM would refuse them.
	renewal, link := alice.StartOnCard(RenewCard, res.Serial)
	h, err = ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := Run(ctx, Config{Trust: trust, Prompter: newPrompter(false, goodPIN), Cards: host, Logger: testLogger(t)}, h)
	if err != nil {
		t.Fatalf("Run renewal: %v (%s)", err, Describe(err))
	}
	if got := alice.Order(renewal.ID); got.State != "COMPLETED" {
		t.Fatalf("renewal order %s (%s)", got.State, got.FailureReason)
	}
	if len(renewed.Certificates) != 2 {
		t.Fatalf("renewal: %d certificates, want 2", len(renewed.Certificates))
	}
	attested(renewed.Certificates)
	if got := alice.KeyProtection(res.Serial); got != "TPM_ATTESTED" {
		t.Errorf("after renewal card keys held as %s, want TPM_ATTESTED", got)
	}
	raw, err := os.ReadFile(filepath.Join(host.dir, res.Serial+".card"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"inTPM":true,"pinBound":true`) {
		t.Error("the enrolled card's keys are not PIN-bound TPM keys")
	}
}

// TestRunSoftwareCardRefusedUnderTPM: a Desktop App without a TPM sends no
// evidence, so KEY_PROTECTION = TPM refuses its keys with TPM_EVIDENCE_MISSING,
// the card is deleted again, and the person reads words, not the code: here, on
// the PIN page (the failed step's code), and in the portal (the order's failure reason).
func TestRunSoftwareCardRefusedUnderTPM(t *testing.T) {
	env := pcsctest.Start(t, 1)
	srv := portaltest.StartTPM(t, "TPM")
	alice := srv.SignIn(t)
	host := newTestHost(t, env)
	trust := &memTrust{}
	trust.Trust(srv.URL)

	order, link := alice.StartOrder()
	h, err := ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var (
		mu   sync.Mutex
		last Event
	)
	_, err = Run(ctx, Config{Trust: trust, Prompter: newPrompter(false, goodPIN), Cards: host, Logger: testLogger(t),
		Notify: func(ev Event) { mu.Lock(); last = ev; mu.Unlock() }}, h)
	if err == nil {
		t.Fatal("a software card was enrolled under KEY_PROTECTION = TPM")
	}
	mu.Lock()
	defer mu.Unlock()
	if last.Step != StepFailed || last.Code != CodeTPMEvidenceMissing {
		t.Errorf("the last step is %s with code %q, want failed with %s", last.Step, last.Code, CodeTPMEvidenceMissing)
	}
	if got, want := alice.Order(order.ID).FailureReason, ReasonPrefix+string(CodeTPMEvidenceMissing); got != want {
		t.Errorf("the order's failure reason is %q, want %q", got, want)
	}
	msg := Describe(err)
	if want := Words("en", CodeTPMEvidenceMissing); msg != want {
		t.Errorf("the person reads %q, want %q (error %v)", msg, want, err)
	}
	if strings.Contains(msg, "TPM_EVIDENCE_MISSING") || !strings.Contains(msg, "TPM") {
		t.Errorf("the person reads %q", msg)
	}
	if de := DescribeIn("de", err); de == msg || de == "" {
		t.Errorf("German words %q", de)
	}
	host.mu.Lock()
	left := len(host.cards)
	host.mu.Unlock()
	if left != 0 {
		t.Errorf("%d cards left after the refusal", left)
	}
}
