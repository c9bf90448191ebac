package pcsctest

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/vpcd"
)

// TestReversedModeAbortsPcscd records why the harness, and vscard, use
// vpcd's server mode although its sockets listen on every interface: with
// the driver of Debian bookworm (package vsmartcard-vpcd 3.3, which ships
// virtualsmartcard 0.8: libifdvpcd.so.0.8), reversed mode works while the
// connections stay up but aborts pcscd as soon as one is down. If this test
// fails because pcscd survives, the driver has been fixed (upstream commit
// 76543ea, June 2022, first released in virtualsmartcard 0.9) and reversed
// mode can be reconsidered.
//
// The cause, read from the 0.8 source and the installed driver's disassembly:
// vicc_connect tests `if (ctx->server_sock)` to choose server mode, but
// reversed mode leaves server_sock at INVALID_SOCKET (-1), which is true, so
// a reconnect calls waitforclient(-1), whose FD_SET(-1) is caught by
// _FORTIFY_SOURCE ("bit out of range 0 - FD_SETSIZE on fd_set") and aborts.
// A slot's connection is down when the card process was not listening when
// pcscd started, when it closed the connection (the only way to remove a
// card) or after any transmit error.
func TestReversedModeAbortsPcscd(t *testing.T) {
	t.Run("ok/cards present while connected, nothing listens", func(t *testing.T) {
		e, conns := startReversed(t, true)
		c0 := <-conns[0]
		<-conns[1]
		e.WaitCard(t, 0, true)
		e.WaitCard(t, 1, true)
		socks, err := ListeningTCP(e.PID())
		if err != nil {
			t.Fatal(err)
		}
		if len(socks) != 0 {
			t.Errorf("pcscd listens on %v in reversed mode", socks)
		}

		c0.Close() // remove the card in slot 0
		if rc := waitExit(t, e); !strings.Contains(rc, "aborted") {
			t.Fatalf("pcscd after a card was removed: %s", rc)
		}
		if log := e.logSince(0); !strings.Contains(log, "FD_SETSIZE") {
			t.Errorf("pcscd log does not show the fd_set check:\n%s", log)
		}
	})
	t.Run("error/card process not listening when pcscd starts", func(t *testing.T) {
		e, _ := startReversed(t, false)
		if rc := waitExit(t, e); !strings.Contains(rc, "aborted") {
			t.Fatalf("pcscd without a card process: %s", rc)
		}
	})
}

// startReversed starts pcscd with one reversed-mode vpcd entry whose two
// slots connect to loopback listeners, each answered by acceptCard; with
// listen false, nothing listens.
func startReversed(t *testing.T, listen bool) (*Env, []chan net.Conn) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("pcsctest: pcscd needs root")
	}
	e := newEnv(t)
	port, err := freePortPair()
	if err != nil {
		t.Fatal(err)
	}
	var conns []chan net.Conn
	if listen { // before pcscd starts: its driver connects while it starts
		for slot := range 2 {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+slot))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			conns = append(conns, acceptCard(t, ln))
		}
	}
	name := fmt.Sprintf("vscard reversed %d", os.Getpid())
	conf := fmt.Sprintf("FRIENDLYNAME \"%s\"\nDEVICENAME 127.0.0.1:0x%X\nLIBPATH %s\nCHANNELID 0x%X\n",
		name, port, vpcdDriver, port)
	if err := os.MkdirAll(e.confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.confDir, "vpcd"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	for slot := range 2 {
		e.Readers = append(e.Readers, Reader{Name: fmt.Sprintf("%s 00 %02d", name, slot)})
	}
	if err := e.start(); err != nil && !strings.Contains(err.Error(), "exited early") {
		t.Fatal(err)
	}
	return e, conns
}

// acceptCard accepts the driver's connection on ln and answers it as a card
// that offers DefaultATR and answers every APDU with 6D00.
func acceptCard(t *testing.T, ln net.Listener) chan net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(ch)
			return
		}
		t.Cleanup(func() { c.Close() })
		ch <- c
		var hdr [2]byte
		for {
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
			if _, err := io.ReadFull(c, msg); err != nil {
				return
			}
			var reply []byte
			switch {
			case len(msg) == 1 && msg[0] == 0x04:
				reply = vpcd.DefaultATR
			case len(msg) > 1:
				reply = []byte{0x6D, 0x00}
			default:
				continue
			}
			if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(reply))), reply...)); err != nil {
				return
			}
		}
	}()
	return ch
}

// waitExit waits for pcscd to end by itself and describes how it ended.
func waitExit(t *testing.T, e *Env) string {
	t.Helper()
	if e.cmd == nil {
		t.Fatal("pcscd not started")
	}
	select {
	case <-e.exited:
	case <-time.After(10 * time.Second):
		return "still running after 10s"
	}
	ps := e.cmd.ProcessState
	e.cmd = nil
	if ws := ps.Sys().(syscall.WaitStatus); ws.Signaled() && ws.Signal() == syscall.SIGABRT {
		return "aborted"
	}
	return ps.String()
}
