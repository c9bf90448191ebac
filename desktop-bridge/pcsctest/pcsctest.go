// Package pcsctest runs a private pcscd with vpcd reader slots for tests, so
// that software cards (desktop-bridge/vcard attached with desktop-bridge/vpcd)
// can be used through real PC/SC by piv-go, OpenSC and yubico-piv-tool.
//
// # Isolation, and what was found about pcsc-lite 1.9.9
//
// pcsc-lite has one daemon socket per machine, /run/pcscd/pcscd.comm. In
// 1.9.9 (Debian bookworm) the client library, libpcsclite, honours the
// environment variable PCSCLITE_CSOCK_NAME, but the daemon does not: its
// socket path is compiled in (checked with strings(1) on both binaries and by
// starting pcscd with the variable set: the socket still appears under
// /run/pcscd). The daemon does support systemd socket activation
// (LISTEN_PID/LISTEN_FDS, "Started by systemd" in its log) and then serves
// whatever listening socket it inherits as fd 3, wherever it lives.
//
// So Start binds a Unix socket in a private temporary directory, passes it to
// `pcscd --foreground --config <dir>` as fd 3 with LISTEN_FDS=1 and
// LISTEN_PID set to pcscd's own pid (a /bin/sh wrapper sets it to $$ before
// exec), and points PCSCLITE_CSOCK_NAME at it. Each test binary gets its own
// daemon, its own reader.conf with unique reader names, and free TCP ports
// for the vpcd slots, so `go test` can run packages in parallel without a
// machine-wide lock, and a system pcscd, if any, is left alone. The one
// thing the daemons still share is /run/pcscd/pcscd.pid, which each
// overwrites and removes on exit; nothing here reads it.
//
// libpcsclite reads PCSCLITE_CSOCK_NAME once per process, on its first use,
// and caches it. Start therefore sets it with os.Setenv and keeps the same
// socket path for the life of the test binary; every Env of a process reuses
// it, so Envs are serialised within a process (a second Start waits until
// the first Env is cleaned up). Call Start before any other PC/SC use in the
// test binary.
//
// pcscd must run as root here (it writes /run/pcscd/pcscd.pid). A missing
// pcscd or vpcd driver fails the test rather than skipping it: CI runs as
// root with the packages installed, and a silent skip would hide a broken
// setup.
//
// vpcd's driver gives every reader.conf entry two slots, on CHANNELID and
// CHANNELID+1, named "<FRIENDLYNAME> 00 00" and "<FRIENDLYNAME> 00 01"; Start
// writes one entry per two readers. The driver keeps its slots in one static
// array indexed by slot number alone, and pcscd loads a LIBPATH once for all
// the entries naming it, so a second entry with the same LIBPATH takes over
// the first entry's slots: both readers are then served over the second
// entry's ports. Every entry after the first therefore names its own copy
// of the driver (a copy, not a link: the dynamic loader shares one instance
// between paths to the same file).
//
// The entries use vpcd's reversed mode, as vscard does (DEVICENAME
// 127.0.0.1:<port>: the driver connects to the card process, which listens
// on loopback; pcscd listens on nothing). That needs the driver built by
// scripts/build-vpcd.sh (make deps-test): Debian bookworm's aborts pcscd
// whenever a slot's connection is down (see TestReversedMode). Start refuses
// the packaged driver. VSCARD_VPCD_DRIVER names another driver file, to try
// one.
package pcsctest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/vpcd"
)

// SocketEnv is the environment variable libpcsclite reads the daemon socket
// path from.
const SocketEnv = "PCSCLITE_CSOCK_NAME"

// Paths of the system parts the harness needs: pcscd from Debian, the vpcd
// driver from scripts/build-vpcd.sh, and the driver of Debian's
// vsmartcard-vpcd, which must not be used.
const (
	pcscdPath         = "/usr/sbin/pcscd"
	builtVpcdDriver   = "/usr/local/lib/vscard/libifdvpcd.so"
	packageVpcdDriver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
)

// vpcdDriver returns the driver file the harness uses.
func vpcdDriver() string {
	if p := os.Getenv("VSCARD_VPCD_DRIVER"); p != "" {
		return p
	}
	return builtVpcdDriver
}

// checkDriver refuses a missing driver, and Debian's unless it is tried on
// purpose (VSCARD_VPCD_DRIVER set).
func checkDriver(drv string, onPurpose bool) error {
	b, err := os.ReadFile(drv)
	if err != nil {
		return fmt.Errorf("vpcd driver: %w (run scripts/build-vpcd.sh, or make deps-test)", err)
	}
	if !onPurpose {
		if stock, err := os.ReadFile(packageVpcdDriver); err == nil && bytes.Equal(b, stock) {
			return fmt.Errorf("vpcd driver %s is Debian's, which aborts pcscd in reversed mode (run scripts/build-vpcd.sh)", drv)
		}
	}
	return nil
}

// Reader is one vpcd reader slot of an Env.
type Reader struct {
	// Name is the PC/SC reader name, for piv.Open and the tools' -r options.
	Name string
	// Addr is the loopback host:port the reader's card listens on for the
	// driver (vpcd.Attach).
	Addr string
}

// Env is a running private pcscd.
type Env struct {
	// Dir holds the reader configuration and the daemon log.
	Dir string
	// Socket is the daemon's socket path.
	Socket string
	// Readers are the vpcd reader slots.
	Readers []Reader

	t       testing.TB
	confDir string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

var (
	// envMu serialises Envs within a process, see the package doc.
	envMu      sync.Mutex
	socketOnce sync.Once
	socketDir  string
	socketErr  error
)

// processSocket returns the daemon socket path of this process, creating
// its directory once. Unix socket paths are short (108 bytes), so it lives
// directly under the temporary directory, not under t.TempDir().
func processSocket() (string, error) {
	socketOnce.Do(func() {
		socketDir, socketErr = os.MkdirTemp("", "vscard-pcsc-")
		if socketErr == nil {
			socketErr = os.Setenv(SocketEnv, filepath.Join(socketDir, "pcscd.comm"))
		}
	})
	if socketErr != nil {
		return "", fmt.Errorf("create socket directory: %w", socketErr)
	}
	return filepath.Join(socketDir, "pcscd.comm"), nil
}

// Start starts a private pcscd with nReaders vpcd reader slots and stops it
// when the test ends.
func Start(t testing.TB, nReaders int) *Env {
	t.Helper()
	if nReaders < 1 {
		t.Fatalf("pcsctest: need at least one reader, got %d", nReaders)
	}
	if _, err := os.Stat(pcscdPath); err != nil {
		t.Fatalf("pcsctest: %v (install pcscd)", err)
	}
	if err := checkDriver(vpcdDriver(), os.Getenv("VSCARD_VPCD_DRIVER") != ""); err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Fatalf("pcsctest: pcscd needs root (it writes /run/pcscd/pcscd.pid)")
	}
	e := newEnv(t)
	if err := e.writeConfig(nReaders); err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	if err := e.start(); err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	return e
}

// newEnv takes the process's daemon socket for the test and prepares the
// Env's directories; pcscd is started by the caller.
func newEnv(t testing.TB) *Env {
	t.Helper()
	sock, err := processSocket()
	if err != nil {
		t.Fatalf("pcsctest: %v", err)
	}

	envMu.Lock()
	e := &Env{t: t, Dir: t.TempDir(), Socket: sock}
	e.confDir = filepath.Join(e.Dir, "reader.conf.d")
	e.logPath = filepath.Join(e.Dir, "pcscd.log")
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			if b, err := os.ReadFile(e.logPath); err == nil {
				t.Logf("pcscd log:\n%s", b)
			}
		}
		os.Remove(sock)
		envMu.Unlock()
	})
	return e
}

// writeConfig writes the reader.conf with one reversed-mode vpcd entry per
// two readers, on free loopback port pairs.
func (e *Env) writeConfig(n int) error {
	if err := os.MkdirAll(e.confDir, 0o755); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	var conf strings.Builder
	for i := 0; i < (n+1)/2; i++ {
		port, err := reservePorts(e.t, 2)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("vscard test %d-%d", os.Getpid(), i)
		lib, err := e.driverFor(i)
		if err != nil {
			return err
		}
		fmt.Fprintf(&conf, "FRIENDLYNAME \"%s\"\nDEVICENAME 127.0.0.1:0x%X\nLIBPATH %s\nCHANNELID 0x%X\n\n",
			name, port, lib, port)
		for slot := 0; slot < 2 && len(e.Readers) < n; slot++ {
			e.Readers = append(e.Readers, Reader{
				Name: fmt.Sprintf("%s 00 %02d", name, slot),
				Addr: fmt.Sprintf("127.0.0.1:%d", port+slot),
			})
		}
	}
	if err := os.WriteFile(filepath.Join(e.confDir, "vpcd"), []byte(conf.String()), 0o644); err != nil {
		return fmt.Errorf("write reader.conf: %w", err)
	}
	return nil
}

// driverFor returns the driver path for reader.conf entry i: the installed
// one for the first, a private copy for every other (see the package doc).
func (e *Env) driverFor(i int) (string, error) {
	if i == 0 {
		return vpcdDriver(), nil
	}
	lib := filepath.Join(e.Dir, fmt.Sprintf("libifdvpcd-%d.so", i))
	if err := copyFile(vpcdDriver(), lib); err != nil {
		return "", fmt.Errorf("copy vpcd driver: %w", err)
	}
	return lib, nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// reservePorts finds a port p such that p to p+n-1 are free on 127.0.0.1,
// where the cards listen for the driver, and reserves them until the test
// ends. Nothing holds a reader's port until a card is inserted (a stand-in
// listener would take the driver's connection and leave it waiting), so
// test binaries running at the same time would otherwise pick the same free
// ports, and one pcscd would talk to the other's cards: each port is
// reserved with a lock file, which the kernel releases with the process.
func reservePorts(t testing.TB, n int) (int, error) {
	dir := filepath.Join(os.TempDir(), "vscard-pcsctest-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, fmt.Errorf("reserve ports: %w", err)
	}
next:
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("reserve ports: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p+n-1 > 0xFFFF {
			continue
		}
		var locks []*os.File
		release := func() {
			for _, f := range locks {
				f.Close()
			}
		}
		for i := range n {
			f, err := lockPort(dir, p+i)
			if err != nil {
				release()
				continue next
			}
			locks = append(locks, f)
			if i > 0 { // p itself was free a moment ago
				li, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p+i))
				if err != nil {
					release()
					continue next
				}
				li.Close()
			}
		}
		t.Cleanup(release)
		return p, nil
	}
	return 0, fmt.Errorf("reserve ports: no %d free in a row", n)
}

// lockPort takes the lock file of port p, or fails if another process
// holds it.
func lockPort(dir string, p int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%d.lock", p)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// start binds the socket and starts pcscd on it (socket activation).
func (e *Env) start() error {
	os.Remove(e.Socket)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: e.Socket, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listen on %s: %w", e.Socket, err)
	}
	ln.SetUnlinkOnClose(false)
	f, err := ln.File()
	ln.Close()
	if err != nil {
		return fmt.Errorf("listen on %s: %w", e.Socket, err)
	}
	defer f.Close()
	if err := os.Chmod(e.Socket, 0o666); err != nil {
		return fmt.Errorf("chmod socket: %w", err)
	}
	logf, err := os.OpenFile(e.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open pcscd log: %w", err)
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, 2)

	// sd_listen_fds() checks LISTEN_PID against getpid(); exec keeps the
	// shell's pid, so $$ is pcscd's pid.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$; LISTEN_FDS=1; export LISTEN_PID LISTEN_FDS; exec "$0" "$@"`,
		pcscdPath, "--foreground", "--info", "--config", e.confDir)
	cmd.ExtraFiles = []*os.File{f} // fd 3
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = withoutEnv(os.Environ(), "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start pcscd: %w", err)
	}
	e.cmd = cmd
	e.exited = make(chan struct{})
	go func() { cmd.Wait(); close(e.exited) }()

	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-e.exited:
			return fmt.Errorf("pcscd exited early: %s", e.logSince(offset))
		case <-time.After(20 * time.Millisecond):
		}
		log := e.logSince(offset)
		if strings.Contains(log, "daemon ready") {
			if !strings.Contains(log, "Started by systemd") {
				e.stop()
				return fmt.Errorf("pcscd did not take the passed socket:\n%s", log)
			}
			return nil
		}
	}
	e.stop()
	return fmt.Errorf("pcscd not ready after 15s:\n%s", e.logSince(offset))
}

func (e *Env) logSince(offset int64) string {
	f, err := os.Open(e.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	f.Seek(offset, 0)
	var b strings.Builder
	s := bufio.NewScanner(f)
	for s.Scan() {
		b.WriteString(s.Text())
		b.WriteByte('\n')
	}
	return b.String()
}

// stop ends pcscd: SIGTERM, then SIGKILL after 5 seconds.
func (e *Env) stop() {
	if e.cmd == nil {
		return
	}
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(5 * time.Second):
		e.cmd.Process.Kill()
		<-e.exited
	}
	e.cmd = nil
}

// Restart stops pcscd and starts it again with the same socket, readers and
// ports, as when the service restarts under a running bridge.
func (e *Env) Restart(t testing.TB) {
	t.Helper()
	e.stop()
	if err := e.start(); err != nil {
		t.Fatalf("pcsctest: restart: %v", err)
	}
}

// PID returns the process id of the running pcscd, or 0.
func (e *Env) PID() int {
	if e.cmd == nil {
		return 0
	}
	return e.cmd.Process.Pid
}

// Stop stops pcscd before the test ends, to test clients that lose it.
func (e *Env) Stop() { e.stop() }

// Environ returns the process environment with the Env's socket variable,
// for commands run against the Env.
func (e *Env) Environ() []string {
	return append(withoutEnv(os.Environ(), SocketEnv), SocketEnv+"="+e.Socket)
}

// Command returns a command that talks to the Env's pcscd.
func (e *Env) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = e.Environ()
	return cmd
}

// Run runs a command (yubico-piv-tool, pkcs11-tool, ...) against the Env
// with a one-minute timeout and returns its combined output. It fails the
// test if the command is missing; a non-zero exit is returned as error.
func (e *Env) Run(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := e.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("run %s: %w", name, err)
	}
	return string(out), nil
}

// Insert attaches card to reader i and waits until pcscd has powered it on.
// The card is removed when the test ends.
func (e *Env) Insert(t testing.TB, i int, card vpcd.Card) *vpcd.Attachment {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := vpcd.Attach(context.Background(), e.Readers[i].Addr, card, vpcd.Options{Logger: log})
	t.Cleanup(a.Detach)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.WaitReady(ctx); err != nil {
		t.Fatalf("pcsctest: insert card into %s: %v", e.Readers[i].Name, err)
	}
	return a
}

// OpenPIV opens the card in reader i with piv-go, retrying while pcscd
// finishes noticing it, and closes it when the test ends.
func (e *Env) OpenPIV(t testing.TB, i int) *piv.YubiKey {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var yk *piv.YubiKey
		if yk, err = piv.Open(e.Readers[i].Name); err == nil {
			t.Cleanup(func() { yk.Close() })
			return yk
		}
	}
	t.Fatalf("pcsctest: open %s: %v", e.Readers[i].Name, err)
	return nil
}

// WaitCard waits until pcscd reports reader i with (present) or without a
// card; it reads the state with opensc-tool, which, unlike piv.Open, leaves
// nothing behind when the card vanishes mid-connect.
func (e *Env) WaitCard(t testing.TB, i int, present bool) {
	t.Helper()
	want := "No"
	if present {
		want = "Yes"
	}
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, _ = e.Run(t, "opensc-tool", "--list-readers")
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && strings.HasSuffix(line, e.Readers[i].Name) && f[1] == want {
				return
			}
		}
	}
	t.Fatalf("pcsctest: reader %s: card present=%v not reported:\n%s", e.Readers[i].Name, present, out)
}

func withoutEnv(env []string, names ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
