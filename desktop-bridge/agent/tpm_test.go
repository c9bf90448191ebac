package agent

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// TestTPMUnavailable: an agent told to use a TPM that is not there does not
// start, and says so with a code the CLI and PIN page have words for.
func TestTPMUnavailable(t *testing.T) {
	_, err := New(Config{
		DataDir: t.TempDir(), Trust: handoff.NewTrustFile(filepath.Join(t.TempDir(), "bridge.yaml")),
		TPM: filepath.Join(t.TempDir(), "tpmrm0"), Logger: quietLog(),
	})
	var coded *handoff.Error
	if !errors.As(err, &coded) || coded.Code != handoff.CodeTPMUnavailable {
		t.Fatalf("New without a TPM: %v", err)
	}
}

// TestTPMKeysLost: a computer whose TPM was cleared or replaced (here: the same data
// folder on a second swtpm, whose storage root differs) does not start the agent with
// TPM_UNAVAILABLE but with TPM_KEYS_LOST, whose words say the cards must be replaced.
func TestTPMKeysLost(t *testing.T) {
	dataDir := t.TempDir()
	open := func(tp *tpmtest.TPM) (*Agent, error) {
		return New(Config{
			DataDir: dataDir, Trust: handoff.NewTrustFile(filepath.Join(dataDir, "bridge.yaml")),
			TPMDial: func() (io.ReadWriteCloser, error) { return tp.Dial() },
			Logger:  quietLog(),
		})
	}
	first := tpmtest.Start(t)
	a, err := open(first)
	if err != nil {
		t.Fatalf("first TPM: %v", err)
	}
	a.Close()
	if a, err = open(first); err != nil { // the same TPM still opens its key file
		t.Fatalf("first TPM again: %v", err)
	}
	a.Close()

	_, err = open(tpmtest.Start(t))
	var coded *handoff.Error
	if !errors.As(err, &coded) || coded.Code != handoff.CodeTPMKeysLost {
		t.Fatalf("New on a replaced TPM: %v, want TPM_KEYS_LOST", err)
	}
	if w := handoff.Words("en", coded.Code); !strings.Contains(w, "gone") || !strings.Contains(w, "Replace") {
		t.Errorf("English words %q do not say the keys are gone and the card must be replaced", w)
	}
	if w := handoff.Words("de", coded.Code); !strings.Contains(w, "verloren") || !strings.Contains(w, "Ersetzen") {
		t.Errorf("German words %q do not say the keys are gone and the card must be replaced", w)
	}
}

// TestTPMAgentCreatesTPMCards: with a TPM the agent makes new cards TPM
// cards, and after a restart it opens them and the software cards made
// before, each with its own key store.
func TestTPMAgentCreatesTPMCards(t *testing.T) {
	env := pcsctest.Start(t, 2)
	tp := tpmtest.Start(t)
	dataDir := t.TempDir()
	keys, err := vcard.LoadMasterKey(filepath.Join(dataDir, "cards.key"))
	if err != nil {
		t.Fatal(err)
	}
	cardDir := filepath.Join(dataDir, "cards")
	old, err := vcard.Create(cardDir, vcard.Options{KeyStore: keys})
	if err != nil {
		t.Fatal(err)
	}
	oldSerial := old.Serial()
	old.Close()
	if err := (records{dir: filepath.Join(dataDir, "enrolled")}).save(&record{Serial: oldSerial, State: StateReady}); err != nil {
		t.Fatal(err)
	}
	start := func() *Agent {
		return startAgent(t, Config{
			DataDir: dataDir, Slots: slotsOf(env, 2),
			TPMDial: func() (io.ReadWriteCloser, error) { return tp.Dial() },
		})
	}
	a := start()
	const serial = 31415926
	if _, err := a.CreateCard(context.Background(), serial); err != nil {
		t.Fatal(err)
	}
	if err := a.recs.save(&record{Serial: serial, State: StateReady}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	raw, err := os.ReadFile(filepath.Join(cardDir, strconv.Itoa(serial)+".card"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"tpm":true`) {
		t.Error("the new card is not a TPM card")
	}
	a = start()
	defer a.Close()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cards[serial] == nil || a.cards[oldSerial] == nil {
		t.Errorf("after restart the agent holds %v, want the TPM card and the software card", a.cards)
	}
}

// pinPrompter trusts the server and chooses pin, as a person on the PIN page would.
type pinPrompter struct{ pin string }

func (p pinPrompter) ConfirmTrust(context.Context, string) (bool, error) { return true, nil }
func (p pinPrompter) AskPIN(context.Context, handoff.PINRequest) (handoff.PINAnswer, error) {
	return handoff.PINAnswer{New: p.pin}, nil
}
func (p pinPrompter) Cancelled() <-chan struct{} { return nil }

// TestTPMAgentAttestsKeys: the Desktop App with --tpm enrolls under
// KEY_PROTECTION = TPM: the agent, as the card host, sends the TPM's evidence
// with the CSRs, and the server records the keys as attested.
func TestTPMAgentAttestsKeys(t *testing.T) {
	env := pcsctest.Start(t, 1)
	tp := tpmtest.Start(t)
	srv := portaltest.StartTPM(t, "TPM")
	alice := srv.SignIn(t)
	dataDir := t.TempDir()
	trust := handoff.NewTrustFile(filepath.Join(dataDir, "bridge.yaml"))
	a := startAgent(t, Config{
		DataDir: dataDir, Trust: trust, Slots: slotsOf(env, 1),
		TPMDial: func() (io.ReadWriteCloser, error) { return tp.Dial() },
	})
	defer a.Close()

	order, link := alice.StartOrder()
	h, err := handoff.ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := handoff.Run(ctx, handoff.Config{Trust: trust, Prompter: pinPrompter{"482915"}, Cards: a,
		Logger: quietLog()}, h)
	if err != nil {
		t.Fatalf("Run: %v (%s)", err, handoff.Describe(err))
	}
	if got := alice.Next(order.ID).State; got != "COMPLETED" {
		t.Errorf("after Next: %s, want COMPLETED", got)
	}
	if st := alice.CardStatus(res.Serial); st.State != "ACTIVE" || len(st.Certificates) != 2 {
		t.Errorf("card status %+v", st)
	}
	if got := alice.KeyProtection(res.Serial); got != "TPM_ATTESTED" {
		t.Errorf("card keys held as %s, want TPM_ATTESTED", got)
	}
}
