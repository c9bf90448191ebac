// Command vscard-bridge is vscard's Desktop App: it creates virtual PIV smart cards for
// the Self-Service portal's "Open Desktop App" links and hosts them on pcscd, so every
// PC/SC program on the desktop can use them.
//
//	vscard-bridge install            register the vscard:// link handler
//	vscard-bridge serve              run the agent (hosts the cards; see package agent)
//	vscard-bridge open <vscard://…>  hand a link to the agent, starting it if needed
//	vscard-bridge cards              list the virtual cards
//	vscard-bridge delete <serial>    remove a virtual card
//	vscard-bridge pin change <serial> change a card's PIN without the portal
//	vscard-bridge pin unblock --offline <serial>
//	                                 unblock a blocked PIN with a challenge and the
//	                                 portal's response, without reaching the server
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/vscard/vscard/desktop-bridge/agent"
	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/vpcd"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise the
// module version from the build info.
var version = ""

type cli struct {
	globals

	Serve   serveCmd   `cmd:"" help:"Run the agent: host the virtual cards and accept enrolments."`
	Open    openCmd    `cmd:"" help:"Handle a vscard:// link: hand it to the agent and show where to type the PIN."`
	Install installCmd `cmd:"" help:"Register vscard-bridge as the desktop's handler of vscard:// links."`
	Cards   cardsCmd   `cmd:"" help:"List the virtual cards."`
	Delete  deleteCmd  `cmd:"" help:"Remove a virtual card (from its reader, then from disk)."`
	PIN     pinCmd     `cmd:"" name:"pin" help:"Manage a card's PIN without the portal."`
	Version versionCmd `cmd:"" help:"Print the version."`
}

// globals are the flags every command shares; open passes them on to the agent it
// starts.
type globals struct {
	DataDir   string   `env:"VSCARD_BRIDGE_DATA_DIR" placeholder:"DIR" help:"Cards and their key (default $XDG_DATA_HOME/vscard)."`
	Config    string   `env:"VSCARD_BRIDGE_CONFIG" placeholder:"FILE" help:"Configuration with the trusted servers (default $XDG_CONFIG_HOME/vscard/bridge.yaml)."`
	Socket    string   `env:"VSCARD_BRIDGE_SOCKET" placeholder:"PATH" help:"The agent's control socket (default $XDG_RUNTIME_DIR/vscard/bridge.sock)."`
	VPCD      []string `name:"vpcd" env:"VSCARD_BRIDGE_VPCD" placeholder:"ADDR=READER" help:"vpcd reader slots, host:port=reader name (default 127.0.0.1:35963=Virtual PCD 00 00 and 127.0.0.1:35964=Virtual PCD 00 01)." sep:";"`
	Readers   int      `env:"VSCARD_READERS" placeholder:"N" help:"How many virtual readers scripts/desktop-setup.sh set up (VSCARD_READERS there), when --vpcd does not list them: one card each."`
	TPM       bool     `name:"tpm" env:"VSCARD_BRIDGE_TPM" help:"Keep new cards' keys, PIN and PUK in the computer's TPM 2.0 (needs access to --tpm-device: on Linux, membership of the group tss)."`
	TPMDevice string   `name:"tpm-device" env:"VSCARD_BRIDGE_TPM_DEVICE" default:"/dev/tpmrm0" placeholder:"PATH" help:"The TPM's resource manager device, or a Unix socket speaking raw TPM 2.0 commands (swtpm --server type=unixio)."`
	LogLevel  string   `env:"VSCARD_BRIDGE_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level."`
}

func (g *globals) dataDir() (string, error) {
	if g.DataDir != "" {
		return g.DataDir, nil
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find data directory: %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "vscard"), nil
}

func (g *globals) configPath() (string, error) {
	if g.Config != "" {
		return g.Config, nil
	}
	return handoff.DefaultConfigPath()
}

func (g *globals) socket() string {
	if g.Socket != "" {
		return g.Socket
	}
	return agent.DefaultSocket()
}

func (g *globals) slots() ([]agent.Slot, error) {
	if len(g.VPCD) == 0 && g.Readers != 0 {
		return agent.ReaderSlots(g.Readers, agent.DefaultBasePort)
	}
	var out []agent.Slot
	for _, s := range g.VPCD {
		addr, reader, ok := strings.Cut(s, "=")
		if !ok || addr == "" || reader == "" {
			return nil, fmt.Errorf("parse --vpcd %q: want host:port=reader name", s)
		}
		if err := vpcd.CheckSlotAddr(addr); err != nil { // the card would listen there
			return nil, fmt.Errorf("parse --vpcd %q: want 127.0.0.1:port=reader name: %w", s, err)
		}
		out = append(out, agent.Slot{Addr: addr, Reader: reader})
	}
	return out, nil
}

// args returns the global flags as arguments, for the agent that open starts.
func (g *globals) args() []string {
	var a []string
	add := func(name, v string) {
		if v != "" {
			a = append(a, "--"+name+"="+v)
		}
	}
	add("data-dir", g.DataDir)
	add("config", g.Config)
	add("socket", g.Socket)
	if len(g.VPCD) > 0 {
		add("vpcd", strings.Join(g.VPCD, ";"))
	}
	if g.Readers != 0 {
		add("readers", strconv.Itoa(g.Readers))
	}
	if g.TPM {
		a = append(a, "--tpm")
		if g.TPMDevice != "/dev/tpmrm0" {
			add("tpm-device", g.TPMDevice)
		}
	}
	if g.LogLevel != "info" {
		add("log-level", g.LogLevel)
	}
	return a
}

type versionCmd struct{}

func (versionCmd) Run() error {
	fmt.Println(bridgeVersion())
	return nil
}

func bridgeVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

func main() {
	var c cli
	k := kong.Parse(&c,
		kong.Name("vscard-bridge"),
		kong.Description("vscard Desktop App: virtual PIV smart cards for the vscard Self-Service portal."),
		kong.UsageOnError(),
	)
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(c.LogLevel))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	k.BindTo(ctx, (*context.Context)(nil))
	k.Bind(log, &c.globals)
	if err := k.Run(); err != nil {
		// A person reads the words of the error's code (handoff.DescribeIn), once: an
		// error the command has shown already is not printed again. The chain behind it
		// is for the log (--log-level debug).
		log.Debug("command failed", "err", err, "cause", errors.Unwrap(err))
		if !errors.Is(err, errShown) {
			fmt.Fprintln(os.Stderr, "vscard-bridge:", handoff.DescribeIn(lang(), err))
		}
		os.Exit(1)
	}
}

// errShown ends a command whose failure it has told the person already: the exit status
// says it failed, the words are not printed twice.
var errShown = errors.New("shown to the person")

// lang is the language of the words a person reads, from the locale environment
// (LC_ALL, LC_MESSAGES, LANG): English or German.
func lang() string { return handoff.LangFromEnv(os.Getenv) }
