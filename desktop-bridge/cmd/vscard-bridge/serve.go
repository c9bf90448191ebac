package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/vscard/vscard/desktop-bridge/agent"
	"github.com/vscard/vscard/desktop-bridge/handoff"
)

type serveCmd struct {
	PINPageAddr string `placeholder:"HOST:PORT" default:"127.0.0.1:0" help:"Where PIN pages listen (loopback only; port 0 picks a free one)."`
}

func (s *serveCmd) Run(ctx context.Context, g *globals, log *slog.Logger) error {
	dataDir, err := g.dataDir()
	if err != nil {
		return err
	}
	cfgPath, err := g.configPath()
	if err != nil {
		return err
	}
	slots, err := g.slots()
	if err != nil {
		return err
	}
	a, err := agent.New(agent.Config{
		DataDir: dataDir, Trust: handoff.NewTrustFile(cfgPath), Slots: slots,
		Version: bridgeVersion(), PINPageAddr: s.PINPageAddr, Logger: log, TPM: g.tpmPath(),
	})
	var coded *handoff.Error
	if errors.As(err, &coded) {
		log.Error("cannot start the agent", "code", coded.Code, "detail", coded.Detail)
		return errors.New(handoff.Words(lang(), coded.Code))
	}
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := agent.Listen(g.socket())
	if err != nil {
		return err
	}
	if err := a.Start(); err != nil {
		return err
	}
	log.Info("vscard bridge agent running", "socket", g.socket(), "data", dataDir, "config", cfgPath, "slots", fmt.Sprint(a.Slots()))
	return a.Serve(ctx, ln)
}

// tpmPath is the TPM device for new cards, "" for software cards.
func (g *globals) tpmPath() string {
	if !g.TPM {
		return ""
	}
	return g.TPMDevice
}
