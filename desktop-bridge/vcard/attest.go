package vcard

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

// YubiKey attestation extensions (developers.yubico.com/PIV/Introduction/PIV_attestation.html).
var (
	oidFirmware = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 41482, 3, 3}
	oidSerial   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 41482, 3, 7}
	oidPolicy   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 41482, 3, 8}
)

// attestationSubjectPrefix is the common name prefix piv-go reads the slot
// from.
const attestationSubjectPrefix = "YubiKey PIV Attestation "

// newAttestationIdentity creates the card's attestation key and a
// self-signed attestation CA certificate for it.
func newAttestationIdentity(serial uint32) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate attestation key: %w", err)
	}
	der, err := attestationCA(serial, key)
	return key, der, err
}

// attestationCA makes the self-signed attestation CA certificate of key.
func attestationCA(serial uint32, key crypto.Signer) ([]byte, error) {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{Organization: []string{"vscard"}, CommonName: fmt.Sprintf("vscard PIV Attestation %d", serial)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(30, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create attestation certificate: %w", err)
	}
	return der, nil
}

func randomSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

// attest implements the YubiKey ATTEST command: a certificate for the key in
// slot P1, signed by the attestation key in F9.
func (c *Card) attest(cmd *command) response {
	if cmd.p2 != 0x00 || len(cmd.data) != 0 || !asymmetricSlot(cmd.p1) {
		return status(swWrongP1P2)
	}
	k := c.st.keys[cmd.p1]
	if k == nil || k.origin != originGenerated {
		// piv-go maps 6A80 from ATTEST to ErrNotFound.
		return status(swWrongData)
	}
	der, err := c.attestationCertificate(cmd.p1, k)
	if err != nil {
		return status(swUnknown)
	}
	return reply(der)
}

func (c *Card) attestationCertificate(ref byte, k *slotKey) ([]byte, error) {
	att := c.st.keys[slotAttestation]
	if att == nil {
		return nil, fmt.Errorf("attest: no attestation key")
	}
	issuer, err := parseCertObject(c.st.objects[objAttestation])
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	signer, ok := att.priv.(crypto.Signer)
	if tk, inTPM := att.priv.(*tpmKey); inTPM {
		signer, ok = tpmSigner{k: tk, auth: c.keyAuth(tk)}, true
	}
	if !ok {
		return nil, fmt.Errorf("attest: attestation key cannot sign")
	}
	serial, err := asn1.Marshal(int64(c.st.serial))
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	v := c.st.version
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("%s%02x", attestationSubjectPrefix, ref)},
		NotBefore:    issuer.NotBefore,
		NotAfter:     issuer.NotAfter,
		ExtraExtensions: []pkix.Extension{
			{Id: oidFirmware, Value: v[:]},
			{Id: oidSerial, Value: serial},
			{Id: oidPolicy, Value: []byte{k.pinPolicy, k.touchPolicy}},
		},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, k.public(), signer)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	return der, nil
}

// parseCertObject reads the certificate from the content of a certificate
// data object (70 certificate, 71 info, FE LRC).
func parseCertObject(content []byte) (*x509.Certificate, error) {
	items, err := parseTLVs(content)
	if err != nil {
		return nil, fmt.Errorf("parse certificate object: %w", err)
	}
	der, ok := find(items, 0x70)
	if !ok {
		return nil, fmt.Errorf("parse certificate object: no certificate")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate object: %w", err)
	}
	return cert, nil
}

// certObject builds the content of a certificate data object.
func certObject(der []byte) []byte {
	out := tlvBytes(0x70, der)
	out = appendTLV(out, 0x71, []byte{0x00})
	return appendTLV(out, 0xFE, nil)
}
