package vcard

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
)

// TestTPMKeysSignAndAgree generates each algorithm the TPM card offers,
// signs (ECDSA, raw RSA) and agrees (ECDH) through APDUs, and checks the
// results with the public key GENERATE returned; the attestation of the key
// verifies against the card's attestation certificate (signed in the TPM).
func TestTPMKeysSignAndAgree(t *testing.T) {
	ks, _ := testTPMStore(t, 1000)
	c := newMemoryCard(t, Options{KeyStore: ks})
	for _, alg := range []Algorithm{AlgECCP256, AlgECCP384, AlgRSA2048} {
		authDefault(t, c)
		_, sw := call(t, c, insGenerate, 0, 0x9A, tlvBytes(tagGenControl, tlvBytes(tagAlgorithm, []byte{byte(alg)})))
		mustSW(t, swOK, sw, "generate")
		k := c.st.keys[0x9A]
		if tk, ok := k.priv.(*tpmKey); !ok || tk.pinBound {
			t.Fatalf("key %T not a pending TPM key before VERIFY", k.priv)
		}
		digest := sha256.Sum256([]byte("hello"))
		input := digest[:]
		if alg == AlgRSA2048 {
			// A PKCS #1 v1.5 block, as the client pads.
			input = make([]byte, 256)
			input[1] = 1
			for i := 2; i < 256-len(digest)-1; i++ {
				input[i] = 0xFF
			}
			copy(input[256-len(digest):], digest[:])
		}
		body := tlvBytes(tagDynAuth, appendTLV(tlvBytes(tagResponse, nil), tagChallenge, input))
		_, sw = call(t, c, insGenAuth, byte(alg), 0x9A, body)
		mustSW(t, swSecurityNotSatisfied, sw, "sign without PIN")
		mustSW(t, swOK, verifyPIN(t, c, defaultPIN), "verify")
		if tk := c.st.keys[0x9A].priv.(*tpmKey); !tk.pinBound {
			t.Fatal("VERIFY did not bind the key to the PIN secret")
		}
		out, sw := call(t, c, insGenAuth, byte(alg), 0x9A, body)
		mustSW(t, swOK, sw, "sign")
		sig := responseOf(t, out)
		switch pub := c.st.keys[0x9A].public().(type) {
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, digest[:], sig) {
				t.Errorf("%#x: signature does not verify", byte(alg))
			}
			peer, _ := mustECDH(t, pub).Curve().GenerateKey(rand.Reader)
			out, sw = call(t, c, insGenAuth, byte(alg), 0x9A,
				tlvBytes(tagDynAuth, appendTLV(tlvBytes(tagResponse, nil), tagExponent, peer.PublicKey().Bytes())))
			mustSW(t, swOK, sw, "ecdh")
			want, _ := peer.ECDH(mustECDH(t, pub))
			if got := responseOf(t, out); string(got) != string(want) {
				t.Errorf("%#x: ECDH secret differs", byte(alg))
			}
		case *rsa.PublicKey:
			if err := rsa.VerifyPKCS1v15(pub, crypto.Hash(0), digest[:], sig); err != nil {
				t.Errorf("rsa signature: %v", err)
			}
		}
		der, sw := call(t, c, insAttest, 0x9A, 0, nil)
		mustSW(t, swOK, sw, "attest")
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		ca, _ := c.AttestationCertificate()
		if err := cert.CheckSignatureFrom(ca); err != nil {
			t.Errorf("attestation: %v", err)
		}
		c.Reset()
	}
	// What the TPM cannot make is refused like an unknown algorithm.
	authDefault(t, c)
	_, sw := call(t, c, insGenerate, 0, 0x9A, h("AC 03 80 01 E0"))
	mustSW(t, swWrongData, sw, "ed25519 on a TPM card")
	authDefault(t, c)
	_, sw = call(t, c, insImportKey, byte(AlgECCP256), 0x9A, tlvBytes(0x06, make([]byte, 32)))
	mustSW(t, swConditionsNotMet, sw, "import on a TPM card")

	// A PIN change releases the secret: keys generated after it are bound
	// at once (the Desktop App's personalisation: set PIN, then generate).
	c.Reset()
	_, sw = call(t, c, insChangeRef, 0, refPIN, append(pinBytes(defaultPIN), pinBytes("654321")...))
	mustSW(t, swOK, sw, "change PIN")
	authDefault(t, c)
	_, sw = call(t, c, insGenerate, 0, 0x9C, h("AC 03 80 01 11"))
	mustSW(t, swOK, sw, "generate after PIN change")
	if !c.st.keys[0x9C].priv.(*tpmKey).pinBound {
		t.Error("key generated after a PIN change is not bound to the PIN secret")
	}
	mustSW(t, swOK, verifyPIN(t, c, "654321"), "verify new PIN")
	body := tlvBytes(tagDynAuth, appendTLV(tlvBytes(tagResponse, nil), tagChallenge, make([]byte, 32)))
	_, sw = call(t, c, insGenAuth, byte(AlgECCP256), 0x9C, body)
	mustSW(t, swOK, sw, "sign with the bound key after the PIN change")
}

func responseOf(t *testing.T, out []byte) []byte {
	t.Helper()
	tmpl, err := parseOne(out, tagDynAuth)
	if err != nil {
		t.Fatalf("response %x: %v", out, err)
	}
	items, _ := parseTLVs(tmpl)
	r, ok := find(items, tagResponse)
	if !ok {
		t.Fatalf("no response in %x", out)
	}
	return r
}

func mustECDH(t *testing.T, p *ecdsa.PublicKey) *ecdh.PublicKey {
	t.Helper()
	e, err := p.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestTPMCopy copies the card directory and the key store's file to a
// computer with another TPM: the card does not open, and the key blobs do
// not load there even with the right secrets.
func TestTPMCopy(t *testing.T) {
	dir := t.TempDir()
	cards := filepath.Join(dir, "cards")
	ks := openTPMStore(t, tpmtest.Start(t), filepath.Join(dir, "tpm.key"))
	c, err := Create(cards, Options{Serial: 4242, KeyStore: ks})
	if err != nil {
		t.Fatal(err)
	}
	authDefault(t, c)
	_, sw := call(t, c, insGenerate, 0, 0x9A, h("AC 03 80 01 11"))
	mustSW(t, swOK, sw, "generate")
	mustSW(t, swOK, verifyPIN(t, c, defaultPIN), "verify")
	tk := c.st.keys[0x9A].priv.(*tpmKey)
	secret, file := c.sess.keyAuth, c.st.fileSecret
	c.Close()

	// The other computer: its own TPM, the copied files.
	other := t.TempDir()
	copyFile(t, filepath.Join(cards, "4242.card"), filepath.Join(other, "cards", "4242.card"))
	keyFile := filepath.Join(other, "tpm.key")
	copyFile(t, filepath.Join(filepath.Dir(cards), "tpm.key"), keyFile)
	tp2 := tpmtest.Start(t)
	conn, err := tp2.Dial()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTPM(conn, keyFile); !errors.Is(err, ErrUnseal) || !errors.Is(err, ErrTPMKeysLost) {
		t.Fatalf("copied key file opened on another TPM: %v", err)
	}
	// Even an attacker who knows every secret cannot load the key there.
	ks2 := openTPMStore(t, tp2, filepath.Join(other, "fresh.key"))
	stolen := &tpmKey{tpm: ks2, blob: tk.blob, pub: tk.pub, pinBound: true}
	if _, err := stolen.sign(secret, make([]byte, 32)); err == nil {
		t.Fatal("key blob signed on another TPM")
	}
	if _, err := ks2.unsealRef(labelPIN, c.st.pin, pinBytes(defaultPIN)); err == nil {
		t.Fatal("PIN seal opened on another TPM")
	}
	if _, err := (&tpmKey{tpm: ks2, blob: tk.blob, pub: tk.pub}).sign(file, make([]byte, 32)); err == nil {
		t.Fatal("key blob signed on another TPM with the file secret")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTPMRollback copies the card file, spends wrong PINs, restores the old
// file and guesses again: the card's own counter is back, but the TPM's
// dictionary-attack counter is not, so the guesses over all rollbacks stay
// bounded by the TPM's lockout (here 4 failures), and then even the right
// PIN is refused while the lockout lasts.
func TestTPMRollback(t *testing.T) {
	const maxTries = 4
	ks, _ := testTPMStore(t, maxTries)
	cards := t.TempDir()
	c, err := Create(cards, Options{Serial: 77, KeyStore: ks, PINRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cards, "77.card")
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	wrong := 0
	for round := 0; round < 3; round++ {
		if err := os.WriteFile(path, saved, 0o600); err != nil { // the rollback
			t.Fatal(err)
		}
		c, err := Open(cards, 77, ks)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			sw := verifyPIN(t, c, "999999")
			if sw&0xFFF0 == 0x63C0 {
				wrong++
			}
		}
		c.Close()
	}
	if wrong != maxTries {
		t.Errorf("%d wrong PINs were checked over three rollbacks, want the TPM's bound %d", wrong, maxTries)
	}
	if err := os.WriteFile(path, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Open(cards, 77, ks)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustSW(t, swAuthBlocked, verifyPIN(t, c, defaultPIN), "right PIN during the TPM's lockout")
}

// TestOpenTPMDeviceSocket opens the TPM through swtpm's Unix socket command
// channel the way vscard-bridge --tpm-device does in end-to-end tests: the
// key file it creates unseals again on a second connection to the same TPM,
// and a path that is neither a device nor a socket is ErrTPMUnavailable.
func TestOpenTPMDeviceSocket(t *testing.T) {
	tp := tpmtest.Start(t)
	keyFile := filepath.Join(t.TempDir(), "tpm.key")
	ks, err := OpenTPMDevice(tp.Socket, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	ks, err = OpenTPMDevice(tp.Socket, keyFile)
	if err != nil {
		t.Fatalf("reopen through the socket: %v", err)
	}
	ks.Close()
	if _, err := OpenTPMDevice(filepath.Join(t.TempDir(), "none"), keyFile); !errors.Is(err, ErrTPMUnavailable) {
		t.Fatalf("missing path: %v, want ErrTPMUnavailable", err)
	}
}

// busRecorder keeps every byte that crosses the TPM bus (here swtpm's socket) both
// ways, as a probe on the LPC/SPI bus or a process reading the socket would.
type busRecorder struct {
	io.ReadWriteCloser
	mu  sync.Mutex
	bus []byte
}

func (r *busRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.bus = append(r.bus, p...)
	r.mu.Unlock()
	return r.ReadWriteCloser.Write(p)
}

func (r *busRecorder) Read(p []byte) (int, error) {
	n, err := r.ReadWriteCloser.Read(p)
	r.mu.Lock()
	r.bus = append(r.bus, p[:n]...)
	r.mu.Unlock()
	return n, err
}

// TestTPMSecretsNeverCrossTheBus: authorisation values (the PIN-, PUK- and
// management-key-derived secrets), sealed data, an unsealed secret and a new
// authValue never cross the bus in the clear: the key store authorises with
// salted HMAC sessions that encrypt the commands' and responses' parameters.
func TestTPMSecretsNeverCrossTheBus(t *testing.T) {
	tp := tpmtest.Start(t)
	conn, err := tp.Dial()
	if err != nil {
		t.Fatal(err)
	}
	rec := &busRecorder{ReadWriteCloser: conn}
	ks, err := OpenTPM(rec, filepath.Join(t.TempDir(), "tpm.key"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	// Zero bytes inside: authValues are random or derived, and one in eight has one.
	marker := func(b byte) []byte { m := bytes.Repeat([]byte{b}, 16); m[3], m[9] = 0, 0; return m }
	auth, newAuth, data := marker(0xA5), marker(0x5A), marker(0xC3)

	blob, err := ks.seal(data, auth, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ks.unseal(blob, auth); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("unseal = %x, %v", got, err)
	}
	for _, alg := range []Algorithm{AlgECCP256, AlgRSA2048} {
		k, err := ks.generate(alg, auth, true)
		if err != nil {
			t.Fatal(err)
		}
		in := make([]byte, 32)
		if alg == AlgRSA2048 {
			in = make([]byte, 256)
			in[255] = 1
		}
		if _, err := k.sign(auth, in); err != nil {
			t.Fatalf("sign: %v", err)
		}
		k2, err := k.changeAuth(auth, newAuth, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k2.sign(newAuth, in); err != nil {
			t.Fatalf("sign with the new auth: %v", err)
		}
		if _, err := k2.sign(auth, in); err == nil {
			t.Fatal("the old auth still signs")
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for name, secret := range map[string][]byte{"an authValue": auth, "a new authValue": newAuth, "sealed data": data} {
		if bytes.Contains(rec.bus, secret[:8]) || bytes.Contains(rec.bus, secret[8:]) {
			t.Errorf("%s crossed the TPM bus in the clear", name)
		}
	}
}
