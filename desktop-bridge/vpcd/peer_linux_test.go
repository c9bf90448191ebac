package vpcd

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOtherUserRefused connects to an attached card as user nobody, asks for
// the ATR and counts the bytes that come back: none, while a connection of
// this process's user is served.
func TestOtherUserRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to connect as another user")
	}
	addr := freeAddr(t)
	a := Attach(context.Background(), addr, &recordingCard{}, Options{Logger: quiet()})
	defer a.Detach()
	d := connect(t, addr) // wait until it listens; ours is served
	d.send(ctlGetATR)
	d.recv()
	d.conn.Close()
	waitDisconnected(t, a)

	host, port, _ := strings.Cut(addr, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// bash's /dev/tcp: send the 04 (get ATR) control message, read what comes back.
	cmd := exec.CommandContext(ctx, "bash", "-c",
		`exec 3<>/dev/tcp/`+host+`/`+port+` || exit 9; printf '\000\001\004' >&3; timeout 5 head -c 2 <&3 | wc -c`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = "/"
	out, err := cmd.Output() // head's complaint about the reset goes to stderr
	if err != nil {
		t.Fatalf("connect as nobody: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "0" {
		t.Errorf("nobody read %q bytes from the card, want 0", got)
	}
	if a.Connected() {
		t.Error("the card is connected to nobody's process")
	}

	d2 := connect(t, addr) // and the slot still serves our user
	d2.send(ctlGetATR)
	d2.recv()
}
