package vcard

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vscard/vscard/desktop-bridge/internal/atomicfile"
)

// Errors of the card store, checked with errors.Is.
var (
	// ErrExists is returned by Create when a card with the serial exists.
	ErrExists = errors.New("card exists")
	// ErrNotFound is returned when no card with the serial exists.
	ErrNotFound = errors.New("card not found")
	// ErrInUse is returned when another Card value (in this or another
	// process) has the card open.
	ErrInUse = errors.New("card in use")
	// ErrUnseal is returned by Open when the key store cannot open the
	// card's secrets: a different key, or a file that was tampered with.
	ErrUnseal = errors.New("cannot unseal card secrets")
)

// fileExt names card files: "<serial>.card".
const fileExt = ".card"

// fileFormat is the version of the card file layout.
const fileFormat = 1

// DefaultDir returns the default card directory,
// $XDG_DATA_HOME/vscard/cards or ~/.local/share/vscard/cards.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "vscard", "cards"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find card directory: %w", err)
	}
	return filepath.Join(home, ".local", "share", "vscard", "cards"), nil
}

// Options configure a new card. Zero values mean the YubiKey factory
// defaults.
type Options struct {
	// Serial is the card's serial number; 0 picks a random unused one.
	Serial uint32
	// KeyStore seals the card's secrets. Required.
	KeyStore KeyStore
	// PIN and PUK, 6 to 8 bytes; default 123456 and 12345678.
	PIN, PUK string
	// PINRetries and PUKRetries, 1 to 15; default 3.
	PINRetries, PUKRetries int
	// ManagementKey and its algorithm; default the well-known AES-192 key.
	// The algorithm defaults to AES-192 for a 24-byte key.
	ManagementKey       []byte
	ManagementAlgorithm Algorithm
	// Version reported by GET VERSION; default 5.7.1.
	Version [3]byte
	// AttestationKey (*ecdsa.PrivateKey or *rsa.PrivateKey) and
	// AttestationCert let the caller provide the attestation identity, for
	// example one issued by an organisation's CA. Without them the card
	// generates a P-256 key and a self-signed certificate.
	AttestationKey  crypto.Signer
	AttestationCert *x509.Certificate
}

// Create makes a new card in dir, writes it and returns it open.
func Create(dir string, opts Options) (*Card, error) {
	if opts.KeyStore == nil {
		return nil, errors.New("create card: no key store")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create card directory: %w", err)
	}
	for attempt := 0; ; attempt++ {
		serial := opts.Serial
		if serial == 0 {
			var b [4]byte
			if _, err := rand.Read(b[:]); err != nil {
				return nil, fmt.Errorf("create card: %w", err)
			}
			// Eight decimal digits at least, like a YubiKey's.
			serial = 10_000_000 + binary.BigEndian.Uint32(b[:])%2_000_000_000
		}
		retry := opts.Serial == 0 && attempt < 10
		f, err := lockCardFile(dir, serial, opts.KeyStore)
		if err != nil {
			if errors.Is(err, ErrInUse) && retry {
				continue
			}
			return nil, fmt.Errorf("create card %d: %w", serial, err)
		}
		if _, err := os.Stat(f.path); err == nil {
			f.close()
			if retry {
				continue
			}
			return nil, fmt.Errorf("create card %d: %w", serial, ErrExists)
		}
		o := opts
		o.Serial = serial
		st, err := newState(o)
		if err != nil {
			f.close()
			return nil, fmt.Errorf("create card: %w", err)
		}
		if err := f.save(st); err != nil {
			f.close()
			return nil, fmt.Errorf("create card %d: %w", serial, err)
		}
		return newCard(st, f), nil
	}
}

// newState builds the initial state from options.
func newState(opts Options) (*state, error) {
	version := opts.Version
	if version == [3]byte{} {
		version = defaultVersion
	}
	st, err := factoryState(opts.Serial, version)
	if err != nil {
		return nil, err
	}
	if opts.PIN != "" {
		if st.pin, err = padPIN(opts.PIN); err != nil {
			return nil, err
		}
	}
	if opts.PUK != "" {
		if st.puk, err = padPIN(opts.PUK); err != nil {
			return nil, fmt.Errorf("check puk: %w", err)
		}
	}
	for _, r := range []struct {
		n int
		c *counter
	}{{opts.PINRetries, &st.pinTry}, {opts.PUKRetries, &st.pukTry}} {
		if r.n < 0 || r.n > 15 {
			return nil, fmt.Errorf("check retries: %d not in 1..15", r.n)
		}
		if r.n > 0 {
			*r.c = counter{Max: r.n, Left: r.n}
		}
	}
	if opts.ManagementKey != nil {
		alg := opts.ManagementAlgorithm
		if alg == 0 {
			alg = AlgAES192
		}
		if managementKeyLen(alg) != len(opts.ManagementKey) {
			return nil, fmt.Errorf("check management key: %d bytes do not fit algorithm %#x", len(opts.ManagementKey), byte(alg))
		}
		st.mgmtAlg, st.mgmtKey = alg, clone(opts.ManagementKey)
	}

	var attKey crypto.Signer
	var attDER []byte
	if t, ok := opts.KeyStore.(*TPM); ok {
		if opts.AttestationKey != nil || opts.AttestationCert != nil {
			return nil, errors.New("check attestation: a TPM card makes its attestation key in the TPM")
		}
		k, err := st.initTPM(t)
		if err != nil {
			return nil, err
		}
		if attDER, err = attestationCA(opts.Serial, tpmSigner{k: k, auth: st.fileSecret}); err != nil {
			return nil, err
		}
		st.keys[slotAttestation] = &slotKey{alg: AlgECCP256, pinPolicy: pinNever, touchPolicy: touchNever, origin: originGenerated, priv: k}
		st.objects[objAttestation] = certObject(attDER)
		return st, nil
	}
	switch {
	case opts.AttestationKey != nil && opts.AttestationCert != nil:
		if err := checkKeyPair(opts.AttestationKey, opts.AttestationCert); err != nil {
			return nil, err
		}
		attKey, attDER = opts.AttestationKey, opts.AttestationCert.Raw
	case opts.AttestationKey != nil || opts.AttestationCert != nil:
		return nil, errors.New("check attestation: need both key and certificate")
	default:
		if attKey, attDER, err = newAttestationIdentity(opts.Serial); err != nil {
			return nil, err
		}
	}
	alg, err := algorithmOf(attKey)
	if err != nil {
		return nil, fmt.Errorf("check attestation key: %w", err)
	}
	st.keys[slotAttestation] = &slotKey{alg: alg, pinPolicy: pinNever, touchPolicy: touchNever, origin: originImported, priv: attKey}
	st.objects[objAttestation] = certObject(attDER)
	return st, nil
}

func checkKeyPair(key crypto.Signer, cert *x509.Certificate) error {
	switch key.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey:
	default:
		return fmt.Errorf("check attestation key: unsupported type %T", key)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return errors.New("check attestation: key does not match certificate")
	}
	return nil
}

// Open opens the card with the given serial in dir. The key store must be
// the one the card was created with.
func Open(dir string, serial uint32, ks KeyStore) (*Card, error) {
	f, err := lockCardFile(dir, serial, ks)
	if err != nil {
		return nil, fmt.Errorf("open card %d: %w", serial, err)
	}
	st, err := f.load()
	if err != nil {
		f.close()
		return nil, fmt.Errorf("open card %d: %w", serial, err)
	}
	return newCard(st, f), nil
}

// List returns the serials of the cards in dir, in ascending order. A
// missing directory holds no cards.
func List(dir string) ([]uint32, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list cards: %w", err)
	}
	var out []uint32
	for _, e := range entries {
		name, found := strings.CutSuffix(e.Name(), fileExt)
		if !found || !e.Type().IsRegular() {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != name {
			continue
		}
		out = append(out, uint32(n))
	}
	slices.Sort(out)
	return out, nil
}

// Delete removes the card with the given serial from dir. It fails with
// ErrInUse while the card is open.
func Delete(dir string, serial uint32) error {
	f, err := lockCardFile(dir, serial, nil)
	if err != nil {
		return fmt.Errorf("delete card %d: %w", serial, err)
	}
	defer f.close()
	if err := os.Remove(f.path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete card %d: %w", serial, ErrNotFound)
		}
		return fmt.Errorf("delete card %d: %w", serial, err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("delete card %d: %w", serial, err)
	}
	// The lock file goes last, while we still hold the lock.
	_ = os.Remove(f.lockPath)
	return nil
}

// Close releases the card's file. The card answers every later command
// with 6F00.
func (c *Card) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.sess = session{}
	if c.store == nil {
		return nil
	}
	err := c.store.close()
	c.store = nil
	if err != nil {
		return fmt.Errorf("close card: %w", err)
	}
	return nil
}

// AttestationCertificate returns the certificate of the card's attestation
// key: the root to pass to piv.Verifier when checking the card's
// attestations.
func (c *Card) AttestationCertificate() (*x509.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return parseCertObject(c.st.objects[objAttestation])
}

// cardFile is the on-disk home of one card.
type cardFile struct {
	path     string
	lockPath string
	serial   uint32
	ks       KeyStore
	lock     *os.File
}

// The file layout. The public part is stored as the exact bytes that were
// authenticated, so it can be fed back as additional data.
type fileEnvelope struct {
	Format int             `json:"format"`
	Serial uint32          `json:"serial"`
	Public json.RawMessage `json:"public"`
	Sealed []byte          `json:"sealed"`
}

type publicPart struct {
	Version             [3]byte               `json:"version"`
	PINTries            counter               `json:"pinTries"`
	PUKTries            counter               `json:"pukTries"`
	ManagementAlgorithm Algorithm             `json:"managementAlgorithm"`
	Slots               map[string]publicSlot `json:"slots"`
	Objects             map[string][]byte     `json:"objects"`
	// TPM marks a card whose keys, PIN and PUK live in the TPM of the key
	// store it was created with.
	TPM bool `json:"tpm,omitempty"`
	// OfflineUnblock is absent in files written before the card had the
	// extension: such a card has every try and no challenge outstanding.
	OfflineUnblock *offlineUnblockPart `json:"offlineUnblock,omitempty"`
}

// offlineUnblockPart is public: a challenge is shown to the person anyway,
// and is worth nothing without the management key.
type offlineUnblockPart struct {
	Tries     counter `json:"tries"`
	Challenge string  `json:"challenge,omitempty"`
}

type publicSlot struct {
	// InTPM: the key is a TPM object (its blob is in secretPart.Keys);
	// PINBound: its authValue is the PIN-released secret.
	InTPM       bool      `json:"inTPM,omitempty"`
	PINBound    bool      `json:"pinBound,omitempty"`
	Algorithm   Algorithm `json:"algorithm"`
	PINPolicy   byte      `json:"pinPolicy"`
	TouchPolicy byte      `json:"touchPolicy"`
	Origin      byte      `json:"origin"`
}

type secretPart struct {
	PIN           []byte            `json:"pin"`
	PUK           []byte            `json:"puk"`
	ManagementKey []byte            `json:"managementKey"`
	Keys          map[string][]byte `json:"keys"` // PKCS #8, or TPM blob
	FileSecret    []byte            `json:"fileSecret,omitempty"`
	Objects       map[string][]byte `json:"objects"` // PIN protected
}

func lockCardFile(dir string, serial uint32, ks KeyStore) (*cardFile, error) {
	name := strconv.FormatUint(uint64(serial), 10)
	f := &cardFile{
		path:     filepath.Join(dir, name+fileExt),
		lockPath: filepath.Join(dir, "."+name+".lock"),
		serial:   serial,
		ks:       ks,
	}
	lock, err := os.OpenFile(f.lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock card file: %w", err)
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		return nil, err
	}
	f.lock = lock
	return f, nil
}

func (f *cardFile) close() error {
	return f.lock.Close() // closing drops the lock
}

func additionalData(serial uint32, public []byte) []byte {
	ad := binary.BigEndian.AppendUint32([]byte("vscard card v1\x00"), serial)
	return append(ad, public...)
}

func (f *cardFile) save(st *state) error {
	pub := publicPart{
		Version:             st.version,
		PINTries:            st.pinTry,
		PUKTries:            st.pukTry,
		ManagementAlgorithm: st.mgmtAlg,
		Slots:               map[string]publicSlot{},
		Objects:             map[string][]byte{},
		OfflineUnblock:      &offlineUnblockPart{Tries: st.unblockTry, Challenge: st.unblockChallenge},
		TPM:                 st.tpm != nil,
	}
	sec := secretPart{
		PIN: st.pin, PUK: st.puk, ManagementKey: st.mgmtKey,
		Keys: map[string][]byte{}, Objects: map[string][]byte{}, FileSecret: st.fileSecret,
	}
	for ref, k := range st.keys {
		id := fmt.Sprintf("%02x", ref)
		ps := publicSlot{Algorithm: k.alg, PINPolicy: k.pinPolicy, TouchPolicy: k.touchPolicy, Origin: k.origin}
		if tk, ok := k.priv.(*tpmKey); ok {
			sec.Keys[id], ps.InTPM, ps.PINBound = tk.blob, true, tk.pinBound
		} else {
			der, err := x509.MarshalPKCS8PrivateKey(k.priv)
			if err != nil {
				return fmt.Errorf("save card: %w", err)
			}
			sec.Keys[id] = der
		}
		pub.Slots[id] = ps
	}
	for tag, v := range st.objects {
		id := fmt.Sprintf("%x", tag)
		if pinProtected(tag) {
			sec.Objects[id] = v
		} else {
			pub.Objects[id] = v
		}
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return fmt.Errorf("save card: %w", err)
	}
	secJSON, err := json.Marshal(sec)
	if err != nil {
		return fmt.Errorf("save card: %w", err)
	}
	sealed, err := f.ks.Seal(secJSON, additionalData(st.serial, pubJSON))
	clear(secJSON)
	if err != nil {
		return fmt.Errorf("save card: %w", err)
	}
	out, err := json.Marshal(fileEnvelope{Format: fileFormat, Serial: st.serial, Public: pubJSON, Sealed: sealed})
	if err != nil {
		return fmt.Errorf("save card: %w", err)
	}
	if err := atomicfile.WriteFile(f.path, out, 0o600); err != nil {
		return fmt.Errorf("save card: %w", err)
	}
	return nil
}

func (f *cardFile) load() (*state, error) {
	raw, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	var env fileEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	if env.Format != fileFormat || env.Serial != f.serial {
		return nil, fmt.Errorf("load card: format %d serial %d not understood", env.Format, env.Serial)
	}
	secJSON, err := f.ks.Open(env.Sealed, additionalData(env.Serial, env.Public))
	if err != nil {
		return nil, fmt.Errorf("load card: %w: %w", ErrUnseal, err)
	}
	defer clear(secJSON)
	var pub publicPart
	var sec secretPart
	if err := json.Unmarshal(env.Public, &pub); err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	if err := json.Unmarshal(secJSON, &sec); err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	st := &state{
		serial: env.Serial, version: pub.Version,
		pin: sec.PIN, puk: sec.PUK, pinTry: pub.PINTries, pukTry: pub.PUKTries,
		mgmtAlg: pub.ManagementAlgorithm, mgmtKey: sec.ManagementKey,
		keys: map[byte]*slotKey{}, objects: map[uint32][]byte{},
		unblockTry: counter{Max: unblockRetries, Left: unblockRetries},
	}
	if u := pub.OfflineUnblock; u != nil {
		if !validCounter(u.Tries) || (u.Challenge != "" && !validChallenge(u.Challenge)) {
			return nil, errors.New("load card: inconsistent offline unblock state")
		}
		st.unblockTry, st.unblockChallenge = u.Tries, u.Challenge
	}
	if pub.TPM {
		t, ok := f.ks.(*TPM)
		if !ok {
			return nil, fmt.Errorf("load card: %w: a TPM card needs its TPM key store", ErrUnseal)
		}
		st.tpm, st.fileSecret = t, sec.FileSecret
		if len(st.fileSecret) != keySecretSize || len(st.pin) < 2 || len(st.puk) < 2 {
			return nil, errors.New("load card: inconsistent TPM state")
		}
	} else if !validPIN(st.pin) || !validPIN(st.puk) {
		return nil, errors.New("load card: inconsistent state")
	}
	if managementKeyLen(st.mgmtAlg) != len(st.mgmtKey) ||
		!validCounter(st.pinTry) || !validCounter(st.pukTry) || len(pub.Slots) != len(sec.Keys) {
		return nil, errors.New("load card: inconsistent state")
	}
	for id, s := range pub.Slots {
		ref, err := strconv.ParseUint(id, 16, 8)
		if err != nil {
			return nil, fmt.Errorf("load card: slot %q: %w", id, err)
		}
		var priv crypto.PrivateKey
		var alg Algorithm
		if s.InTPM {
			if st.tpm == nil {
				return nil, fmt.Errorf("load card: slot %q: TPM key on a software card", id)
			}
			tk, err := st.tpm.keyFromBlob(sec.Keys[id], s.PINBound)
			if err != nil {
				return nil, fmt.Errorf("load card: slot %q: %w", id, err)
			}
			priv = tk
			alg, err = tk.algorithm()
		} else {
			priv, err = x509.ParsePKCS8PrivateKey(sec.Keys[id])
			if err != nil {
				return nil, fmt.Errorf("load card: slot %q: %w", id, err)
			}
			alg, err = algorithmOf(priv)
		}
		if err != nil || alg != s.Algorithm {
			return nil, fmt.Errorf("load card: slot %q: algorithm mismatch", id)
		}
		st.keys[byte(ref)] = &slotKey{alg: s.Algorithm, pinPolicy: s.PINPolicy, touchPolicy: s.TouchPolicy, origin: s.Origin, priv: priv}
	}
	for _, objs := range []map[string][]byte{pub.Objects, sec.Objects} {
		for id, v := range objs {
			tag, err := strconv.ParseUint(id, 16, 32)
			if err != nil {
				return nil, fmt.Errorf("load card: object %q: %w", id, err)
			}
			st.objects[uint32(tag)] = v
		}
	}
	return st, nil
}

func validCounter(c counter) bool {
	return c.Max >= 1 && c.Max <= 255 && c.Left >= 0 && c.Left <= c.Max
}
