package tpmevidence_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
	"github.com/vscard/vscard/desktop-bridge/tpmevidence"
	"github.com/vscard/vscard/server/tpmverify"
)

// subjectKey creates an ECC P-256 signing key under the SRK, the way a TPM key store
// makes a card key, and loads it. fixed false makes a key that may leave the TPM.
func subjectKey(t *testing.T, tpm transport.TPM, fixed bool) (tpm2.AuthHandle, crypto.PublicKey) {
	t.Helper()
	srk, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(tpm)
	if err != nil {
		t.Fatalf("create SRK: %v", err)
	}
	// swtpm holds three objects: the SRK leaves as soon as the key is loaded.
	defer func() { _, _ = tpm2.FlushContext{FlushHandle: srk.ObjectHandle}.Execute(tpm) }()
	tmpl := tpm2.TPMTPublic{
		Type: tpm2.TPMAlgECC, NameAlg: tpm2.TPMAlgSHA256,
		ObjectAttributes: tpm2.TPMAObject{
			FixedTPM: fixed, FixedParent: fixed, SensitiveDataOrigin: true,
			UserWithAuth: true, SignEncrypt: true,
		},
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{CurveID: tpm2.TPMECCNistP256}),
	}
	c, err := tpm2.Create{
		ParentHandle: tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name},
		InPublic:     tpm2.New2B(tmpl),
	}.Execute(tpm)
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	l, err := tpm2.Load{
		ParentHandle: tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name},
		InPrivate:    c.OutPrivate, InPublic: c.OutPublic,
	}.Execute(tpm)
	if err != nil {
		t.Fatalf("load key: %v", err)
	}
	t.Cleanup(func() { _, _ = tpm2.FlushContext{FlushHandle: l.ObjectHandle}.Execute(tpm) })
	pub, err := c.OutPublic.Contents()
	if err != nil {
		t.Fatal(err)
	}
	k, err := tpm2.Pub(*pub)
	if err != nil {
		t.Fatal(err)
	}
	return tpm2.AuthHandle{Handle: l.ObjectHandle, Name: l.Name, Auth: tpm2.PasswordAuth(nil)}, k
}

type fixture struct {
	a   *tpmevidence.Attestor
	v   *tpmverify.Verifier
	now time.Time
}

func setup(t *testing.T) (*fixture, transport.TPM) {
	t.Helper()
	tp := tpmtest.Start(t)
	conn, err := tp.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	tpm := transport.FromReadWriter(conn)
	a, err := tpmevidence.Open(tpm)
	if err != nil {
		t.Fatalf("open attestor: %v", err)
	}
	t.Cleanup(a.Close)
	root, inter := tpmtest.LocalCA(t)
	return &fixture{a: a, v: tpmverify.New([]*x509Cert{root}, []*x509Cert{inter}), now: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}, tpm
}

// answer runs one challenge: the server makes it, the TPM activates it.
func (f *fixture) answer(t *testing.T) (*tpmverify.Challenge, []byte) {
	t.Helper()
	ch, err := f.v.NewChallenge(f.a.Identity(), f.now)
	if err != nil {
		t.Fatalf("new challenge: %v", err)
	}
	secret, err := f.a.Activate(ch.CredentialBlob, ch.EncryptedSecret)
	if err != nil {
		t.Fatalf("activate: %v", err)
	}
	return ch, secret
}

func TestEvidence(t *testing.T) {
	f, tpm := setup(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	t.Run("ok", func(t *testing.T) {
		ch, secret := f.answer(t)
		s, err := f.v.Open(f.a.Identity(), secret, ch.Digest, ch.ExpiresAt, f.now)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		fixedKey, fixedPub := subjectKey(t, tpm, true)
		c, err := f.a.Certify(fixedKey, secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Certified(c.KeyPublic, c.CertifyInfo, c.Signature, fixedPub); err != nil {
			t.Fatalf("certified: %v", err)
		}
		// As vcard.Card.CertifyTPMKey returns it: the TPM2B_ATTEST, size first.
		sized := append([]byte{byte(len(c.CertifyInfo) >> 8), byte(len(c.CertifyInfo))}, c.CertifyInfo...)
		if err := s.Certified(c.KeyPublic, sized, c.Signature, fixedPub); err != nil {
			t.Fatalf("certified, TPM2B_ATTEST: %v", err)
		}
		if s.RootErr != nil {
			t.Fatalf("the EK does not chain to swtpm's local CA: %v", s.RootErr)
		}
	})

	cases := []struct {
		name string
		run  func(t *testing.T) error
		want tpmverify.Reason
	}{
		{"error/wrong-key", func(t *testing.T) error {
			ch, secret := f.answer(t)
			s, err := f.v.Open(f.a.Identity(), secret, ch.Digest, ch.ExpiresAt, f.now)
			if err != nil {
				return err
			}
			fixedKey, _ := subjectKey(t, tpm, true)
			c, err := f.a.Certify(fixedKey, secret)
			if err != nil {
				t.Fatal(err)
			}
			return s.Certified(c.KeyPublic, c.CertifyInfo, c.Signature, &other.PublicKey)
		}, tpmverify.KeyMismatch},
		{"error/not-fixed", func(t *testing.T) error {
			ch, secret := f.answer(t)
			s, err := f.v.Open(f.a.Identity(), secret, ch.Digest, ch.ExpiresAt, f.now)
			if err != nil {
				return err
			}
			looseKey, loosePub := subjectKey(t, tpm, false)
			c, err := f.a.Certify(looseKey, secret)
			if err != nil {
				t.Fatal(err)
			}
			return s.Certified(c.KeyPublic, c.CertifyInfo, c.Signature, loosePub)
		}, tpmverify.KeyNotFixed},
		{"error/other-root", func(t *testing.T) error {
			return rootErr(t, f, tpmverify.New([]*x509Cert{selfSigned(t)}, nil))
		}, tpmverify.RootUnknown},
		{"error/no-roots", func(t *testing.T) error {
			return rootErr(t, f, nil)
		}, tpmverify.RootUnknown},
		{"error/expired", func(t *testing.T) error {
			ch, secret := f.answer(t)
			_, err := f.v.Open(f.a.Identity(), secret, ch.Digest, ch.ExpiresAt, ch.ExpiresAt)
			return err
		}, tpmverify.ChallengeFailed},
		{"error/wrong-secret", func(t *testing.T) error {
			ch, _ := f.answer(t)
			_, err := f.v.Open(f.a.Identity(), make([]byte, tpmverify.SecretSize), ch.Digest, ch.ExpiresAt, f.now)
			return err
		}, tpmverify.ChallengeFailed},
		{"error/certify-of-other-challenge", func(t *testing.T) error {
			_, oldSecret := f.answer(t)
			fixedKey, fixedPub := subjectKey(t, tpm, true)
			old, err := f.a.Certify(fixedKey, oldSecret)
			if err != nil {
				t.Fatal(err)
			}
			ch, secret := f.answer(t)
			s, err := f.v.Open(f.a.Identity(), secret, ch.Digest, ch.ExpiresAt, f.now)
			if err != nil {
				return err
			}
			return s.Certified(old.KeyPublic, old.CertifyInfo, old.Signature, fixedPub)
		}, tpmverify.ChallengeFailed},
		{"error/other-ak", func(t *testing.T) error {
			// An AK that is not the one the credential was made for cannot answer.
			ch, secret := f.answer(t)
			id := f.a.Identity()
			pub, _ := tpm2.Unmarshal[tpm2.TPMTPublic](id.AKPublic)
			pub.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
				X: tpm2.TPM2BECCParameter{Buffer: make([]byte, 32)}, Y: tpm2.TPM2BECCParameter{Buffer: make([]byte, 32)},
			})
			id.AKPublic = tpm2.Marshal(pub)
			_, err := f.v.Open(id, secret, ch.Digest, ch.ExpiresAt, f.now)
			return err
		}, tpmverify.ChallengeFailed},
		{"error/tampered-signature", func(t *testing.T) error {
			ch, secret := f.answer(t)
			s, err := f.v.Open(f.a.Identity(), secret, ch.Digest, ch.ExpiresAt, f.now)
			if err != nil {
				return err
			}
			fixedKey, fixedPub := subjectKey(t, tpm, true)
			c, err := f.a.Certify(fixedKey, secret)
			if err != nil {
				t.Fatal(err)
			}
			c.CertifyInfo[len(c.CertifyInfo)-1] ^= 1
			return s.Certified(c.KeyPublic, c.CertifyInfo, c.Signature, fixedPub)
		}, tpmverify.EvidenceInvalid},
		{"error/garbage", func(t *testing.T) error {
			_, err := f.v.NewChallenge(tpmverify.Identity{EKCert: []byte{0x30, 0x82}, AKPublic: []byte{1}}, f.now)
			return err
		}, tpmverify.EvidenceInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(t)
			if got := tpmverify.ReasonOf(err); got != c.want {
				t.Fatalf("reason %q (%v), want %q", got, err, c.want)
			}
		})
	}
}

// TestActivationNeedsThisTPM: a credential made for one TPM's EK cannot be activated by
// another TPM, even one whose EK chains to the same root.
func TestActivationNeedsThisTPM(t *testing.T) {
	f1, _ := setup(t)
	f2, _ := setup(t)
	ch, err := f1.v.NewChallenge(f1.a.Identity(), f1.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f2.a.Activate(ch.CredentialBlob, ch.EncryptedSecret); err == nil {
		t.Fatal("another TPM activated the credential")
	}
}

type x509Cert = x509.Certificate

// rootErr answers a challenge of v and returns the session's RootErr: the activation
// works with any verifier, the chain only with the TPM's root.
func rootErr(t *testing.T, f *fixture, v *tpmverify.Verifier) error {
	t.Helper()
	ch, err := v.NewChallenge(f.a.Identity(), f.now)
	if err != nil {
		t.Fatalf("new challenge: %v", err)
	}
	secret, err := f.a.Activate(ch.CredentialBlob, ch.EncryptedSecret)
	if err != nil {
		t.Fatalf("activate: %v", err)
	}
	s, err := v.Open(f.a.Identity(), secret, ch.Digest, ch.ExpiresAt, f.now)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s.RootErr
}

// selfSigned is a root no TPM chains to.
func selfSigned(t *testing.T) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other TPM root"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Now().AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}
