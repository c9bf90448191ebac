package vcard

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// akTemplate is a restricted ECDSA P-256 signing key, the shape of a TPM
// attestation key.
var akTemplate = tpm2.TPMTPublic{
	Type: tpm2.TPMAlgECC, NameAlg: tpm2.TPMAlgSHA256,
	ObjectAttributes: tpm2.TPMAObject{
		FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true, UserWithAuth: true,
		NoDA: true, Restricted: true, SignEncrypt: true,
	},
	Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
		Scheme: tpm2.TPMTECCScheme{
			Scheme:  tpm2.TPMAlgECDSA,
			Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSigSchemeECDSA{HashAlg: tpm2.TPMAlgSHA256}),
		},
		CurveID: tpm2.TPMECCNistP256,
	}),
}

// TestCertifyTPMKey certifies a slot key with an attestation key on the same
// TPM: the attestation names exactly the key's TPM2B_PUBLIC, carries the
// nonce, verifies under the AK, and the key has the attributes a verifier
// demands. A wrong PIN spends a try and certifies nothing.
func TestCertifyTPMKey(t *testing.T) {
	ks, _ := testTPMStore(t, 1000)
	c := newMemoryCard(t, Options{KeyStore: ks})
	authDefault(t, c)
	_, sw := call(t, c, insGenerate, 0, 0x9A, h("AC 03 80 01 11"))
	mustSW(t, swOK, sw, "generate")

	var ak tpm2.AuthHandle
	var akPub *ecdsa.PublicKey
	err := ks.Do(func(tpm transport.TPM) error {
		rsp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(akTemplate)}.Execute(tpm)
		if err != nil {
			return err
		}
		ak = tpm2.AuthHandle{Handle: rsp.ObjectHandle, Name: rsp.Name, Auth: tpm2.PasswordAuth(nil)}
		pub, err := rsp.OutPublic.Contents()
		if err != nil {
			return err
		}
		p, err := tpm2.Pub(*pub)
		akPub, _ = p.(*ecdsa.PublicKey)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	if _, _, err := c.CertifyTPMKey(0x9A, "999999", ak, []byte("nonce")); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("certify with wrong PIN: %v", err)
	}
	if left, _ := c.PINStatus(); left != 2 {
		t.Errorf("tries after wrong PIN %d, want 2", left)
	}
	attestB, sigB, err := c.CertifyTPMKey(0x9A, defaultPIN, ak, []byte("nonce"))
	if err != nil {
		t.Fatal(err)
	}
	pubB, err := c.TPMKeyPublic(0x9A)
	if err != nil {
		t.Fatal(err)
	}
	pub2b, err := tpm2.Unmarshal[tpm2.TPM2BPublic](pubB)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := pub2b.Contents()
	if err != nil {
		t.Fatal(err)
	}
	a := pub.ObjectAttributes
	if !a.FixedTPM || !a.FixedParent || !a.SensitiveDataOrigin || a.AdminWithPolicy {
		t.Errorf("key attributes %+v", a)
	}
	name, err := tpm2.ObjectName(pub)
	if err != nil {
		t.Fatal(err)
	}
	att2b, err := tpm2.Unmarshal[tpm2.TPM2BAttest](attestB)
	if err != nil {
		t.Fatal(err)
	}
	att, err := att2b.Contents()
	if err != nil {
		t.Fatal(err)
	}
	info, err := att.Attested.Certify()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(info.Name.Buffer, name.Buffer) || string(att.ExtraData.Buffer) != "nonce" {
		t.Errorf("attestation names %x with %q, want %x", info.Name.Buffer, att.ExtraData.Buffer, name.Buffer)
	}
	sig, err := tpm2.Unmarshal[tpm2.TPMTSignature](sigB)
	if err != nil {
		t.Fatal(err)
	}
	es, err := sig.Signature.ECDSA()
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(tpm2.Marshal(att))
	if !ecdsa.Verify(akPub, digest[:], new(big.Int).SetBytes(es.SignatureR.Buffer), new(big.Int).SetBytes(es.SignatureS.Buffer)) {
		t.Error("certification does not verify under the AK")
	}
	// The right PIN gives the tries back, as VERIFY does.
	if left, _ := c.PINStatus(); left != 3 {
		t.Errorf("tries after right PIN %d, want 3", left)
	}
}
