package server_test

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/enroll"
)

// TestMain lets the crash and shutdown tests run this test binary as a server process,
// which they kill -9 or stop with SIGTERM.
func TestMain(m *testing.M) {
	if os.Getenv("VSCARD_CRASH_CHILD") == "" {
		os.Exit(m.Run())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg := server.Config{
		Addr:          os.Getenv("VSCARD_ADDR"),
		PublicURL:     os.Getenv("VSCARD_PUBLIC_URL"),
		DataDir:       os.Getenv("VSCARD_DATA_DIR"),
		DatabaseURL:   os.Getenv("VSCARD_DATABASE_URL"),
		OrderIdleTTL:  3 * time.Second,
		SweepInterval: 500 * time.Millisecond,
		Limits:        enroll.Limits{ClaimsPerMinute: 6000, ClaimBurst: 1000, StartsPerMinute: 6000, StartBurst: 1000},
	}
	cfg.ShutdownDelay, _ = time.ParseDuration(os.Getenv("VSCARD_SHUTDOWN_DELAY"))
	cfg.MetricsAddr = os.Getenv("VSCARD_METRICS_ADDR")
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		slog.Error("crash child", "err", err)
		os.Exit(3)
	}
	if err := srv.Run(ctx); err != nil {
		slog.Error("crash child", "err", err)
		os.Exit(4)
	}
	os.Exit(0)
}
