package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// TestTPMUnavailable: an agent told to use a TPM that is not there does not
// start, and says so with a code the CLI and PIN page have words for.
func TestTPMUnavailable(t *testing.T) {
	_, err := New(Config{
		DataDir: t.TempDir(), Trust: handoff.NewTrustFile(filepath.Join(t.TempDir(), "bridge.yaml")),
		TPM: filepath.Join(t.TempDir(), "tpmrm0"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	var coded *handoff.Error
	if !errors.As(err, &coded) || coded.Code != handoff.CodeTPMUnavailable {
		t.Fatalf("New without a TPM: %v", err)
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
		a, err := New(Config{
			DataDir: dataDir, Trust: handoff.NewTrustFile(filepath.Join(dataDir, "bridge.yaml")),
			Slots:   []Slot{{Addr: env.Readers[0].Addr, Reader: env.Readers[0].Name}, {Addr: env.Readers[1].Addr, Reader: env.Readers[1].Name}},
			TPMDial: func() (io.ReadWriteCloser, error) { return tp.Dial() },
			Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		return a
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
