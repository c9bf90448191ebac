package ca

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenFiles(t *testing.T) {
	clk := newClock()
	store := NewEntStore(newEntClient(t))
	dir := filepath.Join(t.TempDir(), "ca")

	first, err := Open(dir, testConfig(clk), store)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	t.Run("ok/modes", func(t *testing.T) {
		want := map[string]os.FileMode{
			"":              0o700,
			rootKeyFile:     0o600,
			issuingKeyFile:  0o600,
			rootCertFile:    0o644,
			issuingCertFile: 0o644,
		}
		for name, mode := range want {
			info, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm(); got != mode {
				t.Errorf("%s: mode %04o, want %04o", filepath.Join("ca", name), got, mode)
			}
		}
	})
	t.Run("ok/hierarchy", func(t *testing.T) {
		root, issuing := first.root, first.issuing
		if !root.IsCA || root.MaxPathLen != 1 || root.Subject.CommonName != "Example Org Root CA" {
			t.Errorf("root: IsCA %v MaxPathLen %d subject %s", root.IsCA, root.MaxPathLen, root.Subject)
		}
		if issuing.MaxPathLen != 0 || !issuing.MaxPathLenZero || issuing.Subject.CommonName != "Example Org Issuing CA" {
			t.Errorf("issuing: MaxPathLen %d subject %s", issuing.MaxPathLen, issuing.Subject)
		}
		if got := curveName(root); got != "P-384" {
			t.Errorf("root curve %s, want P-384", got)
		}
		if got := curveName(issuing); got != "P-256" {
			t.Errorf("issuing curve %s, want P-256", got)
		}
	})
	t.Run("ok/reload-same-ca", func(t *testing.T) {
		again, err := Open(dir, testConfig(clk), store)
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		for i, c := range again.Chain() {
			if !bytes.Equal(c.Raw, first.Chain()[i].Raw) {
				t.Errorf("chain[%d] changed on reload", i)
			}
		}
		// The reloaded key still signs for the same issuing CA.
		got, err := again.Issue(context.Background(), authRequest(makeCSR(t, newP256(t)), clk.Now().Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		if err := got.Certificate.CheckSignatureFrom(first.issuing); err != nil {
			t.Errorf("certificate from the reloaded CA: %v", err)
		}
	})

	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) // breaks a copy of the CA folder
		cfg     func(Config) Config
		want    string
		is      error
	}{
		{name: "error/key-0644", prepare: func(t *testing.T, dir string) {
			chmod(t, filepath.Join(dir, issuingKeyFile), 0o644)
		}, want: "chmod 600", is: ErrInsecureKeyFile},
		{name: "error/key-0640", prepare: func(t *testing.T, dir string) {
			chmod(t, filepath.Join(dir, rootKeyFile), 0o640)
		}, want: "mode is 0640", is: ErrInsecureKeyFile},
		{name: "error/incomplete-folder", prepare: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, issuingKeyFile)); err != nil {
				t.Fatal(err)
			}
		}, want: "not issuing.key"},
		{name: "error/key-of-another-ca", prepare: func(t *testing.T, dir string) {
			other := filepath.Join(t.TempDir(), "other")
			if _, err := Open(other, testConfig(clk), store); err != nil {
				t.Fatal(err)
			}
			copyFile(t, filepath.Join(other, issuingKeyFile), filepath.Join(dir, issuingKeyFile))
		}, want: "does not belong to issuing.crt"},
		{name: "error/passphrase-for-plain-keys", cfg: func(c Config) Config {
			c.Passphrase = []byte("secret")
			return c
		}, want: "not encrypted but a passphrase is configured"},
		{name: "error/no-organization", cfg: func(c Config) Config {
			c.Organization = ""
			return c
		}, want: "Organization is required"},
		{name: "error/relative-base-url", cfg: func(c Config) Config {
			c.BaseURL = "localhost:8080"
			return c
		}, want: "absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := copyDir(t, dir)
			if tt.prepare != nil {
				tt.prepare(t, broken)
			}
			cfg := testConfig(clk)
			if tt.cfg != nil {
				cfg = tt.cfg(cfg)
			}
			c, err := Open(broken, cfg, store)
			if err == nil {
				t.Fatalf("Open succeeded (%v), want an error", c.Chain()[0].Subject)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestOpenPassphrase(t *testing.T) {
	clk := newClock()
	store := NewEntStore(newEntClient(t))
	dir := filepath.Join(t.TempDir(), "ca")
	cfg := testConfig(clk)
	cfg.Passphrase = []byte("correct horse battery staple")
	cfg.IssuingCurve = "P-384"
	first, err := Open(dir, cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := os.ReadFile(filepath.Join(dir, issuingKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pemKey, []byte(pemEncryptedKey)) || bytes.Contains(pemKey, []byte("BEGIN PRIVATE KEY")) {
		t.Fatalf("the key file is not encrypted:\n%s", pemKey)
	}
	if got := curveName(first.issuing); got != "P-384" {
		t.Errorf("issuing curve %s, want P-384", got)
	}

	tests := []struct {
		name       string
		passphrase string
		want       string
	}{
		{"ok/same-passphrase", "correct horse battery staple", ""},
		{"error/wrong-passphrase", "Tr0ub4dor&3", "wrong passphrase"},
		{"error/no-passphrase", "", "configure the CA passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg.Passphrase = []byte(tt.passphrase)
			c, err := Open(dir, cfg, store)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(c.issuing.Raw, first.issuing.Raw) {
					t.Error("reloaded a different issuing CA")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func curveName(c *x509.Certificate) string {
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); ok {
		return k.Curve.Params().Name
	}
	return c.PublicKeyAlgorithm.String()
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, info.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
	chmod(t, to, info.Mode().Perm())
}

// copyDir copies the CA folder, keeping modes, so a test can break the copy.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "ca")
	if err := os.Mkdir(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range caFiles {
		copyFile(t, filepath.Join(dir, name), filepath.Join(to, name))
	}
	return to
}
