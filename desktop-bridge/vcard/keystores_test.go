package vcard

import (
	"path/filepath"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
)

// forEachKeyStore runs a card test on both key stores, the way the storage
// suite runs on both databases: software (MasterKey) and TPM (a private
// swtpm per test, with a generous lockout so wrong-PIN tests stay
// independent; the rollback test sets its own).
func forEachKeyStore(t *testing.T, f func(t *testing.T, ks KeyStore)) {
	t.Run("software", func(t *testing.T) { f(t, testKeyStore(t, t.TempDir())) })
	t.Run("tpm", func(t *testing.T) {
		ks, _ := testTPMStore(t, 1000)
		f(t, ks)
	})
}

// testTPMStore starts a swtpm with the given DA lockout and opens a TPM key
// store on it.
func testTPMStore(t testing.TB, maxTries uint32) (*TPM, *tpmtest.TPM) {
	t.Helper()
	tp := tpmtest.Start(t)
	if err := tp.SetLockout(maxTries, 3600); err != nil {
		t.Fatal(err)
	}
	return openTPMStore(t, tp, filepath.Join(t.TempDir(), "tpm.key")), tp
}

func openTPMStore(t testing.TB, tp *tpmtest.TPM, keyFile string) *TPM {
	t.Helper()
	conn, err := tp.Dial()
	if err != nil {
		t.Fatal(err)
	}
	ks, err := OpenTPM(conn, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	return ks
}
