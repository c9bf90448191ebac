package handoff

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// TestRunTPMCard runs a whole enrolment against a card whose keys live in a
// TPM (swtpm): claim, personalisation with piv-go, keys generated in the
// TPM, CSRs signed and attested by the TPM, certificates stored, CARD_READY.
func TestRunTPMCard(t *testing.T) {
	env := pcsctest.Start(t, 1)
	srv := portaltest.Start(t)
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
	raw, err := os.ReadFile(filepath.Join(host.dir, res.Serial+".card"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"inTPM":true,"pinBound":true`) {
		t.Error("the enrolled card's keys are not PIN-bound TPM keys")
	}
}
