package vcard_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"
	"golang.org/x/crypto/ssh"

	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// These tests drive cards through a private pcscd and the vpcd driver with
// piv-go, yubico-piv-tool and OpenSC: the same path the bridge and every
// other PC/SC program take.

// newCard creates a card on disk and returns it with its directory and key
// store.
func newCard(t testing.TB, serial uint32) (*vcard.Card, string, vcard.KeyStore) {
	t.Helper()
	return newCardOn(t, "software", serial)
}

// keyStoreKinds are the key stores the PC/SC tests and benchmarks run on.
var keyStoreKinds = []string{"software", "tpm"}

// newCardOn is newCard on a key store of the given kind: "software" (a
// MasterKey) or "tpm" (a private swtpm).
func newCardOn(t testing.TB, kind string, serial uint32) (*vcard.Card, string, vcard.KeyStore) {
	t.Helper()
	dir := t.TempDir()
	var ks vcard.KeyStore
	var err error
	if kind == "tpm" {
		tp := tpmtest.Start(t)
		if err := tp.SetLockout(1000, 3600); err != nil {
			t.Fatal(err)
		}
		conn, err := tp.Dial()
		if err != nil {
			t.Fatal(err)
		}
		tks, err := vcard.OpenTPM(conn, filepath.Join(dir, "tpm.key"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tks.Close() })
		ks = tks
	} else if ks, err = vcard.LoadMasterKey(filepath.Join(dir, "master.key")); err != nil {
		t.Fatal(err)
	}
	cards := filepath.Join(dir, "cards")
	c, err := vcard.Create(cards, vcard.Options{Serial: serial, KeyStore: ks})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, cards, ks
}

func TestPIVGo(t *testing.T) {
	for _, kind := range keyStoreKinds {
		t.Run(kind, func(t *testing.T) { testPIVGo(t, kind) })
	}
}

func testPIVGo(t *testing.T, kind string) {
	env := pcsctest.Start(t, 2)

	t.Run("ok/version serial retries", func(t *testing.T) {
		c, _, _ := newCardOn(t, kind, 5551234)
		env.Insert(t, 0, c)
		yk := env.OpenPIV(t, 0)
		if v := yk.Version(); v.Major != 5 || v.Minor != 7 {
			t.Errorf("version %+v", v)
		}
		serial, err := yk.Serial()
		if err != nil || serial != 5551234 {
			t.Errorf("serial %d, %v", serial, err)
		}
		n, err := yk.Retries()
		if err != nil || n != 3 {
			t.Errorf("retries %d, %v", n, err)
		}
	})

	t.Run("error/pin blocks and stays blocked across reopen", func(t *testing.T) {
		c, dir, ks := newCardOn(t, kind, 5551235)
		a := env.Insert(t, 0, c)
		yk := env.OpenPIV(t, 0)
		for want := 2; want >= 0; want-- {
			var ae piv.AuthErr
			if err := yk.VerifyPIN("000000"); !errors.As(err, &ae) || ae.Retries != want {
				t.Fatalf("wrong pin: %v, want AuthErr{%d}", err, want)
			}
		}
		if err := yk.VerifyPIN(piv.DefaultPIN); err == nil || !strings.Contains(err.Error(), "blocked") {
			t.Fatalf("right pin on blocked card: %v", err)
		}
		yk.Close()
		a.Detach()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}

		c2, err := vcard.Open(dir, 5551235, ks)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		env.Insert(t, 0, c2)
		yk = env.OpenPIV(t, 0)
		if n, err := yk.Retries(); err != nil || n != 0 {
			t.Errorf("retries after reopen: %d, %v", n, err)
		}
		if err := yk.VerifyPIN(piv.DefaultPIN); err == nil {
			t.Fatal("right pin accepted after reopen of a blocked card")
		}
		var ae piv.AuthErr
		if err := yk.Unblock("87654321", "246810"); !errors.As(err, &ae) || ae.Retries != 2 {
			t.Fatalf("unblock with wrong puk: %v", err)
		}
		if err := yk.Unblock(piv.DefaultPUK, "246810"); err != nil {
			t.Fatalf("unblock: %v", err)
		}
		if err := yk.VerifyPIN("246810"); err != nil {
			t.Fatalf("new pin: %v", err)
		}
	})

	t.Run("ok/keys, signatures, ecdh, certificates, attestation", func(t *testing.T) {
		c, _, _ := newCardOn(t, kind, 5551236)
		env.Insert(t, 1, c)
		yk := env.OpenPIV(t, 1)
		att, err := yk.AttestationCertificate()
		if err != nil {
			t.Fatal(err)
		}
		own, _ := c.AttestationCertificate()
		if !att.Equal(own) {
			t.Fatal("attestation certificate over PC/SC differs from the card's")
		}
		roots := x509.NewCertPool()
		roots.AddCert(own)

		tests := []struct {
			name string
			slot piv.Slot
			alg  piv.Algorithm
			pp   piv.PINPolicy
		}{
			{"ok/p256", piv.SlotAuthentication, piv.AlgorithmEC256, piv.PINPolicyOnce},
			{"ok/p384", piv.SlotSignature, piv.AlgorithmEC384, piv.PINPolicyAlways},
			{"ok/rsa2048", piv.SlotKeyManagement, piv.AlgorithmRSA2048, piv.PINPolicyOnce},
			{"ok/p256 retired", mustRetired(0x82), piv.AlgorithmEC256, piv.PINPolicyNever},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				pub, err := yk.GenerateKey(piv.DefaultManagementKey, tt.slot, piv.Key{Algorithm: tt.alg, PINPolicy: tt.pp, TouchPolicy: piv.TouchPolicyNever})
				if err != nil {
					t.Fatalf("generate: %v", err)
				}
				info, err := yk.KeyInfo(tt.slot)
				if err != nil {
					t.Fatalf("key info: %v", err)
				}
				if info.Algorithm != tt.alg || info.PINPolicy != tt.pp || info.Origin != piv.OriginGenerated || !publicEqual(info.PublicKey, pub) {
					t.Errorf("key info %+v", info)
				}
				priv, err := yk.PrivateKey(tt.slot, pub, piv.KeyAuth{PIN: piv.DefaultPIN})
				if err != nil {
					t.Fatal(err)
				}
				digest := sha256.Sum256([]byte("sign me " + tt.name))
				sig, err := priv.(crypto.Signer).Sign(rand.Reader, digest[:], crypto.SHA256)
				if err != nil {
					t.Fatalf("sign: %v", err)
				}
				switch p := pub.(type) {
				case *ecdsa.PublicKey:
					if !ecdsa.VerifyASN1(p, digest[:], sig) {
						t.Error("ECDSA signature does not verify")
					}
					peer, _ := ecdsa.GenerateKey(p.Curve, rand.Reader)
					secret, err := priv.(*piv.ECDSAPrivateKey).SharedKey(&peer.PublicKey)
					if err != nil {
						t.Fatalf("ecdh: %v", err)
					}
					peerECDH, _ := peer.ECDH()
					pubECDH, _ := p.ECDH()
					want, _ := peerECDH.ECDH(pubECDH)
					if !bytes.Equal(secret, want) {
						t.Error("ECDH secret differs")
					}
				case *rsa.PublicKey:
					if err := rsa.VerifyPKCS1v15(p, crypto.SHA256, digest[:], sig); err != nil {
						t.Errorf("RSA signature: %v", err)
					}
					pss, err := priv.(crypto.Signer).Sign(rand.Reader, digest[:], &rsa.PSSOptions{Hash: crypto.SHA256})
					if err != nil {
						t.Fatalf("sign PSS: %v", err)
					}
					if err := rsa.VerifyPSS(p, crypto.SHA256, digest[:], pss, nil); err != nil {
						t.Errorf("RSA-PSS signature: %v", err)
					}
					ct, _ := rsa.EncryptPKCS1v15(rand.Reader, p, []byte("secret"))
					pt, err := priv.(crypto.Decrypter).Decrypt(rand.Reader, ct, nil)
					if err != nil || string(pt) != "secret" {
						t.Errorf("decrypt: %q %v", pt, err)
					}
				}

				cert := selfSigned(t, pub, tt.name)
				if err := yk.SetCertificate(piv.DefaultManagementKey, tt.slot, cert); err != nil {
					t.Fatalf("set certificate: %v", err)
				}
				got, err := yk.Certificate(tt.slot)
				if err != nil || !got.Equal(cert) {
					t.Fatalf("certificate round trip: %v", err)
				}

				ac, err := yk.Attest(tt.slot)
				if err != nil {
					t.Fatalf("attest: %v", err)
				}
				v := piv.Verifier{Roots: roots}
				a, err := v.Verify(att, ac)
				if err != nil {
					t.Fatalf("verify attestation: %v", err)
				}
				if a.Serial != 5551236 || a.PINPolicy != tt.pp || a.Version.Major != 5 || a.Slot != tt.slot || !publicEqual(ac.PublicKey, pub) {
					t.Errorf("attestation %+v", a)
				}
				if _, err := piv.Verify(att, ac); err == nil {
					t.Error("attestation verified against Yubico's roots")
				}
			})
		}
		if _, err := yk.Attest(mustRetired(0x90)); !errors.Is(err, piv.ErrNotFound) {
			t.Errorf("attest empty slot: %v", err)
		}
	})

	t.Run("ok/ecdh p384 and pin policy never", func(t *testing.T) {
		c, _, _ := newCardOn(t, kind, 5551237)
		env.Insert(t, 0, c)
		yk := env.OpenPIV(t, 0)
		pub, err := yk.GenerateKey(piv.DefaultManagementKey, piv.SlotCardAuthentication, piv.Key{Algorithm: piv.AlgorithmEC384, PINPolicy: piv.PINPolicyNever, TouchPolicy: piv.TouchPolicyNever})
		if err != nil {
			t.Fatal(err)
		}
		priv, err := yk.PrivateKey(piv.SlotCardAuthentication, pub, piv.KeyAuth{})
		if err != nil {
			t.Fatal(err)
		}
		peer, _ := ecdh.P384().GenerateKey(rand.Reader)
		secret, err := priv.(*piv.ECDSAPrivateKey).ECDH(peer.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		cardPub, _ := pub.(*ecdsa.PublicKey).ECDH()
		if want, _ := peer.ECDH(cardPub); !bytes.Equal(secret, want) {
			t.Error("ECDH secret differs")
		}
	})

	t.Run("error/pin policy enforced", func(t *testing.T) {
		c, _, _ := newCardOn(t, kind, 5551238)
		env.Insert(t, 0, c)
		yk := env.OpenPIV(t, 0)
		pub, err := yk.GenerateKey(piv.DefaultManagementKey, piv.SlotSignature, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyOnce, TouchPolicy: piv.TouchPolicyNever})
		if err != nil {
			t.Fatal(err)
		}
		// Claim policy "never" so piv-go does not log in: the card must refuse.
		priv, _ := yk.PrivateKey(piv.SlotSignature, pub, piv.KeyAuth{PINPolicy: piv.PINPolicyNever})
		digest := sha256.Sum256(nil)
		if _, err := priv.(crypto.Signer).Sign(rand.Reader, digest[:], crypto.SHA256); err == nil || !strings.Contains(err.Error(), "6982") {
			t.Errorf("sign without pin: %v, want 6982", err)
		}
	})

	t.Run("error/wrong management key", func(t *testing.T) {
		c, _, _ := newCardOn(t, kind, 5551239)
		env.Insert(t, 0, c)
		yk := env.OpenPIV(t, 0)
		wrong := bytes.Repeat([]byte{7}, 24)
		if _, err := yk.GenerateKey(wrong, piv.SlotAuthentication, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyOnce, TouchPolicy: piv.TouchPolicyNever}); err == nil {
			t.Fatal("generate with a wrong management key succeeded")
		}
		if err := yk.SetManagementKey(wrong, wrong); err == nil {
			t.Fatal("set management key with a wrong one succeeded")
		}
	})

	t.Run("ok/personalise: management key aes-192, pin, puk, metadata, retries", func(t *testing.T) {
		c, dir, ks := newCardOn(t, kind, 5551240)
		a := env.Insert(t, 0, c)
		yk := env.OpenPIV(t, 0)
		newKey := bytes.Repeat([]byte{0x5A}, 24)
		if err := yk.SetManagementKey(piv.DefaultManagementKey, newKey); err != nil {
			t.Fatalf("set management key: %v", err)
		}
		if err := yk.SetPIN(piv.DefaultPIN, "13572468"); err != nil {
			t.Fatalf("set pin: %v", err)
		}
		if err := yk.SetPUK(piv.DefaultPUK, "97531864"); err != nil {
			t.Fatalf("set puk: %v", err)
		}
		if err := yk.SetMetadata(newKey, &piv.Metadata{ManagementKey: &newKey}); err != nil {
			t.Fatalf("set metadata: %v", err)
		}
		yk.Close()
		a.Detach()
		c.Close()

		c2, err := vcard.Open(dir, 5551240, ks)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		env.Insert(t, 0, c2)
		yk = env.OpenPIV(t, 0)
		if _, err := yk.Metadata(piv.DefaultPIN); err == nil {
			t.Error("metadata with the old pin")
		}
		md, err := yk.Metadata("13572468")
		if err != nil || md.ManagementKey == nil || !bytes.Equal(*md.ManagementKey, newKey) {
			t.Fatalf("metadata: %+v %v", md, err)
		}
		if _, err := yk.GenerateKey(piv.DefaultManagementKey, piv.SlotAuthentication, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyOnce, TouchPolicy: piv.TouchPolicyNever}); err == nil {
			t.Error("old management key still works")
		}
		if _, err := yk.GenerateKey(newKey, piv.SlotAuthentication, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyOnce, TouchPolicy: piv.TouchPolicyNever}); err != nil {
			t.Errorf("new management key: %v", err)
		}
		if err := yk.SetRetries(newKey, "13572468", 5, 6); err != nil {
			t.Fatalf("set retries: %v", err)
		}
		if n, err := yk.Retries(); err != nil || n != 5 {
			t.Errorf("retries after set retries: %d %v", n, err)
		}
		if err := yk.VerifyPIN(piv.DefaultPIN); err != nil {
			t.Errorf("set retries did not reset the pin: %v", err)
		}
	})

	t.Run("ok/reset", func(t *testing.T) {
		c, _, _ := newCardOn(t, kind, 5551241)
		env.Insert(t, 0, c)
		yk := env.OpenPIV(t, 0)
		newKey := bytes.Repeat([]byte{0x11}, 24)
		if err := yk.SetManagementKey(piv.DefaultManagementKey, newKey); err != nil {
			t.Fatal(err)
		}
		if err := yk.Reset(); err != nil {
			t.Fatalf("reset: %v", err)
		}
		if err := yk.SetManagementKey(piv.DefaultManagementKey, newKey); err != nil {
			t.Errorf("default management key after reset: %v", err)
		}
		if err := yk.VerifyPIN(piv.DefaultPIN); err != nil {
			t.Errorf("default pin after reset: %v", err)
		}
	})
}

// TestIndependentClients checks the card with tools that share no code with
// piv-go: yubico-piv-tool and OpenSC.
func TestIndependentClients(t *testing.T) {
	for _, kind := range keyStoreKinds {
		t.Run(kind, func(t *testing.T) { testIndependentClients(t, kind) })
	}
}

func testIndependentClients(t *testing.T, kind string) {
	env := pcsctest.Start(t, 1)
	c, _, _ := newCardOn(t, kind, 5552000)
	env.Insert(t, 0, c)
	reader := env.Readers[0].Name

	yk := env.OpenPIV(t, 0)
	pub, err := yk.GenerateKey(piv.DefaultManagementKey, piv.SlotAuthentication, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyOnce, TouchPolicy: piv.TouchPolicyNever})
	if err != nil {
		t.Fatal(err)
	}
	cert := selfSigned(t, pub, "pkcs11 signer")
	if err := yk.SetCertificate(piv.DefaultManagementKey, piv.SlotAuthentication, cert); err != nil {
		t.Fatal(err)
	}
	yk.Close() // piv-go holds the card exclusively

	t.Run("ok/yubico-piv-tool status", func(t *testing.T) {
		out, err := env.Run(t, "yubico-piv-tool", "-r", reader, "-a", "status")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for _, want := range []string{"Version:\t5.7.1", "Serial Number:\t5552000", "Slot 9a", "CN=pkcs11 signer", "PIN tries left:\t3"} {
			if !strings.Contains(out, want) {
				t.Errorf("status lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("ok/pkcs15-tool sees a PIV card", func(t *testing.T) {
		out, err := env.Run(t, "pkcs15-tool", "--reader", reader, "-D")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !regexp.MustCompile(`PIV`).MatchString(out) || !strings.Contains(out, "pkcs11 signer") {
			t.Errorf("pkcs15-tool output:\n%s", out)
		}
	})
	t.Run("ok/pkcs11-tool signs with the 9A key", func(t *testing.T) {
		dir := t.TempDir()
		in, sigPath := filepath.Join(dir, "data"), filepath.Join(dir, "sig")
		data := []byte("signed through OpenSC's PKCS#11 module")
		os.WriteFile(in, data, 0o600)
		out, err := env.Run(t, "pkcs11-tool", "--module", openscPKCS11,
			"-l", "--pin", piv.DefaultPIN, "-s", "-m", "ECDSA-SHA256", "--id", "01",
			"--signature-format", "openssl", "-i", in, "-o", sigPath)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		sig, _ := os.ReadFile(sigPath)
		digest := sha256.Sum256(data)
		if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
			t.Errorf("pkcs11-tool signature %x does not verify against the 9A certificate", sig)
		}
	})
	t.Run("ok/ssh-keygen lists the 9A key through PKCS#11", func(t *testing.T) {
		out, err := env.Run(t, "ssh-keygen", "-D", openscPKCS11)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		sshPub, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
		found := false
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0]+" "+f[1] == want {
				found = true
			}
		}
		if !found {
			t.Errorf("ssh-keygen -D does not list the 9A key %q:\n%s", want, out)
		}
	})
	t.Run("ok/TLS client authentication with the 9A key through PKCS#11", func(t *testing.T) {
		testTLSClientAuth(t, env, cert)
	})
	t.Run("error/pkcs11-tool wrong pin", func(t *testing.T) {
		out, err := env.Run(t, "pkcs11-tool", "--module", openscPKCS11,
			"-l", "--pin", "999999", "-O")
		if err == nil {
			t.Errorf("login with a wrong pin succeeded:\n%s", out)
		}
	})
}

// openscPKCS11 is OpenSC's PKCS#11 module, the one ssh, browsers and
// OpenSSL's PKCS#11 engine load for smart cards.
const openscPKCS11 = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"

// testTLSClientAuth runs a TLS handshake from openssl s_client, whose client
// key is the card's 9A key reached through OpenSC's PKCS#11 module by the
// pkcs11 engine (libp11), against a Go server that requires a client
// certificate. The handshake finishes only if the card signed the
// CertificateVerify with the key of cert.
func testTLSClientAuth(t *testing.T, env *pcsctest.Env, cert *x509.Certificate) {
	t.Helper()
	serverKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serverCert := selfSigned(t, &serverKey.PublicKey, "127.0.0.1")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{serverCert.Raw}, PrivateKey: serverKey}},
		ClientAuth:   tls.RequireAnyClientCert,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		peer *x509.Certificate
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer conn.Close()
		tc := conn.(*tls.Conn)
		conn.SetDeadline(time.Now().Add(time.Minute))
		if err := tc.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		peers := tc.ConnectionState().PeerCertificates
		if len(peers) == 0 {
			done <- result{err: errors.New("no client certificate")}
			return
		}
		done <- result{peer: peers[0]}
	}()

	dir := t.TempDir()
	certPath := filepath.Join(dir, "9a.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := env.Command(ctx, "openssl", "s_client", "-connect", ln.Addr().String(),
		"-engine", "pkcs11", "-keyform", "engine",
		"-key", "pkcs11:id=%01;type=private;pin-value="+piv.DefaultPIN,
		"-cert", certPath, "-brief")
	// The engine loads this module rather than p11-kit's proxy, which would
	// also offer the system trust store.
	cmd.Env = append(cmd.Env, "PKCS11_MODULE_PATH="+openscPKCS11)
	cmd.Stdin = strings.NewReader("") // hang up once the handshake is done
	out, err := cmd.CombinedOutput()
	ln.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("server handshake: %v\nopenssl s_client (%v):\n%s", r.err, err, out)
	}
	if !publicEqual(r.peer.PublicKey, cert.PublicKey) {
		t.Errorf("server saw a client certificate for another key: %s", r.peer.Subject)
	}
}

// TestReconnect restarts pcscd under an attached card: the attachment must
// reconnect by itself and the card must work again.
func TestReconnect(t *testing.T) {
	env := pcsctest.Start(t, 1)
	c, _, _ := newCard(t, 5553000)
	a := env.Insert(t, 0, c)
	yk := env.OpenPIV(t, 0)
	if err := yk.VerifyPIN(piv.DefaultPIN); err != nil {
		t.Fatal(err)
	}
	yk.Close()

	env.Restart(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for a.Connected() == false || a.WaitReady(ctx) != nil {
		if ctx.Err() != nil {
			t.Fatal("card did not come back after pcscd restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	yk = env.OpenPIV(t, 0)
	if s, err := yk.Serial(); err != nil || s != 5553000 {
		t.Fatalf("serial after restart: %d %v", s, err)
	}
	if n, err := yk.Retries(); err != nil || n != 3 {
		t.Errorf("pin must not be verified after the reconnect: %d %v", n, err)
	}
	yk.Close()

	a.Detach()
	env.WaitCard(t, 0, false)
}

func mustRetired(key uint32) piv.Slot {
	s, ok := piv.RetiredKeyManagementSlot(key)
	if !ok {
		panic("no retired slot")
	}
	return s
}

func publicEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// selfSigned makes a certificate for pub, signed by a throwaway CA key.
func selfSigned(t testing.TB, pub crypto.PublicKey, cn string) *x509.Certificate {
	t.Helper()
	ca, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		Issuer:       pkix.Name{CommonName: "test CA"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	parent := &x509.Certificate{Subject: pkix.Name{CommonName: "test CA"}, PublicKey: &ca.PublicKey}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, ca)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestLatency guards against the 40 ms per APDU that Nagle's algorithm in the
// vpcd driver and delayed ACKs cost when the card side does not ask for
// quick ACKs (see vpcd's quickAck). A status probe takes well under a
// millisecond; the bound leaves room for a busy machine.
func TestLatency(t *testing.T) {
	env := pcsctest.Start(t, 1)
	c, _, _ := newCard(t, 5554000)
	env.Insert(t, 0, c)
	yk := env.OpenPIV(t, 0)
	const n = 50
	start := time.Now()
	for range n {
		if _, err := yk.Retries(); err != nil {
			t.Fatal(err)
		}
	}
	if mean := time.Since(start) / n; mean > 25*time.Millisecond {
		t.Errorf("mean round trip %v, want well under 40ms", mean)
	}
}
