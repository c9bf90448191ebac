package main

import (
	"bufio"
	"strings"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/handoff"
)

// TestReadPIN checks that --pin-stdin reads one line per PIN the prompt's mode asks for.
func TestReadPIN(t *testing.T) {
	tests := []struct {
		name  string
		mode  handoff.PINMode
		input string
		want  handoff.PINAnswer
		err   bool
	}{
		{"ok/choose", handoff.PINChoose, "482915\n", handoff.PINAnswer{New: "482915"}, false},
		{"ok/unblock", handoff.PINUnblock, "482915\r\n", handoff.PINAnswer{New: "482915"}, false},
		{"ok/change reads current, then new", handoff.PINChange, "111111\n482915\n", handoff.PINAnswer{Current: "111111", New: "482915"}, false},
		{"error/change without the new PIN", handoff.PINChange, "111111\n", handoff.PINAnswer{}, true},
		{"error/nothing", handoff.PINChoose, "", handoff.PINAnswer{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readPIN(bufio.NewScanner(strings.NewReader(tt.input)), &handoff.PINRequest{Mode: tt.mode}, "en")
			if (err != nil) != tt.err || (!tt.err && got != tt.want) {
				t.Fatalf("readPIN = %+v, %v; want %+v (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}
