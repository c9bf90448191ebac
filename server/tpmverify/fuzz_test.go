package tpmverify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
)

// The Desktop App's evidence is hostile input: whatever bytes come, the checks refuse
// with a reason, never panic, and never accept.

func FuzzNewChallenge(f *testing.F) {
	f.Add([]byte{0x30, 0x82, 0x01}, tpm2.Marshal(&tpm2.ECCEKTemplate))
	f.Add([]byte{}, []byte{0, 1, 0, 0xb})
	f.Fuzz(func(t *testing.T, ek, ak []byte) {
		var v *Verifier
		if _, err := v.NewChallenge(Identity{EKCert: ek, AKPublic: ak}, time.Unix(0, 0)); err == nil {
			t.Fatal("a challenge for no EK certificate")
		} else if ReasonOf(err) == "" {
			t.Fatalf("refusal without a reason: %v", err)
		}
	})
}

func FuzzCertified(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s := &Session{akKey: &k.PublicKey, nonce: Nonce(make([]byte, SecretSize))}
	f.Add(tpm2.Marshal(&tpm2.ECCSRKTemplate), []byte{0xff, 'T', 'C', 'G', 0x80, 0x17}, []byte{0, 0x18, 0, 0xb, 0, 1, 1, 0, 1, 1})
	f.Add([]byte{1}, []byte{2}, []byte{3})
	f.Fuzz(func(t *testing.T, pub, info, sig []byte) {
		err := s.Certified(pub, info, sig, &k.PublicKey)
		if err == nil {
			t.Fatal("accepted evidence nobody signed")
		}
		if ReasonOf(err) == "" {
			t.Fatalf("refusal without a reason: %v", err)
		}
	})
}
