package vcard

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
)

// Tags of the key templates (SP 800-73-4 part 2, 3.3.2; YubiKey extensions).
const (
	tagGenControl  = 0xAC
	tagAlgorithm   = 0x80
	tagPINPolicy   = 0xAA
	tagTouchPolicy = 0xAB
	tagPublicKey   = 0x7F49
	tagRSAModulus  = 0x81
	tagRSAExponent = 0x82
	tagECPoint     = 0x86
)

// generateKey creates a private key of the given algorithm.
func generateKey(alg Algorithm) (crypto.PrivateKey, error) {
	switch alg {
	case AlgECCP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgECCP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case AlgRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case AlgRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case AlgRSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case AlgEd25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case AlgX25519:
		return ecdh.X25519().GenerateKey(rand.Reader)
	}
	return nil, fmt.Errorf("generate key: unsupported algorithm %#x", byte(alg))
}

// algorithmOf returns the PIV algorithm of a private key.
func algorithmOf(priv crypto.PrivateKey) (Algorithm, error) {
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return AlgECCP256, nil
		case elliptic.P384():
			return AlgECCP384, nil
		}
	case *rsa.PrivateKey:
		switch k.N.BitLen() {
		case 2048:
			return AlgRSA2048, nil
		case 3072:
			return AlgRSA3072, nil
		case 4096:
			return AlgRSA4096, nil
		}
	case ed25519.PrivateKey:
		return AlgEd25519, nil
	case *ecdh.PrivateKey:
		if k.Curve() == ecdh.X25519() {
			return AlgX25519, nil
		}
	}
	return 0, fmt.Errorf("check key: unsupported key type %T", priv)
}

// publicKeyTemplate returns the content of the 7F49 template for a key.
func publicKeyTemplate(priv crypto.PrivateKey) []byte {
	switch k := priv.(type) {
	case *tpmKey:
		if e := tpmPublicKey(k); e != nil {
			return tlvBytes(tagECPoint, e.Bytes())
		}
		if r, ok := k.pub.(*rsa.PublicKey); ok {
			e := big.NewInt(int64(r.E)).Bytes()
			return appendTLV(tlvBytes(tagRSAModulus, r.N.Bytes()), tagRSAExponent, e)
		}
		return nil
	case *ecdsa.PrivateKey:
		pub, err := k.PublicKey.ECDH()
		if err != nil {
			return nil
		}
		return tlvBytes(tagECPoint, pub.Bytes())
	case *rsa.PrivateKey:
		e := big.NewInt(int64(k.E)).Bytes()
		return appendTLV(tlvBytes(tagRSAModulus, k.N.Bytes()), tagRSAExponent, e)
	case ed25519.PrivateKey:
		return tlvBytes(tagECPoint, k.Public().(ed25519.PublicKey))
	case *ecdh.PrivateKey:
		return tlvBytes(tagECPoint, k.PublicKey().Bytes())
	}
	return nil
}

// parsePolicies reads the optional PIN (AA) and touch (AB) policy elements
// and resolves defaults for slot ref.
func parsePolicies(items []tlv, ref byte) (pin, touch byte, good bool) {
	pin, touch = policyDefault, policyDefault
	if v, ok := find(items, tagPINPolicy); ok {
		if len(v) != 1 || v[0] > pinAlways {
			return 0, 0, false
		}
		pin = v[0]
	}
	if v, ok := find(items, tagTouchPolicy); ok {
		if len(v) != 1 || v[0] > touchCached {
			return 0, 0, false
		}
		touch = v[0]
	}
	if pin == policyDefault {
		pin = pinOnce
		if ref == slotCardAuth {
			pin = pinNever
		}
	}
	if touch == policyDefault {
		touch = touchNever
	}
	return pin, touch, true
}

// generate implements GENERATE ASYMMETRIC KEY PAIR.
func (c *Card) generate(cmd *command) response {
	if cmd.p1 != 0x00 || !asymmetricSlot(cmd.p2) {
		return status(swWrongP1P2)
	}
	if !c.sess.mgmtAuthed {
		return status(swSecurityNotSatisfied)
	}
	ctl, err := parseOne(cmd.data, tagGenControl)
	if err != nil {
		return status(swWrongData)
	}
	items, err := parseTLVs(ctl)
	if err != nil {
		return status(swWrongData)
	}
	algB, ok := find(items, tagAlgorithm)
	if !ok || len(algB) != 1 {
		return status(swWrongData)
	}
	pin, touch, ok := parsePolicies(items, cmd.p2)
	if !ok {
		return status(swWrongData)
	}
	var priv crypto.PrivateKey
	if c.st.tpm != nil {
		priv, err = c.generateTPM(Algorithm(algB[0]), pin)
		if err != nil && !tpmAlgorithm(Algorithm(algB[0])) {
			return status(swWrongData)
		}
		if err != nil {
			return status(swUnknown)
		}
	} else if priv, err = generateKey(Algorithm(algB[0])); err != nil {
		return status(swWrongData)
	}
	c.st.keys[cmd.p2] = &slotKey{alg: Algorithm(algB[0]), pinPolicy: pin, touchPolicy: touch, origin: originGenerated, priv: priv}
	return reply(tlvBytes(tagPublicKey, publicKeyTemplate(priv)))
}

// importKey implements the YubiKey IMPORT ASYMMETRIC KEY command: P1 is the
// algorithm, P2 the slot, the data the private key components followed by
// the optional policies.
func (c *Card) importKey(cmd *command) response {
	if !asymmetricSlot(cmd.p2) {
		return status(swWrongP1P2)
	}
	if !c.sess.mgmtAuthed {
		return status(swSecurityNotSatisfied)
	}
	if c.st.tpm != nil {
		// A TPM card promises that its keys were made in the TPM.
		return status(swConditionsNotMet)
	}
	items, err := parseTLVs(cmd.data)
	if err != nil {
		return status(swWrongData)
	}
	alg := Algorithm(cmd.p1)
	priv, err := importPrivate(alg, items)
	if err != nil {
		return status(swWrongData)
	}
	pin, touch, ok := parsePolicies(items, cmd.p2)
	if !ok {
		return status(swWrongData)
	}
	c.st.keys[cmd.p2] = &slotKey{alg: alg, pinPolicy: pin, touchPolicy: touch, origin: originImported, priv: priv}
	return status(swOK)
}

// importPrivate rebuilds a private key from the YubiKey import format:
// RSA 01 P, 02 Q (the CRT values 03-05 are recomputed), EC 06 scalar,
// Ed25519 07 seed, X25519 08 scalar.
func importPrivate(alg Algorithm, items []tlv) (crypto.PrivateKey, error) {
	errBad := errors.New("import key: bad components")
	switch alg {
	case AlgECCP256, AlgECCP384:
		d, ok := find(items, 0x06)
		if !ok {
			return nil, errBad
		}
		curve := elliptic.P256()
		if alg == AlgECCP384 {
			curve = elliptic.P384()
		}
		if len(d) != (curve.Params().BitSize+7)/8 {
			return nil, errBad
		}
		return ecdsa.ParseRawPrivateKey(curve, d)
	case AlgRSA2048, AlgRSA3072, AlgRSA4096:
		pb, ok1 := find(items, 0x01)
		qb, ok2 := find(items, 0x02)
		if !ok1 || !ok2 || len(pb) == 0 || len(qb) == 0 {
			return nil, errBad
		}
		p, q := new(big.Int).SetBytes(pb), new(big.Int).SetBytes(qb)
		one := big.NewInt(1)
		e := big.NewInt(65537)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			return nil, errBad
		}
		k := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537},
			D:         d,
			Primes:    []*big.Int{p, q},
		}
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("import key: %w", err)
		}
		k.Precompute()
		if got, err := algorithmOf(k); err != nil || got != alg {
			return nil, errBad
		}
		return k, nil
	case AlgEd25519:
		seed, ok := find(items, 0x07)
		if !ok || len(seed) != ed25519.SeedSize {
			return nil, errBad
		}
		return ed25519.NewKeyFromSeed(seed), nil
	case AlgX25519:
		s, ok := find(items, 0x08)
		if !ok {
			return nil, errBad
		}
		return ecdh.X25519().NewPrivateKey(s)
	}
	return nil, errBad
}

// privateKeyOperation implements GENERAL AUTHENTICATE with a key in a slot:
// a signature or RSA decryption (81, challenge) or ECDH (85, exponentiation).
func (c *Card) privateKeyOperation(cmd *command) response {
	if !asymmetricSlot(cmd.p2) {
		return status(swWrongP1P2)
	}
	k := c.st.keys[cmd.p2]
	if k == nil {
		return status(swRefNotFound)
	}
	if Algorithm(cmd.p1) != k.alg {
		return status(swWrongData)
	}
	tmpl, err := parseOne(cmd.data, tagDynAuth)
	if err != nil {
		return status(swWrongData)
	}
	items, err := parseTLVs(tmpl)
	if err != nil || len(items) != 2 {
		return status(swWrongData)
	}
	if r, ok := find(items, tagResponse); !ok || len(r) != 0 {
		return status(swWrongData)
	}
	challenge, isSign := find(items, tagChallenge)
	peer, isECDH := find(items, tagExponent)
	if isSign == isECDH {
		return status(swWrongData)
	}

	switch k.pinPolicy {
	case pinOnce:
		if !c.sess.pinVerified {
			return status(swSecurityNotSatisfied)
		}
	case pinAlways:
		if !c.sess.pinFresh {
			return status(swSecurityNotSatisfied)
		}
	}
	// "Always" means one VERIFY per operation, whatever the outcome.
	c.sess.pinFresh = false

	var out []byte
	switch tk, inTPM := k.priv.(*tpmKey); {
	case inTPM && isSign:
		out, err = tk.sign(c.keyAuth(tk), challenge)
	case inTPM:
		out, err = tk.agree(c.keyAuth(tk), peer)
	case isSign:
		out, err = sign(k.priv, challenge)
	default:
		out, err = agree(k.priv, peer)
	}
	if err != nil {
		return status(swWrongData)
	}
	return reply(tlvBytes(tagDynAuth, tlvBytes(tagResponse, out)))
}

// sign applies the private key to input: ECDSA of a digest, Ed25519 of a
// message, or the raw RSA private key operation (the client pads).
func sign(priv crypto.PrivateKey, input []byte) ([]byte, error) {
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if len(input) == 0 || len(input) > 64 {
			return nil, errors.New("sign: bad digest length")
		}
		return ecdsa.SignASN1(rand.Reader, k, input)
	case ed25519.PrivateKey:
		return ed25519.Sign(k, input), nil
	case *rsa.PrivateKey:
		return rsaRaw(k, input)
	}
	return nil, errors.New("sign: key cannot sign")
}

// agree performs ECDH with the peer's public point and returns the shared
// secret (the x coordinate for the NIST curves).
func agree(priv crypto.PrivateKey, point []byte) ([]byte, error) {
	var own *ecdh.PrivateKey
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		var err error
		if own, err = k.ECDH(); err != nil {
			return nil, fmt.Errorf("agree: %w", err)
		}
	case *ecdh.PrivateKey:
		own = k
	default:
		return nil, errors.New("agree: key cannot do ECDH")
	}
	peer, err := own.Curve().NewPublicKey(point)
	if err != nil {
		return nil, fmt.Errorf("agree: %w", err)
	}
	return own.ECDH(peer)
}

// rsaRaw computes input^d mod n. The standard library offers no raw RSA
// private operation, so it is done with math/big, using the CRT, blinding
// against timing attacks and a check of the result against the public key
// against faults.
func rsaRaw(k *rsa.PrivateKey, input []byte) ([]byte, error) {
	size := k.Size()
	if len(input) != size {
		return nil, errors.New("rsa: input length is not the modulus length")
	}
	n := k.N
	m := new(big.Int).SetBytes(input)
	if m.Cmp(n) >= 0 {
		return nil, errors.New("rsa: input out of range")
	}
	if k.Precomputed.Dp == nil {
		k.Precompute()
	}
	e := big.NewInt(int64(k.E))
	var r, rInv *big.Int
	for {
		var err error
		r, err = rand.Int(rand.Reader, n)
		if err != nil {
			return nil, fmt.Errorf("rsa: %w", err)
		}
		if r.Sign() == 0 {
			continue
		}
		if rInv = new(big.Int).ModInverse(r, n); rInv != nil {
			break
		}
	}
	blinded := new(big.Int).Exp(r, e, n)
	blinded.Mul(blinded, m).Mod(blinded, n)

	p, q := k.Primes[0], k.Primes[1]
	m1 := new(big.Int).Exp(blinded, k.Precomputed.Dp, p)
	m2 := new(big.Int).Exp(blinded, k.Precomputed.Dq, q)
	h := m1.Sub(m1, m2)
	h.Mul(h, k.Precomputed.Qinv).Mod(h, p)
	s := h.Mul(h, q).Add(h, m2)
	s.Mul(s, rInv).Mod(s, n)

	if new(big.Int).Exp(s, e, n).Cmp(m) != 0 {
		return nil, errors.New("rsa: result failed verification")
	}
	return s.FillBytes(make([]byte, size)), nil
}

// Metadata tags of the YubiKey GET METADATA command.
const (
	mdAlgorithm = 0x01
	mdPolicy    = 0x02
	mdOrigin    = 0x03
	mdPublicKey = 0x04
	mdDefault   = 0x05
	mdRetries   = 0x06
)

// metadata implements the YubiKey GET METADATA command for the management
// key, the PIN, the PUK and the key slots.
func (c *Card) metadata(cmd *command) response {
	if cmd.p1 != 0x00 || len(cmd.data) != 0 {
		return status(swWrongP1P2)
	}
	var out []byte
	switch ref := cmd.p2; {
	case ref == slotManagement:
		isDefault := c.st.mgmtAlg == AlgAES192 && string(c.st.mgmtKey) == string(defaultManagementKey)
		out = appendTLV(out, mdAlgorithm, []byte{byte(c.st.mgmtAlg)})
		out = appendTLV(out, mdPolicy, []byte{policyDefault, touchNever})
		out = appendTLV(out, mdDefault, boolByte(isDefault))
	case ref == refPIN || ref == refPUK:
		tc, val, def := c.st.pinTry, c.st.pin, defaultPIN
		if ref == refPUK {
			tc, val, def = c.st.pukTry, c.st.puk, defaultPUK
		}
		defPadded, _ := padPIN(def)
		out = appendTLV(out, mdAlgorithm, []byte{byte(algPINOrPUK)})
		out = appendTLV(out, mdDefault, boolByte(c.st.refIsDefault(val, defPadded)))
		out = appendTLV(out, mdRetries, []byte{byte(tc.Max), byte(tc.Left)})
	case asymmetricSlot(ref) || ref == slotAttestation:
		k := c.st.keys[ref]
		if k == nil {
			return status(swRefNotFound)
		}
		out = appendTLV(out, mdAlgorithm, []byte{byte(k.alg)})
		out = appendTLV(out, mdPolicy, []byte{k.pinPolicy, k.touchPolicy})
		out = appendTLV(out, mdOrigin, []byte{k.origin})
		out = appendTLV(out, mdPublicKey, publicKeyTemplate(k.priv))
	default:
		return status(swRefNotFound)
	}
	return reply(out)
}

func boolByte(b bool) []byte {
	if b {
		return []byte{1}
	}
	return []byte{0}
}
