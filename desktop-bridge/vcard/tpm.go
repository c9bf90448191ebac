package vcard

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/vscard/vscard/desktop-bridge/internal/atomicfile"
)

// Errors of the TPM key store, checked with errors.Is.
var (
	// ErrTPMUnavailable: no TPM could be opened (no device, not a TPM 2.0).
	ErrTPMUnavailable = errors.New("TPM unavailable")
	// ErrTPMPermission: the TPM device exists but this user may not open
	// it (on Linux: not in the group tss).
	ErrTPMPermission = errors.New("no permission to use the TPM")
	// ErrTPMKeysLost: the TPM answers but no longer loads what was stored
	// under it (the store's key file): it was cleared or replaced, its
	// storage root is a different one, and every TPM card's keys of this
	// computer are gone with the old one. It also wraps ErrUnseal.
	ErrTPMKeysLost = errors.New("the TPM no longer holds this computer's card keys")
	// errTPMAuth: the TPM refused an authorisation value (a wrong PIN or
	// PUK); the TPM's dictionary-attack counter has counted it.
	errTPMAuth = errors.New("TPM refused the authorisation value")
	// errTPMLockout: the TPM's dictionary-attack protection refuses every
	// authorisation of DA-protected objects until its recovery time passed.
	errTPMLockout = errors.New("TPM in dictionary-attack lockout")
)

// DefaultTPMPath is the Linux kernel's TPM resource manager.
const DefaultTPMPath = "/dev/tpmrm0"

// TPM is a KeyStore whose cards keep their private keys, PIN and PUK in a
// TPM 2.0 (see the package doc's threat model). Cards created with it as
// Options.KeyStore generate their keys inside the TPM, under the TPM's ECC
// P-256 storage root key; the card file holds only TPM-wrapped blobs.
//
// The card file's sealed part (the management key, the card's file secret
// and the PIN protected objects) is AES-256-GCM sealed like MasterKey's, but
// under a key that is itself a TPM sealed object (fixedTPM, fixedParent): the
// key file is useless without this TPM.
//
// A TPM serialises its commands; so does this value, so cards may share it.
type TPM struct {
	mu  sync.Mutex
	tpm transport.TPMCloser
	srk tpm2.NamedHandle
	// srkPub salts the sessions (session): the storage key is also the key the TPM
	// decrypts each session's salt with.
	srkPub tpm2.TPMTPublic
	aead   cipher.AEAD
}

// OpenTPMDevice opens the TPM at path (DefaultTPMPath on a desktop) and the
// store's key file (created on first use). path may also be a Unix socket
// speaking raw TPM 2.0 commands (swtpm's `--server type=unixio` command
// channel), so end-to-end tests can run the real bridge against a private
// simulator. Errors wrap ErrTPMUnavailable or ErrTPMPermission so callers can
// tell a person what to do.
func OpenTPMDevice(path, keyFile string) (*TPM, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Type() == fs.ModeSocket {
		c, err := net.Dial("unix", path)
		switch {
		case errors.Is(err, fs.ErrPermission):
			return nil, fmt.Errorf("dial TPM %s: %w: %w", path, ErrTPMPermission, err)
		case err != nil:
			return nil, fmt.Errorf("dial TPM %s: %w: %w", path, ErrTPMUnavailable, err)
		}
		return OpenTPM(c, keyFile)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	switch {
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("open TPM %s: %w: %w", path, ErrTPMPermission, err)
	case err != nil:
		return nil, fmt.Errorf("open TPM %s: %w: %w", path, ErrTPMUnavailable, err)
	}
	return OpenTPM(f, keyFile)
}

// OpenTPM uses the TPM that rwc speaks to (raw TPM 2.0 commands: a device
// file, or a swtpm socket in tests) and takes ownership of it. keyFile holds
// the TPM-sealed key that seals card files; it is created on first use.
func OpenTPM(rwc io.ReadWriteCloser, keyFile string) (*TPM, error) {
	t := &TPM{tpm: transport.FromReadWriteCloser(rwc)}
	srk, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(t.tpm)
	if err != nil {
		rwc.Close()
		return nil, fmt.Errorf("open TPM: %w: create storage key: %w", ErrTPMUnavailable, err)
	}
	t.srk = tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name}
	pub, err := srk.OutPublic.Contents()
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("open TPM: %w: read storage key: %w", ErrTPMUnavailable, err)
	}
	t.srkPub = *pub
	key, err := t.fileKey(keyFile)
	if err != nil {
		t.Close()
		return nil, err
	}
	block, err := aes.NewCipher(key)
	clear(key)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("open TPM key store: %w", err)
	}
	if t.aead, err = cipher.NewGCM(block); err != nil {
		t.Close()
		return nil, fmt.Errorf("open TPM key store: %w", err)
	}
	return t, nil
}

// Close flushes the storage key and closes the TPM connection.
func (t *TPM) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = tpm2.FlushContext{FlushHandle: t.srk.Handle}.Execute(t.tpm)
	return t.tpm.Close()
}

// fileKey unseals the key file's AES key, creating and sealing a random one
// if the file does not exist.
func (t *TPM) fileKey(path string) ([]byte, error) {
	blob, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, masterKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate TPM file key: %w", err)
		}
		if blob, err = t.seal(key, nil, true); err != nil {
			return nil, fmt.Errorf("seal TPM file key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create TPM key directory: %w", err)
		}
		if err := atomicfile.CreateFile(path, blob, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("write TPM key file: %w", err)
		}
		if blob, err = os.ReadFile(path); err != nil { // another process may have won
			return nil, fmt.Errorf("read TPM key file: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read TPM key file: %w", err)
	}
	key, err := t.unseal(blob, nil)
	if err != nil {
		// The file was made by this TPM with no authValue and noDA: a TPM that
		// answers and refuses it has a different storage root.
		return nil, fmt.Errorf("unseal TPM key file %s: %w: %w: %w", path, ErrTPMKeysLost, ErrUnseal, err)
	}
	return key, nil
}

// Seal implements KeyStore.
func (t *TPM) Seal(plaintext, additionalData []byte) ([]byte, error) {
	out := make([]byte, 1+t.aead.NonceSize(), 1+t.aead.NonceSize()+len(plaintext)+t.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return t.aead.Seal(out, out[1:], plaintext, additionalData), nil
}

// Open implements KeyStore.
func (t *TPM) Open(sealed, additionalData []byte) ([]byte, error) {
	n := t.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errors.New("open sealed data: unknown format")
	}
	pt, err := t.aead.Open(nil, sealed[1:1+n], sealed[1+n:], additionalData)
	if err != nil {
		return nil, fmt.Errorf("open sealed data: %w", err)
	}
	return pt, nil
}

// splitBlob splits a stored object, TPM2B_PUBLIC followed by TPM2B_PRIVATE.
func splitBlob(blob []byte) (tpm2.TPM2BPublic, tpm2.TPM2BPrivate, error) {
	if len(blob) < 2 {
		return tpm2.TPM2BPublic{}, tpm2.TPM2BPrivate{}, errors.New("TPM blob too short")
	}
	n := 2 + int(binary.BigEndian.Uint16(blob))
	if len(blob) < n+2 {
		return tpm2.TPM2BPublic{}, tpm2.TPM2BPrivate{}, errors.New("TPM blob too short")
	}
	pub, err := tpm2.Unmarshal[tpm2.TPM2BPublic](blob[:n])
	if err != nil {
		return tpm2.TPM2BPublic{}, tpm2.TPM2BPrivate{}, fmt.Errorf("parse TPM blob: %w", err)
	}
	priv, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](blob[n:])
	if err != nil {
		return tpm2.TPM2BPublic{}, tpm2.TPM2BPrivate{}, fmt.Errorf("parse TPM blob: %w", err)
	}
	return *pub, *priv, nil
}

func joinBlob(pub tpm2.TPM2BPublic, priv tpm2.TPM2BPrivate) []byte {
	return append(tpm2.Marshal(pub), tpm2.Marshal(priv)...)
}

// session authorises one command on the loaded object h whose authValue is auth, and
// encrypts its secrets on the way: an HMAC session bound to h (the authValue goes into
// the session key and never crosses the bus) and salted with the storage key (so the
// session key is not computable from what crosses the bus), whose first command and
// response parameters are AES-CFB encrypted (a new authValue, sealed data, an unsealed
// secret, an ECDH result), as far as the command has such parameters (dir: a parameter
// that is not a sized buffer cannot be encrypted, and the TPM refuses the attribute for
// it). Each command gets its own session: one StartAuthSession and one salt decryption
// more per command, for sessions that need no bookkeeping.
//
// Bound, not only tpm2.Auth: go-tpm v0.9.8 cuts an authValue at its first zero byte
// when it keys an unbound session's HMAC (hmacKeyFromAuthValue means to drop trailing
// zeros only), so one random secret in eight failed with TPM_RC_BAD_AUTH; a session
// that authorises its own bind entity leaves the authValue out of the HMAC key. The
// TPM drops an authValue's trailing zeros (Part 1, 19.6.5): so do we.
func (t *TPM) session(h tpm2.NamedHandle, auth []byte, dir encryptDir) tpm2.Session {
	enc := tpm2.AESEncryption(128, tpm2.EncryptInOut)
	switch dir {
	case encryptIn:
		enc = tpm2.AESEncryption(128, tpm2.EncryptIn)
	case encryptOut:
		enc = tpm2.AESEncryption(128, tpm2.EncryptOut)
	}
	auth = bytes.TrimRight(auth, "\x00")
	return tpm2.HMAC(tpm2.TPMAlgSHA256, 16, tpm2.Bound(h.Handle, h.Name, auth), tpm2.Auth(auth),
		tpm2.Salted(t.srk.Handle, t.srkPub), enc)
}

// encryptDir says which of a command's first parameters a session encrypts.
type encryptDir int

const (
	encryptInOut encryptDir = iota
	encryptIn
	encryptOut
)

// parent is the storage key as the parent of a new object, authorised (empty
// authValue) by a session that encrypts the object's sensitive part.
func (t *TPM) parent() tpm2.AuthHandle {
	return tpm2.AuthHandle{Handle: t.srk.Handle, Name: t.srk.Name, Auth: t.session(t.srk, nil, encryptIn)}
}

// tpmError maps the TPM's answers to a refused authorisation to the
// package's errors.
func tpmError(err error) error {
	switch {
	case errors.Is(err, tpm2.TPMRCAuthFail) || errors.Is(err, tpm2.TPMRCBadAuth):
		return fmt.Errorf("%w: %w", errTPMAuth, err)
	case errors.Is(err, tpm2.TPMRCLockout):
		return fmt.Errorf("%w: %w", errTPMLockout, err)
	}
	return err
}

// load loads a stored object under the storage key; the caller flushes it.
func (t *TPM) load(blob []byte) (tpm2.NamedHandle, error) {
	pub, priv, err := splitBlob(blob)
	if err != nil {
		return tpm2.NamedHandle{}, err
	}
	rsp, err := tpm2.Load{
		ParentHandle: t.srk,
		InPrivate:    priv,
		InPublic:     pub,
	}.Execute(t.tpm)
	if err != nil {
		return tpm2.NamedHandle{}, fmt.Errorf("load TPM object: %w", err)
	}
	return tpm2.NamedHandle{Handle: rsp.ObjectHandle, Name: rsp.Name}, nil
}

func (t *TPM) flush(h tpm2.NamedHandle) {
	_, _ = tpm2.FlushContext{FlushHandle: h.Handle}.Execute(t.tpm)
}

// seal makes a sealed data object holding data under authValue auth. A
// sealed PIN or PUK secret is dictionary-attack protected (noDA clear): every
// wrong PIN counts in the TPM, whatever happens to the card file. Objects
// whose authValue is a random secret set noDA, so a bug or a stale blob
// cannot lock the TPM out.
func (t *TPM) seal(data, auth []byte, noDA bool) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rsp, err := tpm2.Create{
		ParentHandle: t.parent(),
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			UserAuth: tpm2.TPM2BAuth{Buffer: auth},
			Data:     tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: data}),
		}},
		InPublic: tpm2.New2B(tpm2.TPMTPublic{
			Type:    tpm2.TPMAlgKeyedHash,
			NameAlg: tpm2.TPMAlgSHA256,
			ObjectAttributes: tpm2.TPMAObject{
				FixedTPM: true, FixedParent: true, UserWithAuth: true, NoDA: noDA,
			},
			Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash, &tpm2.TPMSKeyedHashParms{
				Scheme: tpm2.TPMTKeyedHashScheme{Scheme: tpm2.TPMAlgNull},
			}),
		}),
	}.Execute(t.tpm)
	if err != nil {
		return nil, fmt.Errorf("seal in TPM: %w", err)
	}
	return joinBlob(rsp.OutPublic, rsp.OutPrivate), nil
}

// unseal returns the data of a sealed object; a wrong auth is errTPMAuth
// (and counted by the TPM), a TPM in lockout errTPMLockout.
func (t *TPM) unseal(blob, auth []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, err := t.load(blob)
	if err != nil {
		return nil, err
	}
	defer t.flush(h)
	rsp, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{Handle: h.Handle, Name: h.Name, Auth: t.session(h, auth, encryptOut)}}.Execute(t.tpm)
	if err != nil {
		return nil, fmt.Errorf("unseal: %w", tpmError(err))
	}
	return rsp.OutData.Buffer, nil
}

// tpmKey is a slot's private key inside the TPM. Like slotKey it is never
// changed in place.
type tpmKey struct {
	tpm  *TPM
	blob []byte
	pub  crypto.PublicKey
	// pinBound: the key's authValue is the card's PIN-released secret;
	// otherwise it is the card's file secret (PIN policy never, or a key
	// generated before the PIN was verified in this session; see doc.go).
	pinBound bool
}

// tpmAlgorithm reports whether the TPM card can make keys of alg.
func tpmAlgorithm(alg Algorithm) bool {
	return alg == AlgECCP256 || alg == AlgECCP384 || alg == AlgRSA2048
}

// keyTemplate is the public template of a slot key: a general key that
// signs, decrypts (raw RSA) and agrees (ECDH), created in and bound to this
// TPM. AdminWithPolicy is clear with an empty policy, so the ADMIN role
// (TPM2_Certify, ObjectChangeAuth) needs the authValue, exactly like use:
// nothing can be done with the key without what signing needs.
func keyTemplate(alg Algorithm) (tpm2.TPMTPublic, error) {
	attrs := tpm2.TPMAObject{
		FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true, UserWithAuth: true,
		NoDA: true, SignEncrypt: true, Decrypt: true,
	}
	switch alg {
	case AlgECCP256, AlgECCP384:
		curve := tpm2.TPMECCNistP256
		if alg == AlgECCP384 {
			curve = tpm2.TPMECCNistP384
		}
		return tpm2.TPMTPublic{
			Type: tpm2.TPMAlgECC, NameAlg: tpm2.TPMAlgSHA256, ObjectAttributes: attrs,
			Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
				Symmetric: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgNull},
				Scheme:    tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgNull},
				CurveID:   curve,
				KDF:       tpm2.TPMTKDFScheme{Scheme: tpm2.TPMAlgNull},
			}),
		}, nil
	case AlgRSA2048:
		return tpm2.TPMTPublic{
			Type: tpm2.TPMAlgRSA, NameAlg: tpm2.TPMAlgSHA256, ObjectAttributes: attrs,
			Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgRSA, &tpm2.TPMSRSAParms{
				Symmetric: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgNull},
				Scheme:    tpm2.TPMTRSAScheme{Scheme: tpm2.TPMAlgNull},
				KeyBits:   2048,
			}),
		}, nil
	}
	return tpm2.TPMTPublic{}, fmt.Errorf("generate TPM key: unsupported algorithm %#x", byte(alg))
}

// generate creates a key of alg inside the TPM with authValue auth.
func (t *TPM) generate(alg Algorithm, auth []byte, pinBound bool) (*tpmKey, error) {
	tmpl, err := keyTemplate(alg)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	rsp, err := tpm2.Create{
		ParentHandle: t.parent(),
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			UserAuth: tpm2.TPM2BAuth{Buffer: auth},
		}},
		InPublic: tpm2.New2B(tmpl),
	}.Execute(t.tpm)
	if err != nil {
		return nil, fmt.Errorf("generate TPM key: %w", err)
	}
	return t.keyFromBlob(joinBlob(rsp.OutPublic, rsp.OutPrivate), pinBound)
}

// keyFromBlob rebuilds a tpmKey from its stored blob.
func (t *TPM) keyFromBlob(blob []byte, pinBound bool) (*tpmKey, error) {
	pub2b, _, err := splitBlob(blob)
	if err != nil {
		return nil, err
	}
	pub, err := pub2b.Contents()
	if err != nil {
		return nil, fmt.Errorf("parse TPM key: %w", err)
	}
	key, err := tpm2.Pub(*pub)
	if err != nil {
		return nil, fmt.Errorf("parse TPM key: %w", err)
	}
	return &tpmKey{tpm: t, blob: blob, pub: key, pinBound: pinBound}, nil
}

// algorithm returns the PIV algorithm of the key.
func (k *tpmKey) algorithm() (Algorithm, error) {
	switch p := k.pub.(type) {
	case *ecdsa.PublicKey:
		switch p.Curve.Params().BitSize {
		case 256:
			return AlgECCP256, nil
		case 384:
			return AlgECCP384, nil
		}
	case interface{ Size() int }: // *rsa.PublicKey
		if p.Size() == 256 {
			return AlgRSA2048, nil
		}
	}
	return 0, fmt.Errorf("check TPM key: unsupported key %T", k.pub)
}

// withKey loads the key, runs f with it authorised by auth in a session that
// encrypts the parameters dir says (session), and flushes it.
func (k *tpmKey) withKey(auth []byte, dir encryptDir, f func(h tpm2.AuthHandle) error) error {
	t := k.tpm
	t.mu.Lock()
	defer t.mu.Unlock()
	h, err := t.load(k.blob)
	if err != nil {
		return err
	}
	defer t.flush(h)
	return tpmError(f(tpm2.AuthHandle{Handle: h.Handle, Name: h.Name, Auth: t.session(h, auth, dir)}))
}

// sign signs input as the PIV card does: ECDSA of a digest (truncated or
// left-padded to the curve's size, which is what ECDSA does with it anyway,
// so the TPM sees the digest length of the scheme's hash) or the raw RSA
// private key operation (TPM2_RSA_Decrypt without padding; the client pads).
func (k *tpmKey) sign(auth, input []byte) ([]byte, error) {
	var out []byte
	switch p := k.pub.(type) {
	case *ecdsa.PublicKey:
		if len(input) == 0 || len(input) > 64 {
			return nil, errors.New("sign: bad digest length")
		}
		n, hash := 32, tpm2.TPMAlgSHA256
		if p.Curve.Params().BitSize == 384 {
			n, hash = 48, tpm2.TPMAlgSHA384
		}
		digest := make([]byte, n)
		if len(input) >= n {
			copy(digest, input[:n])
		} else {
			copy(digest[n-len(input):], input)
		}
		// The signature is not a sized buffer: only the digest is encrypted.
		err := k.withKey(auth, encryptIn, func(h tpm2.AuthHandle) error {
			rsp, err := tpm2.Sign{
				KeyHandle: h,
				Digest:    tpm2.TPM2BDigest{Buffer: digest},
				InScheme: tpm2.TPMTSigScheme{
					Scheme:  tpm2.TPMAlgECDSA,
					Details: tpm2.NewTPMUSigScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSchemeHash{HashAlg: hash}),
				},
				Validation: tpm2.TPMTTKHashCheck{Tag: tpm2.TPMSTHashCheck, Hierarchy: tpm2.TPMRHNull},
			}.Execute(k.tpm.tpm)
			if err != nil {
				return fmt.Errorf("sign in TPM: %w", err)
			}
			sig, err := rsp.Signature.Signature.ECDSA()
			if err != nil {
				return fmt.Errorf("sign in TPM: %w", err)
			}
			out, err = asn1.Marshal(struct{ R, S *big.Int }{
				new(big.Int).SetBytes(sig.SignatureR.Buffer), new(big.Int).SetBytes(sig.SignatureS.Buffer),
			})
			return err
		})
		return out, err
	case interface{ Size() int }:
		size := p.Size()
		if len(input) != size {
			return nil, errors.New("rsa: input length is not the modulus length")
		}
		err := k.withKey(auth, encryptInOut, func(h tpm2.AuthHandle) error {
			rsp, err := tpm2.RSADecrypt{
				KeyHandle:  h,
				CipherText: tpm2.TPM2BPublicKeyRSA{Buffer: input},
				InScheme:   tpm2.TPMTRSADecrypt{Scheme: tpm2.TPMAlgNull},
			}.Execute(k.tpm.tpm)
			if err != nil {
				return fmt.Errorf("rsa in TPM: %w", err)
			}
			out = make([]byte, size)
			copy(out[size-len(rsp.Message.Buffer):], rsp.Message.Buffer)
			return nil
		})
		return out, err
	}
	return nil, errors.New("sign: key cannot sign")
}

// agree performs ECDH in the TPM (TPM2_ECDH_ZGen) and returns the x
// coordinate of the shared point.
func (k *tpmKey) agree(auth, point []byte) ([]byte, error) {
	p, ok := k.pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("agree: key cannot do ECDH")
	}
	own, err := p.ECDH()
	if err != nil {
		return nil, fmt.Errorf("agree: %w", err)
	}
	peer, err := own.Curve().NewPublicKey(point) // validates the point
	if err != nil {
		return nil, fmt.Errorf("agree: %w", err)
	}
	x, y, err := tpm2.ECCPoint(peer)
	if err != nil {
		return nil, fmt.Errorf("agree: %w", err)
	}
	n := (p.Curve.Params().BitSize + 7) / 8
	var out []byte
	err = k.withKey(auth, encryptInOut, func(h tpm2.AuthHandle) error {
		rsp, err := tpm2.ECDHZGen{
			KeyHandle: h,
			InPoint: tpm2.New2B(tpm2.TPMSECCPoint{
				X: tpm2.TPM2BECCParameter{Buffer: x.FillBytes(make([]byte, n))},
				Y: tpm2.TPM2BECCParameter{Buffer: y.FillBytes(make([]byte, n))},
			}),
		}.Execute(k.tpm.tpm)
		if err != nil {
			return fmt.Errorf("ECDH in TPM: %w", err)
		}
		pt, err := rsp.OutPoint.Contents()
		if err != nil {
			return fmt.Errorf("ECDH in TPM: %w", err)
		}
		out = make([]byte, n)
		copy(out[n-len(pt.X.Buffer):], pt.X.Buffer)
		return nil
	})
	return out, err
}

// changeAuth returns the key with a new authValue (TPM2_ObjectChangeAuth,
// which keeps the key and its public area, so certificates stay valid).
func (k *tpmKey) changeAuth(oldAuth, newAuth []byte, pinBound bool) (*tpmKey, error) {
	pub, _, err := splitBlob(k.blob)
	if err != nil {
		return nil, err
	}
	var next []byte
	err = k.withKey(oldAuth, encryptInOut, func(h tpm2.AuthHandle) error {
		rsp, err := tpm2.ObjectChangeAuth{
			ObjectHandle: h,
			ParentHandle: k.tpm.srk,
			NewAuth:      tpm2.TPM2BAuth{Buffer: newAuth},
		}.Execute(k.tpm.tpm)
		if err != nil {
			return fmt.Errorf("change TPM key auth: %w", err)
		}
		next = joinBlob(pub, rsp.OutPrivate)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &tpmKey{tpm: k.tpm, blob: next, pub: k.pub, pinBound: pinBound}, nil
}

// tpmSigner is a crypto.Signer over a TPM key with its authValue, for the
// card's own signatures (attestation certificates).
type tpmSigner struct {
	k    *tpmKey
	auth []byte
}

func (s tpmSigner) Public() crypto.PublicKey { return s.k.pub }

func (s tpmSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	return s.k.sign(s.auth, digest)
}

// pinAuth derives the authValue of the sealed PIN (or PUK) secret from the
// padded PIN. The TPM compares it and counts failures; the hash only gives
// it the nameAlg's size and keeps the PIN itself off the TPM interface.
func pinAuth(label string, padded []byte) []byte {
	h := sha256.New()
	h.Write([]byte("vscard tpm " + label + "\x00"))
	h.Write(padded)
	return h.Sum(nil)
}

// tpmPublicKey returns the ECDH form of a TPM key's public key, if it has
// one, for publicKeyTemplate.
func tpmPublicKey(k *tpmKey) *ecdh.PublicKey {
	if p, ok := k.pub.(*ecdsa.PublicKey); ok {
		if e, err := p.ECDH(); err == nil {
			return e
		}
	}
	return nil
}
