package vcard_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/pcsctest"
)

// BenchmarkSignPCSC measures signatures through piv-go, libpcsclite, pcscd,
// the vpcd driver, TCP and the card: what a PC/SC client of the card sees.
// With PIN policy "once" piv-go sends an extra VERIFY status probe before
// each signature.
func BenchmarkSignPCSC(b *testing.B) {
	for _, kind := range keyStoreKinds {
		b.Run(kind, func(b *testing.B) { benchmarkSignPCSC(b, kind) })
	}
}

func benchmarkSignPCSC(b *testing.B, kind string) {
	env := pcsctest.Start(b, 1)
	c, _, _ := newCardOn(b, kind, 7770001)
	env.Insert(b, 0, c)
	yk := env.OpenPIV(b, 0)
	cases := []struct {
		name string
		slot piv.Slot
		alg  piv.Algorithm
		pp   piv.PINPolicy
	}{
		{"p256/pin=never", piv.SlotCardAuthentication, piv.AlgorithmEC256, piv.PINPolicyNever},
		{"p256/pin=once", piv.SlotAuthentication, piv.AlgorithmEC256, piv.PINPolicyOnce},
		{"rsa2048/pin=never", piv.SlotKeyManagement, piv.AlgorithmRSA2048, piv.PINPolicyNever},
		{"rsa2048/pin=once", piv.SlotSignature, piv.AlgorithmRSA2048, piv.PINPolicyOnce},
	}
	for _, bc := range cases {
		pub, err := yk.GenerateKey(piv.DefaultManagementKey, bc.slot, piv.Key{Algorithm: bc.alg, PINPolicy: bc.pp, TouchPolicy: piv.TouchPolicyNever})
		if err != nil {
			b.Fatal(err)
		}
		priv, err := yk.PrivateKey(bc.slot, pub, piv.KeyAuth{PIN: piv.DefaultPIN, PINPolicy: bc.pp})
		if err != nil {
			b.Fatal(err)
		}
		signer := priv.(crypto.Signer)
		digest := sha256.Sum256([]byte(bc.name))
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sig/s")
		})
	}
}

// BenchmarkPersonalisePCSC measures what the bridge does to a new card
// through PC/SC: set the management key, the PIN and the PUK, generate two
// P-256 keys and write two certificates. The card is reset to factory state
// between iterations, outside the timer.
func BenchmarkPersonalisePCSC(b *testing.B) {
	for _, kind := range keyStoreKinds {
		b.Run(kind, func(b *testing.B) { benchmarkPersonalisePCSC(b, kind) })
	}
}

func benchmarkPersonalisePCSC(b *testing.B, kind string) {
	env := pcsctest.Start(b, 1)
	c, _, _ := newCardOn(b, kind, 7770002)
	env.Insert(b, 0, c)
	yk := env.OpenPIV(b, 0)
	mgmt := bytes.Repeat([]byte{0x3C}, 24)
	slots := []piv.Slot{piv.SlotAuthentication, piv.SlotSignature}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := yk.Reset(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := yk.SetManagementKey(piv.DefaultManagementKey, mgmt); err != nil {
			b.Fatal(err)
		}
		if err := yk.SetPIN(piv.DefaultPIN, "48151623"); err != nil {
			b.Fatal(err)
		}
		if err := yk.SetPUK(piv.DefaultPUK, "42424242"); err != nil {
			b.Fatal(err)
		}
		for _, s := range slots {
			pub, err := yk.GenerateKey(mgmt, s, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyOnce, TouchPolicy: piv.TouchPolicyNever})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cert := selfSigned(b, pub, "bench "+s.String()) // the CA's work, not the card's
			b.StartTimer()
			if err := yk.SetCertificate(mgmt, s, cert); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cards/s")
}

// BenchmarkGeneratePCSC measures GENERATE per algorithm through piv-go: key
// creation in software against key creation in the TPM (swtpm, whose RSA
// prime search is libtpms' on the host CPU, as a firmware TPM's would be on
// its own, usually slower, core).
func BenchmarkGeneratePCSC(b *testing.B) {
	for _, kind := range keyStoreKinds {
		b.Run(kind, func(b *testing.B) {
			env := pcsctest.Start(b, 1)
			c, _, _ := newCardOn(b, kind, 7770003)
			env.Insert(b, 0, c)
			yk := env.OpenPIV(b, 0)
			for _, alg := range []struct {
				name string
				alg  piv.Algorithm
			}{{"p256", piv.AlgorithmEC256}, {"p384", piv.AlgorithmEC384}, {"rsa2048", piv.AlgorithmRSA2048}} {
				b.Run(alg.name, func(b *testing.B) {
					for b.Loop() {
						if _, err := yk.GenerateKey(piv.DefaultManagementKey, piv.SlotAuthentication,
							piv.Key{Algorithm: alg.alg, PINPolicy: piv.PINPolicyOnce, TouchPolicy: piv.TouchPolicyNever}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
