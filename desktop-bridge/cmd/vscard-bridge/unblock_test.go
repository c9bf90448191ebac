package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/agent"
	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/cardspec/unblockcode"
)

// TestPinUnblockRead: a mistyped response is asked again at a terminal (and ends --stdin),
// the new PIN is held to the policy and, at a terminal, typed twice.
func TestPinUnblockRead(t *testing.T) {
	good := unblockcode.Format(unblockcode.Response([]byte("k"), "1", "000000000000"))
	typo := good[:2] + map[bool]string{true: "A", false: "B"}[good[2] != 'A'] + good[3:]
	// The card's server's policy: 8 characters, a letter, at most 3 in sequence.
	strict := &cardspec.PINPolicy{MinLength: 8, MaxLength: 8, Upper: cardspec.Required, MaxSequential: 3}
	tests := []struct {
		name, input string
		stdin       bool
		policy      *cardspec.PINPolicy
		resp, pin   string
		err         string // what the error must say; "-" for any error
	}{
		{"ok/stdin", good + "\n482915\n", true, nil, good, "482915", ""},
		{"ok/terminal: a mistyped response is asked again", typo + "\n" + good + "\n482915\n482915\n", false, nil, good, "482915", ""},
		{"ok/terminal: a mismatch and a short PIN are asked again", good + "\n482915\n482916\n123\n123\n593027\n593027\n", false, nil, good, "593027", ""},
		{"ok/terminal: the server's policy, not only 6 to 8 characters", good + "\n482915\n482915\n48Q29157\n48Q29157\n", false, strict, good, "48Q29157", ""},
		{"error/stdin: a PIN a PIV card takes but the server's policy does not, with the rule", good + "\n482915\n", true, strict, "", "", "8 characters"},
		{"error/stdin: a sequence the server's policy refuses", good + "\n1234Q678\n", true, strict, "", "", "sequen"},
		{"error/stdin: a mistyped response", typo + "\n482915\n", true, nil, "", "", "-"},
		{"error/no PIN", good + "\n", true, nil, "", "", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &pinUnblockCmd{Offline: true, Stdin: tt.stdin}
			policy := policyOf(agent.CardInfo{PINPolicy: tt.policy})
			resp, pin, err := c.read(bufio.NewScanner(strings.NewReader(tt.input)), io.Discard, policy)
			switch {
			case tt.err == "" && (err != nil || resp != tt.resp || pin != tt.pin):
				t.Fatalf("read = %q, %q, %v; want %q, %q", resp, pin, err, tt.resp, tt.pin)
			case tt.err == "-" && err == nil, tt.err != "" && tt.err != "-" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("read = %q, %q, %v; want an error saying %q", resp, pin, err, tt.err)
			}
		})
	}
}

// TestPinUnblockOffline runs `vscard-bridge pin unblock --offline` against a card the
// agent hosts on a private pcscd through vpcd: the PIN is blocked with piv-go (three wrong
// PINs), the command shows the card's challenge, the response computed as the server
// does from the card's management key unblocks it, and piv-go then verifies the new PIN
// with all tries back. The same response again (a replay), and another card's, are
// refused by the card.
func TestPinUnblockOffline(t *testing.T) {
	env := pcsctest.Start(t, 2)
	dataDir := t.TempDir()
	keys, err := vcard.LoadMasterKey(filepath.Join(dataDir, "cards.key"))
	if err != nil {
		t.Fatal(err)
	}
	const serial = 55501234
	mgmt := bytes.Repeat([]byte{0x5c}, 24)
	card, err := vcard.Create(filepath.Join(dataDir, "cards"), vcard.Options{Serial: serial, KeyStore: keys, ManagementKey: mgmt})
	if err != nil {
		t.Fatal(err)
	}
	card.Close()

	var slots []agent.Slot
	for _, r := range env.Readers {
		slots = append(slots, agent.Slot{Addr: r.Addr, Reader: r.Name})
	}
	a, err := agent.New(agent.Config{DataDir: dataDir, Trust: handoff.NewTrustFile(filepath.Join(t.TempDir(), "bridge.yaml")),
		Slots: slots, Version: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "bridge.sock")
	ln, err := agent.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() { a.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	g := &globals{Socket: sock}

	hosted, err := hostedCard(ctx, g, "55501234")
	if err != nil {
		t.Fatal(err)
	}
	reader := hosted.Reader
	withPIV(t, reader, func(yk *piv.YubiKey) {
		for range 3 {
			if err := yk.VerifyPIN("000000"); err == nil {
				t.Fatal("a wrong PIN verified")
			}
		}
		if n, _ := yk.Retries(); n != 0 {
			t.Fatalf("PIN has %d tries after three wrong PINs", n)
		}
	})

	// The person's run: the challenge goes to the portal, whose response comes back.
	var lastResponse string
	run := func(answer func(challenge string) string) (string, error) {
		out, err := runCLI(t, &pinUnblockCmd{Offline: true, Serial: "55501234", Stdin: true}, g, func(stdout *bufio.Reader, stdin io.Writer) {
			line, err := stdout.ReadString('\n')
			if err != nil {
				t.Errorf("read the challenge: %v", err)
				return
			}
			ch, ok := strings.CutPrefix(strings.TrimSpace(line), "Challenge: ")
			if !ok {
				t.Errorf("first line %q is not the challenge", line)
				return
			}
			io.WriteString(stdin, answer(ch)+"\n24681357\n")
		})
		return out, err
	}
	portal := func(key []byte, cardSerial string) func(string) string {
		return func(ch string) string {
			canon, err := unblockcode.Parse(ch)
			if err != nil {
				t.Errorf("challenge %q: %v", ch, err)
			}
			lastResponse = unblockcode.Format(unblockcode.Response(key, cardSerial, canon))
			return lastResponse
		}
	}

	if out, err := run(portal(bytes.Repeat([]byte{1}, 24), "55501234")); err == nil || !strings.Contains(err.Error(), "did not accept the response") {
		t.Fatalf("another card's key: %q, %v; want the card's refusal", out, err)
	}
	out, err := run(portal(mgmt, "55501234"))
	if err != nil || !strings.Contains(out, "is unblocked") {
		t.Fatalf("pin unblock --offline = %q, %v", out, err)
	}
	withPIV(t, reader, func(yk *piv.YubiKey) {
		if n, err := yk.Retries(); n != 3 {
			t.Fatalf("PIN has %d tries after the unblock (%v), want 3", n, err)
		}
		if err := yk.VerifyPIN("24681357"); err != nil {
			t.Fatalf("verify the new PIN: %v", err)
		}
	})
	replayed := lastResponse
	if _, err := run(func(string) string { return replayed }); err == nil || !strings.Contains(err.Error(), "did not accept the response") {
		t.Fatalf("a replayed response: %v; want the card's refusal", err)
	}

	// Two more wrong responses use the card's tries up: it gives no challenge any more,
	// and says to reset the PIN instead.
	for range 2 {
		if _, err := run(portal(bytes.Repeat([]byte{2}, 24), "55501234")); err == nil {
			t.Fatal("a wrong response was accepted")
		}
	}
	_, err = runCLI(t, &pinUnblockCmd{Offline: true, Serial: "55501234", Stdin: true}, g, func(*bufio.Reader, io.Writer) {})
	if err == nil || err.Error() != handoff.Words(handoff.Languages[0], handoff.CodeUnblockUsedUp) {
		t.Fatalf("with no tries left: %v; want the words of %s", err, handoff.CodeUnblockUsedUp)
	}
}

// withPIV opens the card in reader with piv-go, as any PC/SC program would, waiting while
// pcscd has yet to notice the card the agent inserted.
func withPIV(t *testing.T, reader string, fn func(*piv.YubiKey)) {
	t.Helper()
	var yk *piv.YubiKey
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if yk, err = piv.Open(reader); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	defer yk.Close()
	fn(yk)
}

// runCLI runs cmd as the command line would, with standard input and output on pipes
// that talk drives, and returns what it printed.
func runCLI(t *testing.T, cmd *pinUnblockCmd, g *globals, talk func(stdout *bufio.Reader, stdin io.Writer)) (string, error) {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldIn, oldOut := os.Stdin, os.Stdout
	os.Stdin, os.Stdout = inR, outW
	defer func() { os.Stdin, os.Stdout = oldIn, oldOut }()
	var printed bytes.Buffer
	talked := make(chan struct{})
	go func() {
		defer close(talked)
		r := bufio.NewReader(outR)
		talk(bufio.NewReader(io.TeeReader(r, &printed)), inW)
		io.Copy(&printed, r)
	}()
	err = cmd.Run(context.Background(), g)
	outW.Close()
	<-talked
	inW.Close()
	inR.Close()
	outR.Close()
	return printed.String(), err
}
