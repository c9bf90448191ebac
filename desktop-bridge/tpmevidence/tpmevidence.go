// Package tpmevidence makes, on the desktop, the evidence that a card key lives in this
// computer's TPM, for the server's check (server/tpmverify, which describes the proof).
//
// An Attestor uses the TPM's endorsement key (EK, recreated from the TPM's endorsement
// seed with the TCG default template, the key the manufacturer's EK certificate in NV
// certifies) and an attestation key (AK): a restricted ECDSA P-256 signing key, also a
// primary of the endorsement hierarchy, so the same TPM always recreates the same AK and
// the Desktop App stores nothing for it. The flow for one order:
//
//	a, _ := tpmevidence.Open(tpm)           // EK, EK certificate, AK
//	ch := server.tpmChallenge(a.Identity())  // credential made for the EK and the AK's name
//	secret, _ := a.Activate(blob, encSecret) // only this TPM can do that
//	cert, _ := a.Certify(key, secret)        // TPM2_Certify of each card key by the AK
//
// The TPM is used through go-tpm's direct API, the same as the key store's, so both
// share one transport (a resource-managed /dev/tpmrm0 or a test's swtpm).
package tpmevidence

import (
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/vscard/vscard/server/tpmverify"
)

// The TCG's NV indices of the EK certificates (TCG EK Credential Profile 2.0, 2.2.1.4):
// RSA 2048 and ECC NIST P-256, for the default (low range) EK templates.
const (
	EKCertRSA tpm2.TPMHandle = 0x01c00002
	EKCertECC tpm2.TPMHandle = 0x01c0000a
)

// ErrNoEKCertificate means the TPM has no EK certificate in NV: it cannot be attested
// (some firmware TPMs publish it online only).
var ErrNoEKCertificate = errors.New("the TPM has no endorsement key certificate")

// AKTemplate is the attestation key: a restricted signing key, so the TPM signs with it
// only structures it made itself (TPM2_Certify, TPM2_Quote), never a digest from outside.
var AKTemplate = tpm2.TPMTPublic{
	Type:    tpm2.TPMAlgECC,
	NameAlg: tpm2.TPMAlgSHA256,
	ObjectAttributes: tpm2.TPMAObject{
		FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true,
		UserWithAuth: true, Restricted: true, SignEncrypt: true,
	},
	Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
		Scheme: tpm2.TPMTECCScheme{
			Scheme:  tpm2.TPMAlgECDSA,
			Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSigSchemeECDSA{HashAlg: tpm2.TPMAlgSHA256}),
		},
		CurveID: tpm2.TPMECCNistP256,
	}),
	// A label in the unique field gives vscard its own AK, distinct from other
	// software's primaries made from the same template.
	Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
		X: tpm2.TPM2BECCParameter{Buffer: []byte("vscard attestation key")},
	}),
}

// Attestor holds the AK loaded in the TPM; Close flushes it.
type Attestor struct {
	tpm    transport.TPM
	ekCert []byte
	// ekTemplate is the EK's, recreated only for Activate: TPMs have few object slots,
	// and the card's keys need them more.
	ekTemplate tpm2.TPMTPublic
	ak         tpm2.NamedHandle
	akPub      []byte
}

// Open reads the EK certificate, recreates the EK that matches it and the AK.
func Open(tpm transport.TPM) (*Attestor, error) {
	a := &Attestor{tpm: tpm}
	tmpl := tpm2.RSAEKTemplate
	cert, err := readNV(tpm, EKCertRSA)
	if err != nil {
		tmpl = tpm2.ECCEKTemplate
		if cert, err = readNV(tpm, EKCertECC); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoEKCertificate, err)
		}
	}
	a.ekCert, a.ekTemplate = cert, tmpl
	ak, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHEndorsement, InPublic: tpm2.New2B(AKTemplate)}.Execute(tpm)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("create AK: %w", err)
	}
	a.ak = tpm2.NamedHandle{Handle: ak.ObjectHandle, Name: ak.Name}
	pub, err := ak.OutPublic.Contents()
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("read AK public: %w", err)
	}
	a.akPub = tpm2.Marshal(pub)
	return a, nil
}

// readNV reads a whole NV index, in pieces the TPM accepts.
func readNV(tpm transport.TPM, idx tpm2.TPMHandle) ([]byte, error) {
	rp, err := tpm2.NVReadPublic{NVIndex: idx}.Execute(tpm)
	if err != nil {
		return nil, fmt.Errorf("read NV %#x public: %w", idx, err)
	}
	nvPub, err := rp.NVPublic.Contents()
	if err != nil {
		return nil, fmt.Errorf("read NV %#x public: %w", idx, err)
	}
	const chunk = 512 // below every TPM's MAX_NV_BUFFER_SIZE
	var out []byte
	for off := uint16(0); off < nvPub.DataSize; {
		n := min(chunk, nvPub.DataSize-off)
		r, err := tpm2.NVRead{
			AuthHandle: tpm2.AuthHandle{Handle: idx, Name: rp.NVName, Auth: tpm2.PasswordAuth(nil)},
			NVIndex:    tpm2.NamedHandle{Handle: idx, Name: rp.NVName},
			Size:       n, Offset: off,
		}.Execute(tpm)
		if err != nil {
			return nil, fmt.Errorf("read NV %#x: %w", idx, err)
		}
		out = append(out, r.Data.Buffer...)
		off += n
	}
	return out, nil
}

// Identity is what the server needs to make a challenge.
func (a *Attestor) Identity() tpmverify.Identity {
	return tpmverify.Identity{EKCert: a.ekCert, AKPublic: a.akPub}
}

// AK is the loaded attestation key with its (empty) authorisation, for a
// TPM2_Certify that another package runs on the same connection
// (vcard.Card.CertifyTPMKey).
func (a *Attestor) AK() tpm2.AuthHandle {
	return tpm2.AuthHandle{Handle: a.ak.Handle, Name: a.ak.Name, Auth: tpm2.PasswordAuth(nil)}
}

// Activate returns the secret of the server's credential: TPM2_ActivateCredential with
// the AK as the credentialed object and the EK as the decryption key (its policy is the
// endorsement hierarchy's authorisation, empty on desktops).
func (a *Attestor) Activate(credentialBlob, encryptedSecret []byte) ([]byte, error) {
	ekPolicy := func(tpm transport.TPM, h tpm2.TPMISHPolicy, nonce tpm2.TPM2BNonce) error {
		_, err := tpm2.PolicySecret{AuthHandle: tpm2.TPMRHEndorsement, PolicySession: h, NonceTPM: nonce}.Execute(tpm)
		return err
	}
	ek, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHEndorsement, InPublic: tpm2.New2B(a.ekTemplate)}.Execute(a.tpm)
	if err != nil {
		return nil, fmt.Errorf("create EK: %w", err)
	}
	defer func() { _, _ = tpm2.FlushContext{FlushHandle: ek.ObjectHandle}.Execute(a.tpm) }()
	r, err := tpm2.ActivateCredential{
		ActivateHandle: tpm2.AuthHandle{Handle: a.ak.Handle, Name: a.ak.Name, Auth: tpm2.PasswordAuth(nil)},
		KeyHandle:      tpm2.AuthHandle{Handle: ek.ObjectHandle, Name: ek.Name, Auth: tpm2.Policy(tpm2.TPMAlgSHA256, 16, ekPolicy)},
		CredentialBlob: tpm2.TPM2BIDObject{Buffer: credentialBlob},
		Secret:         tpm2.TPM2BEncryptedSecret{Buffer: encryptedSecret},
	}.Execute(a.tpm)
	if err != nil {
		return nil, fmt.Errorf("activate credential: %w", err)
	}
	return r.CertInfo.Buffer, nil
}

// Certification is one card key's evidence: its public area and the AK's TPM2_Certify.
type Certification struct {
	KeyPublic, CertifyInfo, Signature []byte
}

// Certify has the AK certify key (loaded, with the authorisation its use needs), for the
// challenge whose activated secret is secret.
func (a *Attestor) Certify(key tpm2.AuthHandle, secret []byte) (*Certification, error) {
	rp, err := tpm2.ReadPublic{ObjectHandle: key.Handle}.Execute(a.tpm)
	if err != nil {
		return nil, fmt.Errorf("read key public: %w", err)
	}
	pub, err := rp.OutPublic.Contents()
	if err != nil {
		return nil, fmt.Errorf("read key public: %w", err)
	}
	if key.Name.Buffer == nil {
		key.Name = rp.Name
	}
	r, err := tpm2.Certify{
		ObjectHandle:   key,
		SignHandle:     tpm2.AuthHandle{Handle: a.ak.Handle, Name: a.ak.Name, Auth: tpm2.PasswordAuth(nil)},
		QualifyingData: tpm2.TPM2BData{Buffer: tpmverify.Nonce(secret)},
		InScheme:       tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgNull},
	}.Execute(a.tpm)
	if err != nil {
		return nil, fmt.Errorf("certify key: %w", err)
	}
	return &Certification{
		KeyPublic:   tpm2.Marshal(pub),
		CertifyInfo: r.CertifyInfo.Bytes(),
		Signature:   tpm2.Marshal(&r.Signature),
	}, nil
}

// Close flushes the AK from the TPM.
func (a *Attestor) Close() {
	if a.ak.Handle != 0 {
		_, _ = tpm2.FlushContext{FlushHandle: a.ak.Handle}.Execute(a.tpm)
	}
}
