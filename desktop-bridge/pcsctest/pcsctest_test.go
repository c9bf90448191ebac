package pcsctest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"
)

const childEnv = "VSCARD_PCSCTEST_CHILD"

func TestStart(t *testing.T) {
	env := Start(t, 3)
	if strings.HasPrefix(env.Socket, "/run/pcscd") || os.Getenv(SocketEnv) != env.Socket {
		t.Fatalf("socket %s, %s=%s", env.Socket, SocketEnv, os.Getenv(SocketEnv))
	}
	readers, err := piv.Cards()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range env.Readers {
		if !slices.Contains(readers, r.Name) {
			t.Errorf("reader %q not in %q", r.Name, readers)
		}
	}
	out, err := env.Run(t, "opensc-tool", "-l")
	if err != nil || !strings.Contains(out, env.Readers[2].Name) {
		t.Errorf("opensc-tool -l: %v\n%s", err, out)
	}

	// Reversed mode: the driver connects out, so pcscd listens on no TCP
	// port at all (in server mode it bound every slot's port on all
	// interfaces).
	socks, err := ListeningTCP(env.PID())
	if err != nil {
		t.Fatal(err)
	}
	if len(socks) != 0 {
		t.Errorf("pcscd listens on %v", socks)
	}

	if os.Getenv(childEnv) != "" {
		return // the child stops here: it only proves its daemon is its own
	}
	t.Run("ok/second test binary runs its own daemon meanwhile", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestStart$", "-test.v")
		cmd.Env = append(withoutEnv(os.Environ(), SocketEnv), childEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		// Our daemon still serves our readers, and only ours.
		readers, err := piv.Cards()
		if err != nil {
			t.Fatal(err)
		}
		if len(readers) != 4 { // 3 readers, rounded up to two vpcd entries
			t.Errorf("readers after the child ran: %q", readers)
		}
	})
	t.Run("ok/restart", func(t *testing.T) {
		env.Restart(t)
		if readers, err := piv.Cards(); err != nil || !slices.Contains(readers, env.Readers[0].Name) {
			t.Errorf("after restart: %q %v", readers, err)
		}
	})
}

func TestReservePorts(t *testing.T) {
	p, err := reservePorts(t, 2)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(os.TempDir(), "vscard-pcsctest-ports")
	for _, port := range []int{p, p + 1} {
		if f, err := lockPort(dir, port); err == nil {
			f.Close()
			t.Errorf("port %d reserved twice", port)
		}
	}
	q, err := reservePorts(t, 2)
	if err != nil || q == p || q == p+1 || q+1 == p {
		t.Errorf("second reservation %d %v overlaps %d", q, err, p)
	}
}
