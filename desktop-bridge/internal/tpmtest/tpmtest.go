// Package tpmtest starts a private software TPM (swtpm) for tests of the
// TPM key store, so those tests run against a real TPM 2.0 implementation
// rather than a mock. Each call gets its own state directory and unix
// socket, so test binaries running in parallel never share a TPM.
package tpmtest

import (
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TPM is one running swtpm; Dial opens a connection to its command channel.
type TPM struct {
	StateDir string
	Socket   string
}

// Start manufactures a fresh TPM (EK and platform certificates issued by
// swtpm's local CA, so the EK chain is real) and runs it until the test ends.
// The test is skipped when swtpm is not installed: make test installs it.
func Start(t testing.TB) *TPM {
	t.Helper()
	if _, err := exec.LookPath("swtpm"); err != nil {
		t.Skip("swtpm not installed (make test installs it)")
	}
	// Not t.TempDir(): it holds the test's name, and a comma there would
	// split swtpm's "dir=...,..." option lists.
	dir, err := os.MkdirTemp("", "swtpm")
	if err != nil {
		t.Fatalf("create swtpm dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatalf("create state dir: %v", err)
	}
	setup := exec.Command("swtpm_setup", "--tpm2", "--tpmstate", state,
		"--create-ek-cert", "--create-platform-cert", "--overwrite")
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("manufacture swtpm: %v\n%s", err, out)
	}
	tpm := &TPM{StateDir: state, Socket: filepath.Join(dir, "tpm.sock")}
	cmd := exec.Command("swtpm", "socket", "--tpm2",
		"--tpmstate", "dir="+state,
		"--server", "type=unixio,path="+tpm.Socket,
		"--ctrl", "type=unixio,path="+filepath.Join(dir, "ctrl.sock"),
		"--flags", "not-need-init,startup-clear")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start swtpm: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// swtpm creates its socket after start; wait for it (bounded) rather
	// than racing the first command against its listen call.
	// The socket file exists from bind, before listen: probe with a
	// connection, which swtpm serves and forgets.
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", tpm.Socket); err == nil {
			c.Close()
			break
		}
		if i == 500 {
			t.Fatalf("swtpm socket %s never appeared", tpm.Socket)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return tpm
}

// SetLockout sets the TPM's dictionary-attack parameters
// (TPM2_DictionaryAttackParameters with swtpm's empty lockout auth): after
// maxTries failed authorisations of DA-protected objects the TPM refuses them
// all for recoverySeconds. go-tpm v0.9.8 has no wrapper, so the command is
// sent as bytes.
func (tp *TPM) SetLockout(maxTries, recoverySeconds uint32) error {
	c, err := tp.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	cmd := []byte{0x80, 0x02, 0, 0, 0, 0, 0x00, 0x00, 0x01, 0x3A, // sessions, size, CC
		0x40, 0x00, 0x00, 0x0A, // TPM_RH_LOCKOUT
		0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0x01, 0, 0, // password session, empty auth
	}
	for _, v := range []uint32{maxTries, recoverySeconds, recoverySeconds} {
		cmd = binary.BigEndian.AppendUint32(cmd, v)
	}
	binary.BigEndian.PutUint32(cmd[2:], uint32(len(cmd)))
	if _, err := c.Write(cmd); err != nil {
		return fmt.Errorf("set lockout: %w", err)
	}
	rsp := make([]byte, 64)
	n, err := c.Read(rsp)
	if err != nil || n < 10 {
		return fmt.Errorf("set lockout: short response: %v", err)
	}
	if rc := binary.BigEndian.Uint32(rsp[6:10]); rc != 0 {
		return fmt.Errorf("set lockout: rc %#x", rc)
	}
	return nil
}

// Dial opens a connection to the TPM's command channel (raw TPM 2.0 command
// bytes in, response bytes out).
func (tp *TPM) Dial() (net.Conn, error) {
	c, err := net.Dial("unix", tp.Socket)
	if err != nil {
		return nil, fmt.Errorf("dial swtpm: %w", err)
	}
	return c, nil
}

// swtpm_setup's local CA lives in this machine-wide directory (see
// /etc/swtpm-localca.conf); every TPM Start manufactures is certified by it.
const localCADir = "/var/lib/swtpm-localca"

// LocalCA returns swtpm's local CA root and the intermediate that signs EK
// certificates, so attestation tests can verify an EK chain to a real root.
func LocalCA(t testing.TB) (root, intermediate *x509.Certificate) {
	t.Helper()
	return readCert(t, filepath.Join(localCADir, "swtpm-localca-rootca-cert.pem")),
		readCert(t, filepath.Join(localCADir, "issuercert.pem"))
}

func readCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read swtpm local CA: %v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("no PEM block in %s", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return c
}
