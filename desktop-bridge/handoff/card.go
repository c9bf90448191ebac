package handoff

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/server/cardspec"
)

// The card is personalised with piv-go through PC/SC exactly as a hardware PIV token
// would be: nothing here knows that the card is software.

// pukRetries is the PUK's retry count; the PIN's comes from the policy.
const pukRetries = 3

// pivCard is an open card and what a handler needs to know about it.
type pivCard struct {
	yk      *piv.YubiKey
	reader  string
	version piv.Version
}

// openCard opens the card in reader, retrying while pcscd finishes noticing a card that
// was just inserted, and checks that it is the card with the expected serial.
func openCard(ctx context.Context, reader string, serial uint32, timeout time.Duration) (*pivCard, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		yk, err := tryOpen(reader)
		if err == nil {
			c := &pivCard{yk: yk, reader: reader, version: yk.Version()}
			got, err := yk.Serial()
			if err != nil {
				yk.Close()
				return nil, fmt.Errorf("read card serial: %w", err)
			}
			if got != serial {
				yk.Close()
				return nil, fmt.Errorf("open card: reader %q holds card %d, not %d", reader, got, serial)
			}
			return c, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open card in %q: %w", reader, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func tryOpen(reader string) (*piv.YubiKey, error) {
	readers, err := piv.Cards()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(readers, reader) {
		return nil, fmt.Errorf("reader %q not present", reader)
	}
	return piv.Open(reader)
}

// secure sets the retry counts, the management key, the PUK and the PIN. SetRetries
// resets PIN and PUK to their defaults, so it comes first, while they still are.
func (c *pivCard) secure(mgmtKey []byte, puk, pin string, pinRetries int) error {
	// The server's key is AES-192. piv-go sets a 24-byte key as AES-192 only on cards
	// that report 5.4.0 or later; on older ones it would silently become 3DES.
	if c.version.Major < 5 || (c.version.Major == 5 && c.version.Minor < 4) {
		return fmt.Errorf("secure card: version %d.%d.%d cannot hold an AES-192 management key",
			c.version.Major, c.version.Minor, c.version.Patch)
	}
	if pinRetries > 0 {
		if err := c.yk.SetRetries(piv.DefaultManagementKey, piv.DefaultPIN, pinRetries, pukRetries); err != nil {
			return fmt.Errorf("set retry counts: %w", err)
		}
	}
	if err := c.yk.SetManagementKey(piv.DefaultManagementKey, mgmtKey); err != nil {
		return fmt.Errorf("set management key: %w", err)
	}
	if err := c.yk.SetPUK(piv.DefaultPUK, puk); err != nil {
		return fmt.Errorf("set PUK: %w", err)
	}
	if err := c.yk.SetPIN(piv.DefaultPIN, pin); err != nil {
		return fmt.Errorf("set PIN: %w", err)
	}
	return nil
}

// generateKeys makes a key in each requested slot and returns, per slot, a CSR signed
// by the card and the card's attestation of the key.
func (c *pivCard) generateKeys(mgmtKey []byte, pin string, specs []api.CertificateSpec, commonName string) ([]api.KeySubmission, error) {
	return c.generateKeysInto(mgmtKey, pin, specs, commonName, pivSlot)
}

// generateKeysInto is generateKeys with the key for a slot made in the slot into names
// (a renewal makes it in a retired slot and moves it into place later); the submission
// names the slot the certificate is for.
func (c *pivCard) generateKeysInto(mgmtKey []byte, pin string, specs []api.CertificateSpec, commonName string,
	into func(slot string) (piv.Slot, error)) ([]api.KeySubmission, error) {
	signer, err := c.yk.AttestationCertificate()
	if err != nil {
		return nil, fmt.Errorf("read attestation certificate: %w", err)
	}
	signerPEM := encodePEM("CERTIFICATE", signer.Raw)
	out := make([]api.KeySubmission, 0, len(specs))
	for _, spec := range specs {
		slot, err := into(spec.Slot)
		if err != nil {
			return nil, err
		}
		alg, err := pivAlgorithm(spec.Algorithm)
		if err != nil {
			return nil, err
		}
		pub, err := c.yk.GenerateKey(mgmtKey, slot, piv.Key{
			Algorithm: alg, PINPolicy: piv.PINPolicyOnce, TouchPolicy: piv.TouchPolicyNever,
		})
		if err != nil {
			return nil, fmt.Errorf("generate key in slot %s: %w", spec.Slot, err)
		}
		priv, err := c.yk.PrivateKey(slot, pub, piv.KeyAuth{PIN: pin})
		if err != nil {
			return nil, fmt.Errorf("use key in slot %s: %w", spec.Slot, err)
		}
		s, ok := priv.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("use key in slot %s: %T cannot sign", spec.Slot, priv)
		}
		// The server sets the certificate's subject and names; the CSR proves the key.
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject: pkix.Name{CommonName: commonName},
		}, s)
		if err != nil {
			return nil, fmt.Errorf("sign request for slot %s: %w", spec.Slot, err)
		}
		att, err := c.yk.Attest(slot)
		if err != nil {
			return nil, fmt.Errorf("attest slot %s: %w", spec.Slot, err)
		}
		if !samePublicKey(pub, att.PublicKey) {
			return nil, fmt.Errorf("attest slot %s: the card attests another key than the one it generated", spec.Slot)
		}
		attPEM := encodePEM("CERTIFICATE", att.Raw)
		out = append(out, api.KeySubmission{
			Slot:              strings.ToUpper(spec.Slot),
			Template:          spec.Template,
			Csr:               encodePEM("CERTIFICATE REQUEST", csr),
			Attestation:       &attPEM,
			AttestationSigner: &signerPEM,
		})
	}
	return out, nil
}

// storeCertificates writes each issued certificate into its slot, after checking that
// it certifies the key the slot holds.
func (c *pivCard) storeCertificates(mgmtKey []byte, certs []api.IssuedCertificate) error {
	for _, ic := range certs {
		cert, err := c.checkCertificate(ic, pivSlot)
		if err != nil {
			return err
		}
		slot, err := pivSlot(ic.Slot)
		if err != nil {
			return err
		}
		if err := c.yk.SetCertificate(mgmtKey, slot, cert); err != nil {
			return fmt.Errorf("store certificate in slot %s: %w", ic.Slot, err)
		}
	}
	return nil
}

// checkCertificate parses an issued certificate and checks that it certifies the key
// of the slot keyIn names for its slot.
func (c *pivCard) checkCertificate(ic api.IssuedCertificate, keyIn func(slot string) (piv.Slot, error)) (*x509.Certificate, error) {
	cert, err := parseCertificatePEM(ic.Pem)
	if err != nil {
		return nil, fmt.Errorf("parse certificate for slot %s: %w", ic.Slot, err)
	}
	slot, err := keyIn(ic.Slot)
	if err != nil {
		return nil, err
	}
	info, err := c.yk.KeyInfo(slot)
	if err != nil {
		return nil, fmt.Errorf("read key of slot %s: %w", ic.Slot, err)
	}
	if !samePublicKey(info.PublicKey, cert.PublicKey) {
		return nil, fmt.Errorf("store certificate: the certificate for slot %s is not for the slot's key", ic.Slot)
	}
	return cert, nil
}

func (c *pivCard) close() {
	if c != nil && c.yk != nil {
		c.yk.Close()
	}
}

func pivSlot(s string) (piv.Slot, error) {
	switch strings.ToUpper(s) {
	case "9A":
		return piv.SlotAuthentication, nil
	case "9C":
		return piv.SlotSignature, nil
	case "9D":
		return piv.SlotKeyManagement, nil
	case "9E":
		return piv.SlotCardAuthentication, nil
	}
	return piv.Slot{}, fmt.Errorf("unsupported PIV slot %q", s)
}

func pivAlgorithm(a cardspec.KeyAlgorithm) (piv.Algorithm, error) {
	switch a {
	case cardspec.ECCP256:
		return piv.AlgorithmEC256, nil
	case cardspec.ECCP384:
		return piv.AlgorithmEC384, nil
	case cardspec.RSA2048:
		return piv.AlgorithmRSA2048, nil
	}
	return 0, fmt.Errorf("unsupported key algorithm %q", a)
}

func encodePEM(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func parseCertificatePEM(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}

func samePublicKey(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}
