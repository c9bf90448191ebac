package main

import (
	"bufio"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/server/cardspec"
)

func TestCLIWordsInEveryLanguage(t *testing.T) {
	for _, l := range handoff.Languages {
		for k, w := range cliWords[handoff.Languages[0]] {
			if cliWords[l][k] == "" {
				t.Errorf("%s: no words for %s", l, k)
			}
			if l != handoff.Languages[0] && cliWords[l][k] == w && k != "pin" && k != "pinPage" && k != "challenge" {
				t.Errorf("%s: %s has the default language's words", l, k)
			}
		}
	}
}

// codeName is a state or code where words belong.
var codeName = regexp.MustCompile(`CANCELLED|DESKTOP_APP_CONNECTED|ORDER_ENDED|ILLEGAL_STATE|[A-Z]+_[A-Z_]+`)

// TestEventLine: a run that ended is told once, in the person's language, from its code:
// never the server's message that names states, nor the agent's English.
func TestEventLine(t *testing.T) {
	serverMsg := "An order that is CANCELLED cannot move to DESKTOP_APP_CONNECTED."
	tests := []struct {
		name string
		lang string
		ev   handoff.Event
		want string
	}{
		{"ok/cancelled in the portal, German", "de", handoff.Event{Step: handoff.StepCancelled, Error: "the order was ended in the portal (CANCELLED)", Code: handoff.CodeOrderEnded},
			"Abgebrochen: " + handoff.Words("de", handoff.CodeOrderEnded) + "\n"},
		{"ok/cancelled here, English", "en", handoff.Event{Step: handoff.StepCancelled, Error: "ask for PIN: cancelled in the Desktop App", Code: handoff.CodeCancelled},
			"Cancelled: " + handoff.Words("en", handoff.CodeCancelled) + "\n"},
		{"ok/the server refused the claim, English", "en", handoff.Event{Step: handoff.StepFailed, Error: serverMsg, ServerCode: "ILLEGAL_STATE"},
			"Failed: This order can no longer be used: it was cancelled in the portal, finished, or it expired. Start again from the portal.\n"},
		{"ok/the server refused the claim, German", "de", handoff.Event{Step: handoff.StepFailed, Error: serverMsg, ServerCode: "ILLEGAL_STATE"},
			"Fehlgeschlagen: Dieser Auftrag ist nicht mehr nutzbar: Er wurde im Portal abgebrochen, abgeschlossen oder ist abgelaufen. Beginnen Sie im Portal neu.\n"},
		{"ok/a step in German", "de", handoff.Event{Step: handoff.StepCardCreated}, "  Virtuelle Smartcard angelegt\n"},
		{"ok/an internal step is not shown", "en", handoff.Event{Step: "trust_checked"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := eventLine(&tt.ev, tt.lang)
			if got != tt.want {
				t.Errorf("eventLine = %q, want %q", got, tt.want)
			}
			if m := codeName.FindString(got); m != "" {
				t.Errorf("eventLine names %s: %q", m, got)
			}
		})
	}
}

// stderrOf runs fn and returns what it wrote to standard error.
func stderrOf(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	fn()
	os.Stderr = old
	w.Close()
	return <-done
}

// TestReadPINWords: the prompt lists the policy as the PIN page does, in the person's
// language, with the retry count apart from the rules, and words a refusal from its code.
func TestReadPINWords(t *testing.T) {
	policy := cardspec.PINPolicy{MinLength: 8, MaxLength: 8, Upper: cardspec.Disallowed, Lower: cardspec.Disallowed,
		Digits: cardspec.Required, Special: cardspec.Disallowed, MaxSequential: 4, RetryCount: 3}
	req := &handoff.PINRequest{Mode: handoff.PINChoose, Claim: handoff.ClaimInfo{UserName: "Alice", VerificationCode: "K7Q2", PINPolicy: policy,
		Rules: []string{"8 to 8 characters."}}}
	out := stderrOf(t, func() {
		if _, err := readPIN(bufio.NewScanner(strings.NewReader("47021599\n")), req, "de"); err != nil {
			t.Error(err)
		}
	})
	want := "Karte für Alice. Prüfcode: K7Q2 (das Portal zeigt denselben Code)\nIhre PIN braucht:\n" +
		"  - 8 Ziffern\n  - Nicht mehr als 4 aufeinanderfolgende Ziffern (wie 1234)\n" +
		"Die Karte sperrt nach 3 falschen PINs hintereinander.\nPIN: \n"
	if out != want {
		t.Errorf("prompt =\n%s\nwant\n%s", out, want)
	}
	req.Problems = []handoff.Problem{{Code: "sequential", Message: "The PIN must not contain more than 4 sequential digits (like 1234 or dcba)."}}
	out = stderrOf(t, func() {
		_, _ = readPIN(bufio.NewScanner(strings.NewReader("12345678\n")), req, "en")
	})
	if want := "The PIN was refused:\n  - The PIN has more than 4 sequential digits.\nPIN: \n"; out != want {
		t.Errorf("refusal =\n%s\nwant\n%s", out, want)
	}
}
