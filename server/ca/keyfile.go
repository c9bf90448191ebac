package ca

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/scrypt"
)

// PEM types of the key files. Encrypted keys use our own block type: PKCS#8 encryption
// (PBES2) is not in the standard library, and x509.EncryptPEMBlock is insecure.
const (
	pemPrivateKey   = "PRIVATE KEY"
	pemEncryptedKey = "VSCARD ENCRYPTED PRIVATE KEY"
)

// scrypt parameters (the 2017 interactive-login recommendation); they are written into
// the PEM headers so they can be raised later without breaking existing files.
const (
	scryptN = 1 << 15
	scryptR = 8
	scryptP = 1
)

// encodeKey returns key as PKCS#8 PEM, encrypted when passphrase is not empty.
func encodeKey(key crypto.Signer, passphrase []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	if len(passphrase) == 0 {
		return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("generate salt: %w", err)
	}
	aead, err := keyCipher(passphrase, salt, scryptN, scryptR, scryptP)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{
		Type: pemEncryptedKey,
		Headers: map[string]string{
			"KDF":    fmt.Sprintf("scrypt N=%d r=%d p=%d", scryptN, scryptR, scryptP),
			"Salt":   base64.StdEncoding.EncodeToString(salt),
			"Cipher": "AES-256-GCM",
		},
		Bytes: aead.Seal(nonce, nonce, der, nil),
	}), nil
}

// decodeKey parses a key file written by encodeKey.
func decodeKey(data, passphrase []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	der := block.Bytes
	switch block.Type {
	case pemPrivateKey:
		if len(passphrase) > 0 {
			return nil, errors.New("the key is not encrypted but a passphrase is configured; remove the passphrase from the config, or re-create the CA")
		}
	case pemEncryptedKey:
		if len(passphrase) == 0 {
			return nil, errors.New("the key is encrypted; configure the CA passphrase")
		}
		var n, r, p int
		if _, err := fmt.Sscanf(block.Headers["KDF"], "scrypt N=%d r=%d p=%d", &n, &r, &p); err != nil {
			return nil, fmt.Errorf("parse KDF header: %w", err)
		}
		salt, err := base64.StdEncoding.DecodeString(block.Headers["Salt"])
		if err != nil {
			return nil, fmt.Errorf("parse Salt header: %w", err)
		}
		aead, err := keyCipher(passphrase, salt, n, r, p)
		if err != nil {
			return nil, err
		}
		if len(der) < aead.NonceSize() {
			return nil, errors.New("encrypted key is truncated")
		}
		der, err = aead.Open(nil, der[:aead.NonceSize()], der[aead.NonceSize():], nil)
		if err != nil {
			return nil, errors.New("decrypt key: wrong passphrase or damaged file")
		}
	default:
		return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("parse key: %T cannot sign", key)
	}
	return signer, nil
}

func keyCipher(passphrase, salt []byte, n, r, p int) (cipher.AEAD, error) {
	k, err := scrypt.Key(passphrase, salt, n, r, p, 32)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("create cipher: %w", err)
	}
	return cipher.NewGCM(block)
}
