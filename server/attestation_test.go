package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/servertest"
)

// attestationCA plays a card vendor: a root, and a per-card signer (slot F9) under it.
type attestationCA struct {
	rootPEM   []byte
	signer    *x509.Certificate
	signerKey crypto.Signer
}

func newAttestationCA(t *testing.T) *attestationCA {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootTpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Attestation Root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, _ := x509.CreateCertificate(rand.Reader, rootTpl, rootTpl, &rootKey.PublicKey, rootKey)
	root, _ := x509.ParseCertificate(rootDER)
	signerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signerTpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test Attestation Signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	signerDER, _ := x509.CreateCertificate(rand.Reader, signerTpl, root, &signerKey.PublicKey, rootKey)
	signer, _ := x509.ParseCertificate(signerDER)
	return &attestationCA{
		rootPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}),
		signer:    signer,
		signerKey: signerKey,
	}
}

// attest returns the slot attestation of pub, signed by the card's signer.
func (a *attestationCA) attest(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "PIV Attestation"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, a.signer, pub, a.signerKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func (a *attestationCA) signerPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.signer.Raw}))
}

// TestAttestationIsVerified: with attestation roots configured, the server issues only for
// keys whose attestation chains to a root through the card's signer.
func TestAttestationIsVerified(t *testing.T) {
	vendor := newAttestationCA(t)
	stranger := newAttestationCA(t)
	roots := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(roots, vendor.rootPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	env := servertest.Start(t, generous, func(c *server.Config) { c.AttestationRootsFile = roots })
	alice := env.SignIn(t, servertest.Alice)

	type key struct {
		priv *ecdsa.PrivateKey
		csr  string
	}
	newKey := func() key {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, k)
		return key{k, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))}
	}
	cases := []struct {
		name   string
		attest func(o *order, k key) (att, signer string)
		code   string
	}{
		{"ok/attested by the vendor", func(o *order, k key) (string, string) { return vendor.attest(t, &k.priv.PublicKey), vendor.signerPEM() }, ""},
		{"error/no attestation", func(o *order, k key) (string, string) { return "", "" }, "INVALID_INPUT"},
		{"error/another key attested", func(o *order, k key) (string, string) {
			return vendor.attest(t, &newKey().priv.PublicKey), vendor.signerPEM()
		}, "INVALID_INPUT"},
		{"error/untrusted signer", func(o *order, k key) (string, string) {
			return stranger.attest(t, &k.priv.PublicKey), stranger.signerPEM()
		}, "INVALID_INPUT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := start(t, env, alice)
			o.t = t
			defer func() { _ = alice.Do(context.Background(), qCancel, map[string]any{"id": o.id}, nil) }()
			o.next()
			o.mustClaim()
			o.mustCreate()
			var keys []map[string]any
			for _, spec := range o.claim.Card.Certificates {
				k := newKey()
				att, signer := tc.attest(o, k)
				keys = append(keys, map[string]any{"slot": spec.Slot, "template": spec.Template, "csr": k.csr, "attestation": att, "attestationSigner": signer})
			}
			err := o.bridge.Do(context.Background(), qSubmit, map[string]any{"id": o.id, "keys": keys}, nil)
			if got := codeOf(err); got != tc.code {
				t.Fatalf("submit: %v, want %q", err, tc.code)
			}
			n, _ := env.Server.DB.Client.Certificate.Query().
				Where(certificate.OrderID(o.id), certificate.AttestationVerified(true)).Count(systemCtx())
			if want := map[string]int{"": len(keys)}[tc.code]; n != want {
				t.Errorf("%d certificates recorded as attested, want %d", n, want)
			}
		})
	}
}
