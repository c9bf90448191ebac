package agent

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
)

// startAgent starts an agent on cfg as `vscard-bridge serve` does, with what every test
// here leaves out: the trust file in the data folder and a log that says nothing. It fails
// the test when the agent does not start; closing it is the caller's.
func startAgent(t *testing.T, cfg Config) *Agent {
	t.Helper()
	if cfg.Trust == nil {
		cfg.Trust = handoff.NewTrustFile(filepath.Join(cfg.DataDir, "bridge.yaml"))
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLog()
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	return a
}

// slotsOf returns the first n readers of env as the agent's slots.
func slotsOf(env *pcsctest.Env, n int) []Slot {
	slots := make([]Slot, n)
	for i := range n {
		slots[i] = Slot{Addr: env.Readers[i].Addr, Reader: env.Readers[i].Name}
	}
	return slots
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
