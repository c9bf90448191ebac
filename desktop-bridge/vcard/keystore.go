package vcard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vscard/vscard/desktop-bridge/internal/atomicfile"
)

// KeyStore seals the secret part of a card's state (PIN, PUK, management
// key, private keys, PIN protected objects) before it is written to disk,
// and opens it again. additionalData binds the sealed part to the public part
// of the same file.
type KeyStore interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// MasterKey is a KeyStore that seals with AES-256-GCM under a 32-byte key.
type MasterKey struct {
	aead cipher.AEAD
}

// masterKeySize is the length of a master key (AES-256).
const masterKeySize = 32

// sealVersion prefixes every sealed blob so the format can evolve.
const sealVersion = 1

// NewMasterKey returns a MasterKey for a 32-byte key.
func NewMasterKey(key []byte) (*MasterKey, error) {
	if len(key) != masterKeySize {
		return nil, fmt.Errorf("create master key: need %d bytes, got %d", masterKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("create master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("create master key: %w", err)
	}
	return &MasterKey{aead: aead}, nil
}

// LoadMasterKey reads the master key file at path, creating it with a fresh
// random key (mode 0600) if it does not exist. A key file that others than
// its owner may read is refused.
func LoadMasterKey(path string) (*MasterKey, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, masterKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate master key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create master key directory: %w", err)
		}
		if err := atomicfile.CreateFile(path, key, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("write master key: %w", err)
		}
		if key, err = os.ReadFile(path); err != nil { // another process may have won
			return nil, fmt.Errorf("read master key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat master key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("load master key: %s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	return NewMasterKey(key)
}

// Seal encrypts plaintext; the result is a version byte, a random nonce and
// the ciphertext with its tag.
func (m *MasterKey) Seal(plaintext, additionalData []byte) ([]byte, error) {
	out := make([]byte, 1+m.aead.NonceSize(), 1+m.aead.NonceSize()+len(plaintext)+m.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return m.aead.Seal(out, out[1:], plaintext, additionalData), nil
}

// Open decrypts what Seal produced with the same key and additional data.
func (m *MasterKey) Open(sealed, additionalData []byte) ([]byte, error) {
	n := m.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errors.New("open sealed data: unknown format")
	}
	pt, err := m.aead.Open(nil, sealed[1:1+n], sealed[1+n:], additionalData)
	if err != nil {
		return nil, fmt.Errorf("open sealed data: %w", err)
	}
	return pt, nil
}
