package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/agent"
	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/handoff"
)

// TestPinChangeRead checks what `pin change` reads: with --pin-stdin the current PIN and
// the new one, a line each; at a terminal the new one twice, asked again on a mismatch.
func TestPinChangeRead(t *testing.T) {
	tests := []struct {
		name  string
		stdin bool
		input string
		want  handoff.PINAnswer
		err   bool
	}{
		{"ok/stdin: current, then new", true, "111111\n482915\n", handoff.PINAnswer{Current: "111111", New: "482915"}, false},
		{"ok/terminal: new twice", false, "111111\n482915\n482915\n", handoff.PINAnswer{Current: "111111", New: "482915"}, false},
		{"ok/terminal: a mismatch is asked again", false, "111111\n482915\n482916\n111111\n593027\n593027\n", handoff.PINAnswer{Current: "111111", New: "593027"}, false},
		{"error/stdin without the new PIN", true, "111111\n", handoff.PINAnswer{}, true},
		{"error/terminal without the confirmation", false, "111111\n482915\n", handoff.PINAnswer{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &pinChangeCmd{PINStdin: tt.stdin}
			got, err := c.read(bufio.NewScanner(strings.NewReader(tt.input)))
			if (err != nil) != tt.err || (!tt.err && got != tt.want) {
				t.Fatalf("read = %+v, %v; want %+v (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestPinChangePolicy: without the server, the new PIN is held to what a PIV card takes.
func TestPinChangePolicy(t *testing.T) {
	for pin, ok := range map[string]bool{"482915": true, "12345": false, "123456789": false} {
		if got := len(handoff.CheckPIN(handoff.PINChange, pivPIN, handoff.PINAnswer{Current: "000000", New: pin})) == 0; got != ok {
			t.Errorf("PIN %q accepted %v, want %v", pin, got, ok)
		}
	}
}

// TestPinChangeResult: the server hears a code for each ending, never words.
func TestPinChangeResult(t *testing.T) {
	tests := []struct {
		err   error
		wrong int
		want  api.PinChangeResult
	}{
		{nil, 0, api.PinChangeResultChanged},
		{nil, 2, api.PinChangeResultChanged},
		{&handoff.Error{Code: handoff.CodePINBlocked}, 3, api.PinChangeResultPinBlocked},
		{fmt.Errorf("read PIN: %w", io.ErrUnexpectedEOF), 1, api.PinChangeResultWrongPin},
		{fmt.Errorf("read PIN: %w", io.ErrUnexpectedEOF), 0, api.PinChangeResultCancelled},
		{errors.New("change PIN on the card: transmit: reader gone"), 0, api.PinChangeResultCardError},
	}
	for _, tt := range tests {
		if got := pinChangeResult(tt.err, tt.wrong); got != tt.want {
			t.Errorf("pinChangeResult(%v, %d) = %s, want %s", tt.err, tt.wrong, got, tt.want)
		}
	}
}

// TestReaders: --readers gives the slots scripts/desktop-setup.sh writes for
// VSCARD_READERS, the first two the agent's defaults.
func TestReaders(t *testing.T) {
	g := globals{Readers: 3}
	slots, err := g.slots()
	if err != nil {
		t.Fatal(err)
	}
	want := []agent.Slot{
		{Addr: "127.0.0.1:35963", Reader: "Virtual PCD 00 00"},
		{Addr: "127.0.0.1:35964", Reader: "Virtual PCD 00 01"},
		{Addr: "127.0.0.1:35965", Reader: "vscard 1 00 00"},
	}
	if !slices.Equal(slots, want) || !slices.Equal(slots[:2], agent.DefaultSlots) {
		t.Errorf("slots = %v, want %v", slots, want)
	}
	if _, err := (&globals{Readers: 17}).slots(); err == nil {
		t.Error("17 readers accepted; pcscd serves 16")
	}
}
