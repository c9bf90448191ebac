package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The files of the CA folder.
const (
	rootCertFile    = "root.crt"
	rootKeyFile     = "root.key"
	issuingCertFile = "issuing.crt"
	issuingKeyFile  = "issuing.key"
)

var caFiles = []string{rootCertFile, rootKeyFile, issuingCertFile, issuingKeyFile}

// ErrInsecureKeyFile is returned (wrapped) by [Open] when a CA key file is readable or
// writable by the group or others.
var ErrInsecureKeyFile = errors.New("CA key file is accessible to group or others")

// keyPair is a CA certificate with its private key.
type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// loadOrCreate loads the CA from dir, or creates it when dir holds none of its files.
func loadOrCreate(dir string, cfg Config) (root, issuing keyPair, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return root, issuing, fmt.Errorf("create CA folder: %w", err)
	}
	var present, missing []string
	for _, name := range caFiles {
		_, err := os.Stat(filepath.Join(dir, name))
		switch {
		case err == nil:
			present = append(present, name)
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, name)
		default:
			return root, issuing, fmt.Errorf("check CA folder: %w", err)
		}
	}
	switch {
	case len(present) == 0:
		return create(dir, cfg)
	case len(missing) == 0:
		return load(dir, cfg)
	default:
		return root, issuing, fmt.Errorf("check CA folder %s: it holds %s but not %s; restore the missing files from a backup, or move the folder away to create a new CA",
			dir, strings.Join(present, ", "), strings.Join(missing, ", "))
	}
}

// create makes a new root and issuing CA and writes them to dir.
func create(dir string, cfg Config) (root, issuing keyPair, err error) {
	if err := os.Chmod(dir, 0o700); err != nil {
		return root, issuing, fmt.Errorf("restrict CA folder: %w", err)
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	rootKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return root, issuing, fmt.Errorf("generate root key: %w", err)
	}
	curve := elliptic.P256()
	if cfg.IssuingCurve == "P-384" {
		curve = elliptic.P384()
	}
	issuingKey, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		return root, issuing, fmt.Errorf("generate issuing key: %w", err)
	}

	rootTmpl, err := caTemplate(cfg.Organization+" Root CA", cfg.Organization, now, cfg.RootValidity, 1)
	if err != nil {
		return root, issuing, err
	}
	rootTmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return root, issuing, fmt.Errorf("sign root certificate: %w", err)
	}
	rootCert, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return root, issuing, fmt.Errorf("parse root certificate: %w", err)
	}

	issTmpl, err := caTemplate(cfg.Organization+" Issuing CA", cfg.Organization, now, cfg.IssuingValidity, 0)
	if err != nil {
		return root, issuing, err
	}
	// digitalSignature because the issuing CA signs OCSP responses itself.
	issTmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	if issTmpl.NotAfter.After(rootCert.NotAfter) {
		issTmpl.NotAfter = rootCert.NotAfter
	}
	issDER, err := x509.CreateCertificate(rand.Reader, issTmpl, rootCert, issuingKey.Public(), rootKey)
	if err != nil {
		return root, issuing, fmt.Errorf("sign issuing certificate: %w", err)
	}
	issCert, err := x509.ParseCertificate(issDER)
	if err != nil {
		return root, issuing, fmt.Errorf("parse issuing certificate: %w", err)
	}

	rootKeyPEM, err := encodeKey(rootKey, cfg.Passphrase)
	if err != nil {
		return root, issuing, fmt.Errorf("encode root key: %w", err)
	}
	issKeyPEM, err := encodeKey(issuingKey, cfg.Passphrase)
	if err != nil {
		return root, issuing, fmt.Errorf("encode issuing key: %w", err)
	}
	// Keys first: a crash in between leaves an incomplete folder, which load refuses.
	writes := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{rootKeyFile, rootKeyPEM, 0o600},
		{issuingKeyFile, issKeyPEM, 0o600},
		{rootCertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}), 0o644},
		{issuingCertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issDER}), 0o644},
	}
	for _, w := range writes {
		if err := writeNewFile(filepath.Join(dir, w.name), w.data, w.mode); err != nil {
			return root, issuing, err
		}
	}
	return keyPair{rootCert, rootKey}, keyPair{issCert, issuingKey}, nil
}

func caTemplate(cn, org string, now time.Time, validity time.Duration, maxPathLen int) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            maxPathLen,
		MaxPathLenZero:        maxPathLen == 0,
	}, nil
}

// writeNewFile writes data to a file that must not exist yet, with mode.
func writeNewFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	// OpenFile's mode is filtered by the umask; set it exactly.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("chmod %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", filepath.Base(path), err)
	}
	return nil
}

// load reads the CA from dir and checks that it is consistent.
func load(dir string, cfg Config) (root, issuing keyPair, err error) {
	if root, err = loadPair(dir, rootCertFile, rootKeyFile, cfg.Passphrase); err != nil {
		return root, issuing, err
	}
	if issuing, err = loadPair(dir, issuingCertFile, issuingKeyFile, cfg.Passphrase); err != nil {
		return root, issuing, err
	}
	if err := root.cert.CheckSignatureFrom(root.cert); err != nil {
		return root, issuing, fmt.Errorf("check %s: not a self-signed CA certificate: %w", rootCertFile, err)
	}
	if err := issuing.cert.CheckSignatureFrom(root.cert); err != nil {
		return root, issuing, fmt.Errorf("check %s: not issued by %s: %w", issuingCertFile, rootCertFile, err)
	}
	return root, issuing, nil
}

func loadPair(dir, certName, keyName string, passphrase []byte) (keyPair, error) {
	var kp keyPair
	keyPath := filepath.Join(dir, keyName)
	info, err := os.Stat(keyPath)
	if err != nil {
		return kp, fmt.Errorf("check %s: %w", keyName, err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return kp, fmt.Errorf("check %s: mode is %04o: %w; run chmod 600 %s", keyName, perm, ErrInsecureKeyFile, keyPath)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, certName))
	if err != nil {
		return kp, fmt.Errorf("read %s: %w", certName, err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return kp, fmt.Errorf("read %s: no PEM CERTIFICATE block", certName)
	}
	if kp.cert, err = x509.ParseCertificate(block.Bytes); err != nil {
		return kp, fmt.Errorf("parse %s: %w", certName, err)
	}
	if !kp.cert.IsCA {
		return kp, fmt.Errorf("check %s: not a CA certificate", certName)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return kp, fmt.Errorf("read %s: %w", keyName, err)
	}
	if kp.key, err = decodeKey(keyPEM, passphrase); err != nil {
		return kp, fmt.Errorf("read %s: %w", keyName, err)
	}
	if !publicKeysEqual(kp.key.Public(), kp.cert.PublicKey) {
		return kp, fmt.Errorf("check %s: the key does not belong to %s", keyName, certName)
	}
	return kp, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ad, err1 := x509.MarshalPKIXPublicKey(a)
	bd, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(ad, bd)
}
