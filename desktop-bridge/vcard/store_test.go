package vcard

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func testKeyStore(t testing.TB, dir string) *MasterKey {
	t.Helper()
	ks, err := LoadMasterKey(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestStoreRoundTrip(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		dir := t.TempDir()
		cards := filepath.Join(dir, "cards")

		c, err := Create(cards, Options{Serial: 1001, KeyStore: ks})
		if err != nil {
			t.Fatal(err)
		}
		authDefault(t, c)
		_, sw := call(t, c, insGenerate, 0, 0x9A, h("AC 03 80 01 11"))
		mustSW(t, swOK, sw, "generate")
		_, sw = call(t, c, insPutData, 0x3F, 0xFF, h("5C 03 5F C1 09 53 04 88 02 01 02"))
		mustSW(t, swOK, sw, "put pin protected")
		for range 3 {
			verifyPIN(t, c, "000000")
		}
		mustSW(t, swAuthBlocked, verifyPIN(t, c, defaultPIN), "blocked")
		before := c.st.clone()

		if _, err := Open(cards, 1001, ks); !errors.Is(err, ErrInUse) {
			t.Errorf("second open while open: %v, want ErrInUse", err)
		}
		if err := Delete(cards, 1001); !errors.Is(err, ErrInUse) {
			t.Errorf("delete while open: %v, want ErrInUse", err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		mustSW(t, swUnknown, func() uint16 { _, sw := tx(t, c, h("00 FD 00 00 00")); return sw }(), "closed card")

		fi, err := os.Stat(filepath.Join(cards, "1001.card"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("card file mode %v", fi.Mode().Perm())
		}
		raw, _ := os.ReadFile(filepath.Join(cards, "1001.card"))
		secrets := map[string][]byte{"pin": []byte("123456"), "metadata": h("88020102"), "mgmt": defaultManagementKey}
		if k, ok := before.keys[0x9A].priv.(*ecdsa.PrivateKey); ok {
			secrets["pkcs8"], _ = x509.MarshalPKCS8PrivateKey(k)
			secrets["scalar"] = k.D.Bytes()
		}
		for name, secret := range secrets {
			if bytes.Contains(raw, secret) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(secret)[:len(secret)/3*4])) {
				t.Errorf("card file contains the %s in the clear", name)
			}
		}

		c2, err := Open(cards, 1001, ks)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		if !c2.st.equalContent(before) {
			t.Error("state changed across close and open")
		}
		mustSW(t, swAuthBlocked, verifyPIN(t, c2, defaultPIN), "still blocked after reopen")

		serials, err := List(cards)
		if err != nil || len(serials) != 1 || serials[0] != 1001 {
			t.Errorf("list: %v %v", serials, err)
		}
	})
}

func TestStoreErrors(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		dir := t.TempDir()
		c, err := Create(dir, Options{Serial: 7, KeyStore: ks})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		path := filepath.Join(dir, "7.card")

		t.Run("error/exists", func(t *testing.T) {
			if _, err := Create(dir, Options{Serial: 7, KeyStore: ks}); !errors.Is(err, ErrExists) {
				t.Errorf("got %v", err)
			}
		})
		t.Run("error/other key", func(t *testing.T) {
			other, _ := NewMasterKey(bytes.Repeat([]byte{1}, 32))
			if _, err := Open(dir, 7, other); !errors.Is(err, ErrUnseal) {
				t.Errorf("got %v", err)
			}
		})
		t.Run("error/tampered retry counter", func(t *testing.T) {
			raw, _ := os.ReadFile(path)
			bad := bytes.Replace(raw, []byte(`"pinTries":{"Max":3,"Left":3}`), []byte(`"pinTries":{"Max":3,"Left":2}`), 1)
			if bytes.Equal(raw, bad) {
				t.Fatalf("counter not found in %s", raw)
			}
			os.WriteFile(path, bad, 0o600)
			defer os.WriteFile(path, raw, 0o600)
			if _, err := Open(dir, 7, ks); !errors.Is(err, ErrUnseal) {
				t.Errorf("got %v", err)
			}
		})
		t.Run("error/not found", func(t *testing.T) {
			if _, err := Open(dir, 8, ks); !errors.Is(err, ErrNotFound) {
				t.Errorf("got %v", err)
			}
			if err := Delete(dir, 8); !errors.Is(err, ErrNotFound) {
				t.Errorf("delete: got %v", err)
			}
		})
		t.Run("error/master key readable by others", func(t *testing.T) {
			p := filepath.Join(dir, "loose.key")
			os.WriteFile(p, make([]byte, 32), 0o644)
			if _, err := LoadMasterKey(p); err == nil {
				t.Error("loaded a world-readable key")
			}
		})
		t.Run("ok/random serial and delete", func(t *testing.T) {
			c, err := Create(dir, Options{KeyStore: ks})
			if err != nil {
				t.Fatal(err)
			}
			s := c.Serial()
			if s < 10_000_000 {
				t.Errorf("serial %d", s)
			}
			c.Close()
			if err := Delete(dir, s); err != nil {
				t.Fatal(err)
			}
			serials, _ := List(dir)
			if len(serials) != 1 || serials[0] != 7 {
				t.Errorf("after delete: %v", serials)
			}
			if _, err := os.Stat(filepath.Join(dir, strconv.Itoa(int(s))+".card")); !os.IsNotExist(err) {
				t.Errorf("file still there: %v", err)
			}
		})
	})
}

// TestCounterCommittedBeforeCompare checks that a card that cannot write its
// file answers 6581 to a PIN attempt, right or wrong, so a failing disk does
// not tell a guesser whether the PIN was right while sparing the counter.
func TestCounterCommittedBeforeCompare(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		if os.Geteuid() == 0 {
			t.Log("running as root: making the directory read-only does not stop root, so use a directory that vanishes")
		}
		dir := t.TempDir()
		cards := filepath.Join(dir, "cards")
		c, err := Create(cards, Options{Serial: 99, KeyStore: ks})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Replace the directory by a file: every write now fails, also for root.
		if err := os.Rename(cards, cards+".away"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cards, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		mustSW(t, swMemoryFailure, verifyPIN(t, c, "000000"), "wrong pin, disk broken")
		mustSW(t, swMemoryFailure, verifyPIN(t, c, defaultPIN), "right pin, disk broken")
		if c.st.pinTry.Left != 3 {
			t.Errorf("counter in memory %d, want 3 (as on disk)", c.st.pinTry.Left)
		}
		os.Remove(cards)
		os.Rename(cards+".away", cards)
		mustSW(t, 0x63C2, verifyPIN(t, c, "000000"), "wrong pin, disk back")
	})
}
