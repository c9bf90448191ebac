package pcsctest

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/vpcd"
)

// TestDesktopSetup runs scripts/desktop-setup.sh, the reader setup of
// `make run`, into a private reader.conf directory, starts pcscd on what it
// wrote, inserts a card into every reader it names through vpcd.Pool, as the
// Desktop App does, and then reads the socket table: neither pcscd nor the
// card process listens beyond loopback, and nothing on the machine listens
// on the readers' ports beyond loopback.
func TestDesktopSetup(t *testing.T) {
	script, err := filepath.Abs("../../scripts/desktop-setup.sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkDriver(vpcdDriver(), os.Getenv("VSCARD_VPCD_DRIVER") != ""); err != nil {
		t.Fatal(err)
	}
	// setup runs the script with a stand-in bridge that records its
	// arguments, and returns them.
	setup := func(t *testing.T, readers string, env ...string) (confDir string, args []string, out string, err error) {
		dir := t.TempDir()
		confDir, driverDir := filepath.Join(dir, "reader.conf.d"), filepath.Join(dir, "lib")
		for _, d := range []string{confDir, driverDir} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := copyFile(vpcdDriver(), filepath.Join(driverDir, "libifdvpcd.so")); err != nil {
			t.Fatal(err)
		}
		bridge := filepath.Join(dir, "bridge")
		if err := os.WriteFile(bridge, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" >\""+dir+"/args\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", script, bridge)
		cmd.Env = append(os.Environ(), "VSCARD_READER_CONF_DIR="+confDir, "VSCARD_DRIVER_DIR="+driverDir,
			"VSCARD_SKIP_PCSCD=1", "VSCARD_READERS="+readers)
		cmd.Env = append(cmd.Env, env...)
		b, err := cmd.CombinedOutput()
		a, _ := os.ReadFile(filepath.Join(dir, "args"))
		return confDir, strings.Split(strings.TrimSuffix(string(a), "\n"), "\n"), string(b), err
	}

	t.Run("ok/three readers with a card each listen on loopback only", func(t *testing.T) {
		base, err := reservePorts(t, 4)
		if err != nil {
			t.Fatal(err)
		}
		confDir, args, out, err := setup(t, "3", fmt.Sprintf("VSCARD_VPCD_PORT=%d", base))
		if err != nil {
			t.Fatalf("desktop-setup: %v\n%s", err, out)
		}
		if len(args) != 3 || args[0] != "--vpcd" || args[2] != "install" {
			t.Fatalf("bridge called with %q", args)
		}
		conf, err := os.ReadFile(filepath.Join(confDir, "vscard"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(conf), "/dev/null") || strings.Count(string(conf), "DEVICENAME   127.0.0.1:") != 2 {
			t.Errorf("reader.conf not in reversed mode:\n%s", conf)
		}

		e := newEnv(t)
		e.confDir = confDir
		var addrs []string
		for _, slot := range strings.Split(args[1], ";") {
			addr, name, ok := strings.Cut(slot, "=")
			if !ok {
				t.Fatalf("--vpcd %q", args[1])
			}
			e.Readers = append(e.Readers, Reader{Name: name, Addr: addr})
			addrs = append(addrs, addr)
		}
		if len(e.Readers) != 4 || e.Readers[0].Name != "Virtual PCD 00 00" || e.Readers[2].Name != "vscard 1 00 00" {
			t.Fatalf("readers %v", e.Readers)
		}
		if err := e.start(); err != nil {
			t.Fatal(err)
		}

		pool := vpcd.NewPool(addrs, vpcd.Options{Logger: slog.New(slog.DiscardHandler)})
		t.Cleanup(pool.Close)
		serials := []uint32{4001, 4002, 4003, 4004}
		for _, c := range testCards(t, serials...) {
			if _, err := pool.Attach(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			err := pool.Attachment(c).WaitReady(ctx)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
		}
		readers, err := piv.Cards()
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range e.Readers {
			if !slices.Contains(readers, r.Name) {
				t.Errorf("reader %q not in %q", r.Name, readers)
				continue
			}
			e.assertSerial(t, i, serials[i])
		}

		if socks, err := ListeningTCP(e.PID()); err != nil || len(socks) != 0 {
			t.Errorf("pcscd listens on %v %v", socks, err)
		}
		mine, err := ListeningTCP(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		all, err := AllListeningTCP()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range e.Readers {
			want := netip.MustParseAddrPort(r.Addr)
			if !containsAddrPort(mine, want) {
				t.Errorf("the card in %s does not listen on %v: %v", r.Name, want, mine)
			}
			for _, s := range all {
				if s.Port() == want.Port() && !s.Addr().IsLoopback() {
					t.Errorf("%v listens on the port of %s", s, r.Name)
				}
			}
		}
		for _, s := range mine {
			if !s.Addr().IsLoopback() {
				t.Errorf("the card process listens on %v", s)
			}
		}
	})

	t.Run("error/no driver built", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command("bash", script, "/bin/true")
		cmd.Env = append(os.Environ(), "VSCARD_READER_CONF_DIR="+dir, "VSCARD_DRIVER_DIR="+dir, "VSCARD_SKIP_PCSCD=1")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "build-vpcd.sh") {
			t.Errorf("without a driver: %v\n%s", err, out)
		}
	})
	t.Run("error/readers out of range", func(t *testing.T) {
		for _, n := range []string{"0", "17", "x"} {
			if _, _, out, err := setup(t, n); err == nil || !strings.Contains(out, "VSCARD_READERS") {
				t.Errorf("VSCARD_READERS=%s: %v\n%s", n, err, out)
			}
		}
	})
}
